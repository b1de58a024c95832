-- name: recognition_days
-- Per agent taking part in recognition and local day (zone $3) of [$1, $2): the steps they
-- completed, their active time against the steps' standard, and how many were done within it.
SELECT x.agent_id, a.name, a.team, (x.at AT TIME ZONE $3::text)::date AS day,
       count(*) AS done,
       sum(x.worked)::float8 AS worked,
       sum(x.standard)::float8 AS standard,
       count(*) FILTER (WHERE x.worked <= x.standard) AS on_standard
FROM (
    SELECT e.actor AS agent_id, e.at,
           coalesce((e.data ->> 'worked_seconds')::float8, 0) AS worked,
           60 * step_minutes(tt.steps, coalesce((e.data ->> 'step')::int, 1), tt.handle_minutes)
               AS standard
    FROM task_events e
    JOIN tasks t ON t.id = e.task_id
    JOIN task_types tt ON tt.name = t.type
    WHERE e.event IN ('completed', 'step_completed')
      AND e.at >= $1::timestamptz AND e.at < $2::timestamptz
) x
JOIN agents a ON a.agent_id = x.agent_id AND a.recognition
GROUP BY x.agent_id, a.name, a.team, 4;
