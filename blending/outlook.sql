-- name: staff
-- Every agent with the queue they answer and their skills.
SELECT a.agent_id, a.queue,
       coalesce(array_agg(s.skill) FILTER (WHERE s.skill IS NOT NULL), '{}') AS skills
FROM agents a LEFT JOIN agent_skills s ON s.agent_id = a.agent_id
WHERE a.deactivated_at IS NULL
GROUP BY a.agent_id, a.queue
ORDER BY a.agent_id;
