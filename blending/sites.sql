-- name: upsert_site
INSERT INTO sites AS s (site_id, name, time_zone)
VALUES ($1, $2, $3)
ON CONFLICT (site_id) DO UPDATE
SET name = excluded.name, time_zone = excluded.time_zone, updated_at = now()
RETURNING s.site_id, s.name, s.time_zone, s.created_at, s.updated_at, (xmax = 0) AS inserted;

-- name: get_site
SELECT site_id, name, time_zone, created_at, updated_at FROM sites WHERE site_id = $1;

-- name: list_sites
SELECT site_id, name, time_zone, created_at, updated_at FROM sites ORDER BY site_id;

-- name: site_members
SELECT
    ARRAY(SELECT agent_id FROM agents WHERE site_id = $1 ORDER BY agent_id) AS agents,
    ARRAY(SELECT queue FROM queue_sites WHERE site_id = $1 ORDER BY queue) AS queues;

-- name: site_exists
SELECT EXISTS (SELECT 1 FROM sites WHERE site_id = $1);

-- name: set_agent_site
UPDATE agents SET site_id = $2, updated_at = now() WHERE agent_id = $1
RETURNING agent_id;

-- name: set_queue_site
INSERT INTO queue_sites (queue, site_id) VALUES ($1, $2)
ON CONFLICT (queue) DO UPDATE SET site_id = excluded.site_id;

-- name: clear_queue_site
DELETE FROM queue_sites WHERE queue = $1;

-- name: record_change
INSERT INTO site_changes (site_id, action, subject, author, reason, change)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: changes
SELECT at, site_id, action, subject, author, reason, change FROM site_changes
WHERE ($1::text IS NULL OR site_id = $1)
ORDER BY id DESC
LIMIT $2;

-- name: agent_zone
SELECT s.time_zone FROM agents a JOIN sites s ON s.site_id = a.site_id WHERE a.agent_id = $1;

-- name: agent_zones
SELECT a.agent_id, s.time_zone FROM agents a JOIN sites s ON s.site_id = a.site_id
WHERE a.agent_id = ANY($1::text[]);

-- name: queue_zones
SELECT q.queue, s.time_zone FROM queue_sites q JOIN sites s ON s.site_id = q.site_id;

-- name: queue_sites
SELECT queue, site_id FROM queue_sites;

-- name: agents_of_site
-- The agents of a site; NULL: the agents in no site (the default site's).
SELECT agent_id FROM agents
WHERE site_id = $1 OR ($1::text IS NULL AND site_id IS NULL)
ORDER BY agent_id;
