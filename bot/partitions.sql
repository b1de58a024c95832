-- name: ensure
-- The month partition of table $1 for the month holding $2 (migrations/0027); true when made.
SELECT ensure_month_partition($1::regclass, $2);

-- name: caught
-- The months of the rows the default partition of $1 caught, oldest first, at most $2.
SELECT DISTINCT date_trunc('month', at, 'UTC') AS month
FROM task_events_default WHERE $1 = 'task_events'
UNION
SELECT DISTINCT date_trunc('month', received_at, 'UTC')
FROM telephony_events_default WHERE $1 = 'telephony_events'
ORDER BY month
LIMIT $2;

-- name: drop_before
-- The month partitions of $1 whose whole month ended by $2, dropped; their names.
SELECT drop_month_partitions($1::regclass, $2) AS name;
