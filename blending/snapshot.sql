-- name: agents
-- Every active agent (not deactivated) with a queue, skills, back-office minutes today and the work they hold: an open
-- offer, or a task in progress with when it should end and whether it may be paused.
SELECT a.agent_id, a.queue,
       coalesce((SELECT jsonb_object_agg(s.skill, s.proficiency)
                 FROM agent_skills s WHERE s.agent_id = a.agent_id), '{}') AS skills,
       coalesce((SELECT sum(h.day_seconds) / 60 FROM handle_times h
                 WHERE h.agent_id = a.agent_id AND h.day = now()::date), 0) AS minutes_today,
       EXISTS (SELECT 1 FROM tasks t WHERE t.holder = a.agent_id AND t.status = 'offered'
               AND t.offer_expires_at > now()) AS offered,
       w.work_end, w.pausable, acd_mode(a.queue) = 'interruptible' AS interruptible
FROM agents a
LEFT JOIN LATERAL (
    -- The rest of the step's expected time, from when this stretch of work began: the
    -- holder's active time on it so far (pauses excluded) is already spent.
    SELECT t.active_since
               + make_interval(secs => 60 * step_minutes(tt.steps, t.step, tt.handle_minutes)
                                       - t.active_seconds)
               AS work_end,
           tt.pausable
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.holder = a.agent_id AND t.status = 'in_progress'
    ORDER BY t.active_since LIMIT 1
) w ON true
WHERE a.deactivated_at IS NULL
ORDER BY a.agent_id;

-- name: schedules
SELECT agent_id, kind, starts_at, ends_at FROM agent_schedules
WHERE ends_at > $1 AND starts_at < $2
ORDER BY agent_id, starts_at;

-- name: forecasts
SELECT queue, interval_start, minutes, mean, aht_seconds, agents, agents_high
FROM queue_forecasts
WHERE interval_start + make_interval(mins => minutes) > $1 AND interval_start < $2
ORDER BY queue, interval_start;

-- name: recent_service
-- Per queue, the calls settled in the intervals of the last $2 seconds and how many of them
-- were answered within target; and when a call was last seen arriving.
SELECT n.queue,
       coalesce(sum(s.answered + s.abandoned), 0) AS settled,
       coalesce(sum(s.answered_in_sl), 0) AS in_target,
       (SELECT max(c.arrived_at) FROM telephony_calls c WHERE c.queue = n.queue) AS last_call
FROM (SELECT DISTINCT queue FROM interval_stats) n
LEFT JOIN interval_stats s
       ON s.queue = n.queue AND NOT s.imported
      AND s.interval_start + make_interval(mins => s.minutes) > $1::timestamptz - make_interval(secs => $2)
GROUP BY n.queue;
