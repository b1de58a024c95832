-- name: site_of
-- The site a blending event e belongs to: its agent a's, or for one about a group alone its
-- queue's; 'default' for no site.
CASE WHEN e.agent_id IS NOT NULL THEN coalesce(a.site_id, 'default')
     ELSE coalesce((SELECT q.site_id FROM queue_sites q WHERE q.queue = e.grp), 'default') END

-- name: recent
-- The blending events newest first, at most $5, of group $1, agent $2, events $3, before id $4,
-- at or after $6 (each filter NULL: any); with the agent's name. Site form: of site $7 only.
SELECT e.id, e.at, e.event, e.grp, e.agent_id, a.name AS agent_name, e.task_id, e.reason,
       e.actor, e.figures
FROM blending_events e
LEFT JOIN agents a ON a.agent_id = e.agent_id
WHERE ($1::text IS NULL OR e.grp = $1)
  AND ($2::text IS NULL OR e.agent_id = $2)
  AND ($3::text[] IS NULL OR e.event = ANY ($3::text[]))
  AND ($4::bigint IS NULL OR e.id < $4)
  AND ($6::timestamptz IS NULL OR e.at >= $6)
  -- site: AND {site_of} = $7::text
ORDER BY e.id DESC
LIMIT $5;
