-- name: upsert_agent
-- Create or replace the agent; a deactivated agent is active again.
INSERT INTO agents AS a (agent_id, name, slack_user_id, team, cost_per_hour, queue, email)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (agent_id) DO UPDATE
SET name = excluded.name,
    slack_user_id = excluded.slack_user_id,
    team = excluded.team,
    cost_per_hour = excluded.cost_per_hour,
    queue = excluded.queue,
    email = excluded.email,
    deactivated_at = NULL,
    deactivated_by = NULL,
    updated_at = now()
RETURNING (xmax = 0) AS inserted;

-- name: deactivated_of
SELECT deactivated_at FROM agents WHERE agent_id = $1 FOR NO KEY UPDATE;

-- name: agent_event
INSERT INTO agent_events (agent_id, event, actor, detail) VALUES ($1, $2, $3, $4);

-- name: deactivate
-- Deactivate the agent $1 (the caller holds its row lock), with its event; no row when the
-- agent is missing or already deactivated.
WITH upd AS (
    UPDATE agents SET deactivated_at = now(), deactivated_by = $2, updated_at = now()
    WHERE agent_id = $1 AND deactivated_at IS NULL
    RETURNING agent_id
),
ev AS (
    INSERT INTO agent_events (agent_id, event, actor, detail)
    SELECT agent_id, 'deactivated', $2, jsonb_build_object('reason', $3::text) FROM upd
)
SELECT agent_id FROM upd;

-- name: open_work_of
-- The agent's offers, work in progress and paused work, in order, locked.
SELECT id, status FROM tasks
WHERE holder = $1 AND status IN ('offered', 'in_progress', 'paused')
ORDER BY id
FOR UPDATE;

-- name: identities
-- Every active agent: what the roster sync matches (email) and fills (ids, by source; Slack's
-- as `slack`).
SELECT a.agent_id, a.email,
       coalesce((SELECT jsonb_object_agg(t.source, t.external_id)
                 FROM agent_telephony_ids t WHERE t.agent_id = a.agent_id), '{}')
       || CASE WHEN a.slack_user_id IS NULL THEN '{}'::jsonb
               ELSE jsonb_build_object('slack', a.slack_user_id) END AS ids
FROM agents a
WHERE a.deactivated_at IS NULL
ORDER BY a.agent_id;

-- name: held_ids
-- Who holds each id of the sources $1 (Slack's as `slack`), active agents or not.
SELECT t.source, t.external_id, t.agent_id FROM agent_telephony_ids t
WHERE t.source = ANY ($1::text[])
UNION ALL
SELECT 'slack', a.slack_user_id, a.agent_id FROM agents a
WHERE a.slack_user_id IS NOT NULL AND 'slack' = ANY ($1::text[]);

-- name: fill_telephony_id
-- Fill an empty telephony id of an active agent, never overwriting one nor taking another's:
-- no row when the agent has one for the source, the id is held, or the agent is deactivated.
WITH ins AS (
    INSERT INTO agent_telephony_ids (source, external_id, agent_id)
    SELECT $2, $3, a.agent_id FROM agents a
    WHERE a.agent_id = $1 AND a.deactivated_at IS NULL
    ON CONFLICT DO NOTHING
    RETURNING agent_id
),
ev AS (
    INSERT INTO agent_events (agent_id, event, actor, detail)
    SELECT agent_id, 'id_filled', $4,
           jsonb_build_object('source', $2::text, 'id', $3::text, 'email', $5::text)
    FROM ins
)
SELECT agent_id FROM ins;

-- name: fill_slack_user
-- Fill an active agent's empty Slack user id, unless another agent holds it.
WITH upd AS (
    UPDATE agents a SET slack_user_id = $2, updated_at = now()
    WHERE a.agent_id = $1 AND a.slack_user_id IS NULL AND a.deactivated_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM agents o WHERE o.slack_user_id = $2)
    RETURNING agent_id
),
ev AS (
    INSERT INTO agent_events (agent_id, event, actor, detail)
    SELECT agent_id, 'id_filled', $3,
           jsonb_build_object('source', 'slack', 'id', $2::text, 'email', $4::text)
    FROM upd
)
SELECT agent_id FROM upd;

-- name: replace_skills
-- The agent's skills become $2 with proficiencies $3: the others go, these are upserted. The
-- delete and the insert touch different rows, because the insert of one statement does not
-- see its own delete.
WITH gone AS (
    DELETE FROM agent_skills WHERE agent_id = $1 AND NOT (skill = ANY ($2::text[]))
)
INSERT INTO agent_skills AS k (agent_id, skill, proficiency)
SELECT $1, s.skill, s.proficiency
FROM unnest($2::text[], $3::smallint[]) AS s (skill, proficiency)
ON CONFLICT (agent_id, skill) DO UPDATE SET proficiency = excluded.proficiency;

-- name: delete_telephony_ids
DELETE FROM agent_telephony_ids WHERE agent_id = $1;

-- name: insert_telephony_ids
INSERT INTO agent_telephony_ids (source, external_id, agent_id)
SELECT t.source, t.external_id, $1
FROM unnest($2::text[], $3::text[]) AS t (source, external_id);

-- name: owner_of_slack_user
SELECT agent_id FROM agents WHERE slack_user_id = $1 AND agent_id <> $2;

-- name: owner_of_telephony_id
SELECT source, external_id, agent_id
FROM agent_telephony_ids
WHERE (source, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
  AND agent_id <> $3
LIMIT 1;

-- name: list_agents
SELECT a.*, a.deactivated_at IS NULL AS active,
       coalesce((SELECT jsonb_object_agg(s.skill, s.proficiency)
                 FROM agent_skills s WHERE s.agent_id = a.agent_id), '{}') AS skills,
       coalesce((SELECT jsonb_object_agg(t.source, t.external_id)
                 FROM agent_telephony_ids t WHERE t.agent_id = a.agent_id), '{}') AS telephony_ids
FROM agents a
WHERE ($1::text IS NULL OR a.agent_id > $1)
  AND ($2::text[] IS NULL OR a.agent_id = ANY ($2))
ORDER BY a.agent_id
LIMIT $3;

-- name: record_sync
INSERT INTO roster_syncs (at, actor, matched, filled, conflicts, unmatched, failed, report)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id;

-- name: last_sync
SELECT max(at) FROM roster_syncs WHERE actor = $1;

-- name: set_recognition
-- Turn the agent $1's recognition on or off ($2) by $3, with its event; no row when the agent
-- is missing or it was already so.
WITH upd AS (
    UPDATE agents SET recognition = $2, updated_at = now()
    WHERE agent_id = $1 AND recognition <> $2
    RETURNING agent_id
),
ev AS (
    INSERT INTO agent_events (agent_id, event, actor)
    SELECT agent_id, CASE WHEN $2 THEN 'recognition_on' ELSE 'recognition_off' END, $3 FROM upd
)
SELECT agent_id FROM upd;

-- name: recognition_of
SELECT recognition FROM agents WHERE agent_id = $1;
