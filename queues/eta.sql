-- What the ETA of a task is worked out from, and the SLA watch's candidates and memory.

-- name: queue_position
-- How many queued tasks of the same type and step are worked before task $1: a higher
-- priority, or the same and an older id (the order pick_for_agent takes them in; SLA top
-- share $2).
WITH me AS (
    SELECT t.id, t.type, t.step, tt.base_priority,
           tt.base_priority + t.rule_boost
               + sla_urgency(t.created_epoch, t.sla_seconds, date_part('epoch', now()), $2)
               AS priority
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.id = $1
)
SELECT count(*)::int
FROM me
JOIN tasks o ON o.status = 'queued' AND o.type = me.type AND o.step = me.step AND o.id <> me.id
WHERE (me.base_priority + o.rule_boost
       + sla_urgency(o.created_epoch, o.sla_seconds, date_part('epoch', now()), $2),
       -o.id) > (me.priority, -me.id);

-- name: completions
-- Completions of this type and step over the last $3 hours.
SELECT count(*)::int FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.event IN ('completed', 'step_completed') AND t.type = $1
  AND (e.data ->> 'step')::int = $2 AND e.at > now() - make_interval(hours => $3::int);

-- name: events_of
SELECT task_id, at, event, from_status, to_status
FROM task_events WHERE task_id = ANY ($1::bigint[])
ORDER BY task_id, id;

-- name: queued_groups
-- The (type, step) groups with queued tasks due between $1 and $2 that were not warned of.
SELECT tt.name AS type, g.step, tt.steps AS type_steps, tt.skills AS type_skills,
       tt.handle_minutes AS type_handle_minutes, tt.base_priority
FROM task_types tt
CROSS JOIN LATERAL generate_series(1, step_count(tt.steps)) AS g (step)
WHERE EXISTS (
    SELECT 1 FROM tasks t
    WHERE t.status = 'queued' AND t.type = tt.name AND t.step = g.step
      AND t.due_at > $1 AND t.due_at <= $2
)
ORDER BY tt.name, g.step;

-- name: queued_at_risk
-- The queue of one (type $1, step $2) in the order it is worked (as pick_for_agent ranks it,
-- base priority $3, SLA top share $4, at $5), each with how many are ahead of it; of those
-- due between $5 and $6 and not warned of yet, the $8 with the least slack first, slack being
-- the due time less a rough finish at $7 seconds a task.
WITH ranked AS (
    SELECT t.id, t.due_at,
           row_number() OVER (
               ORDER BY $3 + t.rule_boost
                        + sla_urgency(t.created_epoch, t.sla_seconds,
                                      date_part('epoch', $5::timestamptz), $4) DESC,
                        t.id
           ) - 1 AS ahead
    FROM tasks t
    WHERE t.status = 'queued' AND t.type = $1 AND t.step = $2
)
SELECT r.id, r.ahead, r.due_at
FROM ranked r
WHERE r.due_at > $5 AND r.due_at <= $6
  AND NOT EXISTS (SELECT 1 FROM eta_warnings w WHERE w.task_id = r.id)
ORDER BY date_part('epoch', r.due_at) - (r.ahead + 1) * $7::float8, r.id
LIMIT $8;

-- name: held_at_risk
-- Open tasks someone holds (or the supervisors), due between $1 and $2, not warned of yet;
-- the $3 due first.
SELECT t.*, tt.steps AS type_steps, tt.skills AS type_skills,
       tt.handle_minutes AS type_handle_minutes, tt.base_priority
FROM tasks t JOIN task_types tt ON tt.name = t.type
WHERE t.status IN ('offered', 'in_progress', 'paused', 'escalated')
  AND t.due_at > $1 AND t.due_at <= $2
  AND NOT EXISTS (SELECT 1 FROM eta_warnings w WHERE w.task_id = t.id)
ORDER BY t.due_at, t.id
LIMIT $3;

-- name: task_lines
SELECT id, type, title, customer_ref, status, holder, step FROM tasks
WHERE id = ANY ($1::bigint[]);

-- name: remember_warnings
-- The tasks warned of now; a task warned of before (by another instance too) is left out.
INSERT INTO eta_warnings (task_id, due_at, eta, basis)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::text[])
ON CONFLICT (task_id) DO NOTHING
RETURNING task_id;
