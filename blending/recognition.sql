-- name: recognition_days
-- Per agent taking part in recognition and local day (zone $3) of [$1, $2): the steps they
-- completed, their active time against the steps' standard, and how many were done within it;
-- local days $4 to $5 from their roll-up (agent_work_days), the rest from the task log.
SELECT x.agent_id, a.name, a.team, x.day,
       sum(x.steps_done)::bigint AS done,
       sum(x.worked)::float8 AS worked,
       sum(x.steps_done * 60 * step_minutes(tt.steps, x.step, tt.handle_minutes))::float8
           AS standard,
       sum(x.on_standard)::bigint AS on_standard
FROM (
    SELECT w.agent_id, w.type, w.step, w.day, w.steps_done, w.worked, w.on_standard
    FROM agent_work_days w
    WHERE w.zone = $3::text AND w.day BETWEEN $4::date AND $5::date
    UNION ALL
    SELECT w.agent_id, w.type, w.step, w.day, w.steps_done, w.worked, w.on_standard
    FROM work_rows($3::text, live_from($1::timestamptz, $3::text, $4::date, $5::date),
                   $2::timestamptz) w
) x
JOIN task_types tt ON tt.name = x.type
JOIN agents a ON a.agent_id = x.agent_id AND a.recognition
GROUP BY x.agent_id, a.name, a.team, x.day;
