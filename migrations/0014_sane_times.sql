-- Times from outside (feeds, imports, the API) must lie in a sane window: a call "arrived"
-- in year 1 or at -infinity breaks every reader that does arithmetic on it. The API and the
-- feeds refuse such times; these constraints make sure no path stores one, and the rows
-- stored before are set aside in the quarantine, with their reason, for a person to see.

-- Whether a time is finite and between 1970 and 2100 (or unknown). The bounds carry their
-- offset, so the result does not depend on the session's time zone.
CREATE FUNCTION sane_time(t timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT t IS NULL
        OR (isfinite(t)
            AND t >= '1970-01-01 00:00:00+00'::timestamptz
            AND t < '2100-01-01 00:00:00+00'::timestamptz)
$$;

-- Rows set aside because no job could use them: the table they came from, why, and the row.
CREATE TABLE quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    table_name text NOT NULL,
    reason text NOT NULL,
    row jsonb NOT NULL
);

WITH gone AS (DELETE FROM telephony_events WHERE NOT sane_time(at) RETURNING *)
INSERT INTO quarantine (table_name, reason, row)
SELECT 'telephony_events', 'event time ' || at::text || ' outside 1970-2100', to_jsonb(gone)
FROM gone;

WITH gone AS (
    DELETE FROM telephony_calls
    WHERE NOT (sane_time(arrived_at) AND sane_time(answered_at)
               AND sane_time(abandoned_at) AND sane_time(ended_at))
    RETURNING *
)
INSERT INTO quarantine (table_name, reason, row)
SELECT 'telephony_calls', 'a call time outside 1970-2100', to_jsonb(gone) FROM gone;

WITH gone AS (DELETE FROM interval_stats WHERE NOT sane_time(interval_start) RETURNING *)
INSERT INTO quarantine (table_name, reason, row)
SELECT 'interval_stats', 'interval start outside 1970-2100', to_jsonb(gone) FROM gone;

WITH gone AS (
    DELETE FROM telephony_presence
    WHERE NOT (sane_time(since) AND sane_time(state_at) AND sane_time(last_seen))
    RETURNING *
)
INSERT INTO quarantine (table_name, reason, row)
SELECT 'telephony_presence', 'a presence time outside 1970-2100', to_jsonb(gone) FROM gone;

WITH gone AS (DELETE FROM queue_snapshots WHERE NOT sane_time(at) RETURNING *)
INSERT INTO quarantine (table_name, reason, row)
SELECT 'queue_snapshots', 'snapshot time outside 1970-2100', to_jsonb(gone) FROM gone;

WITH gone AS (
    DELETE FROM agent_schedules WHERE NOT (sane_time(starts_at) AND sane_time(ends_at))
    RETURNING *
)
INSERT INTO quarantine (table_name, reason, row)
SELECT 'agent_schedules', 'a schedule time outside 1970-2100', to_jsonb(gone) FROM gone;

-- A task is never set aside (it is someone's request): an impossible due time is replaced by
-- its type's SLA from when it was created, with an event saying so.
WITH bad AS (
    SELECT t.id, t.status, t.due_at, t.created_at + make_interval(mins => tt.sla_minutes) AS due
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE NOT sane_time(t.due_at)
    FOR UPDATE OF t
),
fixed AS (
    UPDATE tasks t
    SET due_at = bad.due,
        sla_seconds = date_part('epoch', bad.due) - t.created_epoch,
        updated_at = now()
    FROM bad
    WHERE t.id = bad.id
    RETURNING t.id
)
INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
SELECT bad.id, 'corrected', bad.status, bad.status, 'system',
       'due time ' || bad.due_at::text || ' outside 1970-2100: set from the type''s SLA',
       jsonb_build_object('due_at', bad.due)
FROM bad JOIN fixed ON fixed.id = bad.id;

ALTER TABLE telephony_events ADD CONSTRAINT telephony_events_sane_at CHECK (sane_time(at));
ALTER TABLE telephony_calls ADD CONSTRAINT telephony_calls_sane_times
    CHECK (sane_time(arrived_at) AND sane_time(answered_at)
           AND sane_time(abandoned_at) AND sane_time(ended_at));
ALTER TABLE interval_stats ADD CONSTRAINT interval_stats_sane_start
    CHECK (sane_time(interval_start));
ALTER TABLE telephony_presence ADD CONSTRAINT telephony_presence_sane_times
    CHECK (sane_time(since) AND sane_time(state_at) AND sane_time(last_seen));
ALTER TABLE queue_snapshots ADD CONSTRAINT queue_snapshots_sane_at CHECK (sane_time(at));
ALTER TABLE agent_schedules ADD CONSTRAINT agent_schedules_sane_times
    CHECK (sane_time(starts_at) AND sane_time(ends_at));
ALTER TABLE tasks ADD CONSTRAINT tasks_sane_due CHECK (sane_time(due_at));
