-- name: arrivals
-- Tasks that arrived per type and local day ($3: the center's time zone) from $1 to $2;
-- cancelled tasks were no work.
SELECT type, (created_at AT TIME ZONE $3)::date AS day, count(*) AS tasks
FROM tasks
WHERE created_at >= $1 AND created_at < $2 AND status <> 'cancelled'
GROUP BY type, day
ORDER BY type, day;

-- name: types
SELECT name, skills, sla_minutes, handle_minutes, steps FROM task_types ORDER BY name;

-- name: handle_minutes
-- The mean active minutes per completed (type, step) since $1, from the completions' events.
SELECT t.type, (e.data ->> 'step')::int AS step, count(*) AS completed,
       avg((e.data ->> 'worked_seconds')::float8) / 60 AS minutes
FROM task_events e
JOIN tasks t ON t.id = e.task_id
WHERE e.event IN ('completed', 'step_completed') AND e.at >= $1
  AND e.data ? 'step' AND jsonb_typeof(e.data -> 'worked_seconds') = 'number'
GROUP BY 1, 2;

-- name: backlog
-- Open tasks: what is left of their work is the current step's remainder and the later steps.
SELECT t.id, t.type, t.title, t.step, t.status, t.holder, t.created_at, t.due_at,
       t.active_seconds
         + coalesce(extract(epoch FROM $1::timestamptz - t.active_since)::float8, 0)
         AS worked_seconds
FROM tasks t
WHERE t.status IN ('queued', 'offered', 'in_progress', 'paused', 'escalated')
ORDER BY t.due_at, t.id;

-- name: staff
-- Every active agent: the queue they answer, their team, site and skills.
SELECT a.agent_id, a.queue, a.team, a.site_id,
       coalesce(array_agg(s.skill) FILTER (WHERE s.skill IS NOT NULL), '{}') AS skills
FROM agents a LEFT JOIN agent_skills s ON s.agent_id = a.agent_id
WHERE a.deactivated_at IS NULL
GROUP BY a.agent_id, a.queue, a.team, a.site_id
ORDER BY a.agent_id;

-- name: recent_arrivals
-- Tasks that arrived per type from $1 to $2 (a site's share of the work is split by them).
SELECT type, count(*) AS tasks
FROM tasks
WHERE created_at >= $1 AND created_at < $2 AND status <> 'cancelled'
GROUP BY type;

-- name: schedules
SELECT agent_id, kind, starts_at, ends_at FROM agent_schedules
WHERE ends_at > $1 AND starts_at < $2
ORDER BY agent_id, starts_at;

-- name: call_queues
SELECT DISTINCT queue FROM interval_stats ORDER BY queue;

-- name: call_history
SELECT interval_start, offered AS calls,
       CASE WHEN handled > 0 THEN handle_seconds / handled END AS aht_seconds, minutes
FROM interval_stats
WHERE queue = $1 AND interval_start >= $2
ORDER BY interval_start;
