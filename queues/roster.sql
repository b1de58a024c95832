-- name: upsert_agent
INSERT INTO agents AS a (agent_id, name, slack_user_id, team, cost_per_hour, queue)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (agent_id) DO UPDATE
SET name = excluded.name,
    slack_user_id = excluded.slack_user_id,
    team = excluded.team,
    cost_per_hour = excluded.cost_per_hour,
    queue = excluded.queue,
    updated_at = now()
RETURNING (xmax = 0) AS inserted;

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
SELECT a.*,
       coalesce((SELECT jsonb_object_agg(s.skill, s.proficiency)
                 FROM agent_skills s WHERE s.agent_id = a.agent_id), '{}') AS skills,
       coalesce((SELECT jsonb_object_agg(t.source, t.external_id)
                 FROM agent_telephony_ids t WHERE t.agent_id = a.agent_id), '{}') AS telephony_ids
FROM agents a
WHERE ($1::text IS NULL OR a.agent_id > $1)
  AND ($2::text[] IS NULL OR a.agent_id = ANY ($2))
ORDER BY a.agent_id
LIMIT $3;
