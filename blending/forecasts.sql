-- name: queues_due
-- Queues with interval statistics whose forecast is missing, older than $1 seconds, or
-- behind by at least $2 intervals of new data.
WITH seen AS (
    SELECT queue, count(*) AS intervals, max(interval_start) AS latest
    FROM interval_stats GROUP BY queue
)
SELECT s.queue, s.intervals
FROM seen s LEFT JOIN forecast_runs r ON r.queue = s.queue
WHERE r.queue IS NULL
   OR r.computed_at < now() - make_interval(secs => $1)
   OR s.intervals - r.intervals_seen >= $2
ORDER BY s.queue;

-- name: history
SELECT interval_start, offered AS calls,
       CASE WHEN handled > 0 THEN handle_seconds / handled END AS aht_seconds, minutes
FROM interval_stats
WHERE queue = $1 AND interval_start >= $2
ORDER BY interval_start;

-- name: clear
DELETE FROM queue_forecasts WHERE queue = $1;

-- name: save_points
INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80, lo_95, hi_95,
                             aht_seconds, agents, agents_high)
SELECT $1, p.* FROM unnest($2::timestamptz[], $3::int[], $4::float8[], $5::float8[],
                           $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::int[],
                           $11::int[])
     AS p (interval_start, minutes, mean, lo_80, hi_80, lo_95, hi_95, aht_seconds, agents,
           agents_high);

-- name: save_run
INSERT INTO forecast_runs (queue, computed_at, origin, model, level_factor, intervals_seen,
                           error)
VALUES ($1, now(), $2, $3, $4, $5, $6)
ON CONFLICT (queue) DO UPDATE
SET computed_at = excluded.computed_at, origin = excluded.origin, model = excluded.model,
    level_factor = excluded.level_factor, intervals_seen = excluded.intervals_seen,
    error = excluded.error;

-- name: run_of
SELECT * FROM forecast_runs WHERE queue = $1;

-- name: points
SELECT interval_start, minutes, mean, lo_80, hi_80, lo_95, hi_95, aht_seconds, agents,
       agents_high
FROM queue_forecasts
WHERE queue = $1 AND interval_start >= $2
ORDER BY interval_start;

-- name: queue_known
SELECT EXISTS (SELECT 1 FROM interval_stats WHERE queue = $1);

-- name: summaries
-- Every queue's latest run (the failed ones last) and how many intervals it forecasts from $1.
SELECT r.queue, r.computed_at, r.error,
       (SELECT count(*) FROM queue_forecasts f
        WHERE f.queue = r.queue AND f.interval_start >= $1) AS intervals
FROM forecast_runs r
ORDER BY r.error IS NOT NULL, r.queue
LIMIT 100;
