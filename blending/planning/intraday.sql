-- name: interval_arrivals
-- Tasks that arrived per type, local day ($3: the center's time zone) and interval of $4
-- minutes of that day, from $1 to $2; cancelled tasks were no work.
SELECT type, (created_at AT TIME ZONE $3)::date AS day,
       (extract(hour FROM created_at AT TIME ZONE $3)::int * 60
        + extract(minute FROM created_at AT TIME ZONE $3)::int) / $4::int AS slot,
       count(*) AS tasks
FROM tasks
WHERE created_at >= $1 AND created_at < $2 AND status <> 'cancelled'
GROUP BY 1, 2, 3;
