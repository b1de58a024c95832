-- The simulation's figures of a run, read from the engine's tables.

-- name: sla_attainment
-- Of the tasks due between $1 and $2, how many were done by their due time.
SELECT count(*) AS due,
       count(*) FILTER (WHERE t.status = 'done' AND t.updated_at <= t.due_at) AS met
FROM tasks t
WHERE t.due_at >= $1 AND t.due_at < $2;

-- name: open_tasks
SELECT count(*) FROM tasks WHERE status NOT IN ('done', 'cancelled');

-- name: sla_attainment_of_source
-- The same, of the tasks from source $3 alone (a run's own work, not an imported history).
SELECT count(*) AS due,
       count(*) FILTER (WHERE t.status = 'done' AND t.updated_at <= t.due_at) AS met
FROM tasks t
WHERE t.due_at >= $1 AND t.due_at < $2 AND t.source = $3;
