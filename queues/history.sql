-- name: insert_closed
-- Closed tasks of an imported history, done since their completion; a key that exists is
-- skipped and reported by the caller. Their events and segments follow (insert_events,
-- insert_segments), as the lifecycle would have written them.
WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::float8[], $8::jsonb[], $9::timestamptz[], $10::text[], $11::timestamptz[],
                $12::timestamptz[], $13::int[])
         AS i (source, external_id, type, title, customer_ref, customer_tier, value, payload,
               due_at, request_hash, created_at, completed_at, steps)
)
INSERT INTO tasks (source, external_id, type, title, customer_ref, customer_tier, value,
                   payload, status, due_at, request_hash, created_at, updated_at,
                   created_epoch, sla_seconds, step, ranked_at)
SELECT i.source, i.external_id, i.type, i.title, i.customer_ref, i.customer_tier, i.value,
       i.payload, 'done', i.due_at, i.request_hash, i.created_at, i.completed_at,
       date_part('epoch', i.created_at), date_part('epoch', i.due_at) - date_part('epoch', i.created_at),
       i.steps, i.completed_at
FROM input i
ON CONFLICT (source, external_id) DO NOTHING
RETURNING id, source, external_id;

-- name: insert_events
-- A step's end carries its figures ($7: the step, NULL for other events), as `complete` writes.
INSERT INTO task_events (task_id, at, event, from_status, to_status, actor, data)
SELECT e.task_id, e.at, e.event, e.from_status, e.to_status, e.actor,
       CASE WHEN e.step IS NULL THEN '{"imported": true}'::jsonb
            ELSE jsonb_build_object('outcome', e.outcome, 'step', e.step, 'steps', e.steps,
                                    'worked_seconds', e.worked_seconds, 'imported', true) END
FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::int[], $8::int[], $9::float8[], $10::text[])
     AS e (task_id, at, event, from_status, to_status, actor, step, steps, worked_seconds,
           outcome);

-- name: insert_segments
INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by, ended_at, ended_by)
SELECT *
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::text[],
            $6::timestamptz[], $7::text[]);

-- name: learn_handle_times
-- What the completions taught, per (agent, type, step), added as the lifecycle adds each one.
INSERT INTO handle_times AS h (agent_id, type, step, completed, total_seconds, last_at, day,
                               day_seconds)
SELECT *
FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::float8[], $6::timestamptz[],
            $7::date[], $8::float8[])
ON CONFLICT (agent_id, type, step) DO UPDATE
SET completed = h.completed + excluded.completed,
    total_seconds = h.total_seconds + excluded.total_seconds,
    last_at = greatest(h.last_at, excluded.last_at),
    day_seconds = CASE WHEN h.day = excluded.day THEN h.day_seconds + excluded.day_seconds
                       WHEN h.day > excluded.day THEN h.day_seconds
                       ELSE excluded.day_seconds END,
    day = greatest(h.day, excluded.day);

-- name: types
SELECT name, sla_minutes, handle_minutes, steps FROM task_types;

-- name: roll_up_again
-- The steps done and the active time of every rolled-up local day (any zone) that a work
-- segment [$1, $2] reaches, rolled up again from the task log and the segments; returns how
-- many days.
WITH touched AS (
    SELECT DISTINCT z.zone, d::date AS day
    FROM (SELECT DISTINCT zone FROM agent_state_days_done) z,
         unnest($1::timestamptz[], $2::timestamptz[]) w (lo, hi),
         generate_series((w.lo AT TIME ZONE z.zone)::date, (w.hi AT TIME ZONE z.zone)::date,
                         interval '1 day') d
),
days AS (
    SELECT t.zone, t.day
    FROM touched t JOIN agent_state_days_done d ON d.zone = t.zone AND d.day = t.day
),
work_gone AS (
    DELETE FROM agent_work_days w USING days x WHERE w.zone = x.zone AND w.day = x.day
),
work_stored AS (
    INSERT INTO agent_work_days
    SELECT w.*
    FROM days x,
         LATERAL work_rows(x.zone, x.day::timestamp AT TIME ZONE x.zone,
                           (x.day + 1)::timestamp AT TIME ZONE x.zone) w
),
time_gone AS (
    DELETE FROM agent_time_days t USING days x WHERE t.zone = x.zone AND t.day = x.day
),
time_stored AS (
    INSERT INTO agent_time_days
    SELECT t.* FROM days x, LATERAL time_rows(x.zone, x.day, x.day, now()) t
)
SELECT count(*) FROM days;
