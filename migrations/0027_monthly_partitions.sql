-- Task events and raw feed events, the two tables that grow with every call and every click,
-- become partitioned by calendar month (UTC): retention drops a whole month's partition instead
-- of deleting rows, and each month's indexes stay the size of a month.
--
-- task_events is partitioned by `at` (when the event happened). PostgreSQL wants the partition
-- key in every unique constraint, so the primary key becomes (id, at); `id` still comes from
-- the table's identity, which goes on from where it was, and nothing references task_events.
--
-- telephony_events is partitioned by `received_at`, not by the event's own time `at`: a repeat
-- does not always carry the same `at` (Amazon Connect's contact events and contact records
-- both give `<contact>:QUEUED`, each with its own timestamp; an event without one takes its
-- envelope's time), so (source, event_id, at) would let a repeat through. Each partition keeps
-- (source, event_id) unique on its own, and the insert (blending/telemetry.sql) first looks
-- for the id in every partition: a repeat is a no-op whenever it comes, as before. The only
-- gap: two copies of one event delivered at the same instant across the turn of a month could
-- both land, one in each month. A repeat of an event whose month retention dropped is news
-- again, as it was when its row was deleted.
--
-- Each table has a DEFAULT partition, so an insert never fails for want of a month; the tick's
-- `partitions` job (bot/partitions.py) creates the coming months ahead and moves any rows the
-- default caught into their own month's partition, through ensure_month_partition below.

-- The month partition of `parent` (task_events or telephony_events) for the month holding
-- `month`, created if missing; true when this call created it. Rows of that month caught by
-- the default partition move into it first. Two callers at once: the advisory lock makes the
-- second wait and find the partition there.
CREATE FUNCTION ensure_month_partition(parent regclass, month timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    base text := (SELECT relname FROM pg_class WHERE oid = parent);
    first date := date_trunc('month', month, 'UTC')::date;
    name text := base || '_' || to_char(first, 'YYYY_MM');
    lo timestamptz := first::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (first + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    key text := CASE base WHEN 'task_events' THEN 'at' ELSE 'received_at' END;
    fallback text := base || '_default';
    caught boolean;
BEGIN
    IF base NOT IN ('task_events', 'telephony_events') THEN
        RAISE EXCEPTION 'ensure_month_partition: % is not partitioned by month', base;
    END IF;
    -- An arbitrary constant ("blend_pa" in ASCII) and the table.
    PERFORM pg_advisory_xact_lock(hashtext('blend_pa'), hashtext(base));
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   name, base);
    IF to_regclass(fallback) IS NOT NULL THEN
        -- Attaching would take this lock anyway; taken first, no row can land in the default
        -- between the move and the attach.
        EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', fallback);
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)',
                       fallback, key, key)
            INTO caught USING lo, hi;
        IF caught THEN
            -- task_events is append-only by trigger; moving rows between its partitions is
            -- not a change of history.
            EXECUTE format('ALTER TABLE %I DISABLE TRIGGER USER', fallback);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 '
                           'RETURNING *) INSERT INTO %I SELECT * FROM moved',
                           fallback, key, key, name)
                USING lo, hi;
            EXECUTE format('ALTER TABLE %I ENABLE TRIGGER USER', fallback);
        END IF;
    END IF;
    IF base = 'telephony_events' THEN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (source, event_id)', name || '_key', name);
    END IF;
    -- The table's indexes, foreign key and triggers come with the attach.
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   base, name, lo, hi);
    RETURN true;
END;
$$;

-- The month partitions of `parent` whose whole month ended at or before `cutoff`, dropped;
-- their names. The default partition is never dropped.
CREATE FUNCTION drop_month_partitions(parent regclass, cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    part text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('blend_pa'),
                                  hashtext((SELECT relname FROM pg_class WHERE oid = parent)));
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent
          AND c.relname ~ '_\d{4}_\d{2}$'
          AND (to_date(right(c.relname, 7), 'YYYY_MM') + interval '1 month')::timestamp
              AT TIME ZONE 'UTC' <= cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', part);
        RETURN NEXT part;
    END LOOP;
END;
$$;

-- Month partitions for every month with rows, and for this month and the next three.
CREATE FUNCTION month_partitions_for(base text, key text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m timestamptz;
BEGIN
    FOR m IN EXECUTE format(
        'SELECT DISTINCT date_trunc(''month'', %I, ''UTC'') FROM %I '
        'UNION SELECT date_trunc(''month'', now(), ''UTC'') + make_interval(months => n) '
        'FROM generate_series(0, 3) AS n', key, base || '_unpartitioned')
    LOOP
        PERFORM ensure_month_partition(base::regclass, m);
    END LOOP;
END;
$$;

-- task_events ---------------------------------------------------------------------------------
ALTER TABLE task_events RENAME TO task_events_unpartitioned;
ALTER INDEX task_events_by_task RENAME TO task_events_unpartitioned_by_task;
ALTER INDEX task_events_completions RENAME TO task_events_unpartitioned_completions;
ALTER INDEX task_events_by_actor RENAME TO task_events_unpartitioned_by_actor;
ALTER TABLE task_events_unpartitioned
    RENAME CONSTRAINT task_events_pkey TO task_events_unpartitioned_pkey;
ALTER TABLE task_events_unpartitioned
    RENAME CONSTRAINT task_events_task_id_fkey TO task_events_unpartitioned_task_id_fkey;
ALTER SEQUENCE task_events_id_seq RENAME TO task_events_unpartitioned_id_seq;

CREATE TABLE task_events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    task_id bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    event text NOT NULL,
    from_status text,
    to_status text,
    actor text NOT NULL,
    reason text,
    data jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (at);
CREATE TABLE task_events_default PARTITION OF task_events DEFAULT;
SELECT month_partitions_for('task_events', 'at');

-- The rows, with their ids; the identity goes on after the last id the old one gave.
INSERT INTO task_events OVERRIDING SYSTEM VALUE
SELECT id, task_id, at, event, from_status, to_status, actor, reason, data
FROM task_events_unpartitioned;
SELECT setval(pg_get_serial_sequence('task_events', 'id'), s.last_value, s.is_called)
FROM task_events_unpartitioned_id_seq s;

-- Indexes, key and triggers after the rows (built once, and no trigger fires for the move).
ALTER TABLE task_events ADD PRIMARY KEY (id, at);
ALTER TABLE task_events ADD FOREIGN KEY (task_id) REFERENCES tasks (id);
CREATE INDEX task_events_by_task ON task_events (task_id, id);
CREATE INDEX task_events_completions ON task_events (at)
    WHERE event IN ('completed', 'step_completed');
CREATE INDEX task_events_by_actor ON task_events (actor, id);
CREATE TRIGGER task_events_append_only
    BEFORE UPDATE OR DELETE ON task_events
    FOR EACH ROW EXECUTE FUNCTION task_events_append_only();
CREATE TRIGGER task_events_no_truncate
    BEFORE TRUNCATE ON task_events
    FOR EACH STATEMENT EXECUTE FUNCTION task_events_append_only();
CREATE TRIGGER source_write_back
    AFTER INSERT ON task_events
    FOR EACH ROW
    WHEN (NEW.event IN ('claimed', 'reassigned', 'step_completed', 'completed', 'escalated',
                        'cancelled')
          AND NOT NEW.data ? 'imported')
    EXECUTE FUNCTION source_write_back();

DROP TABLE task_events_unpartitioned;

-- telephony_events ----------------------------------------------------------------------------
ALTER TABLE telephony_events RENAME TO telephony_events_unpartitioned;
ALTER INDEX telephony_events_by_agent RENAME TO telephony_events_unpartitioned_by_agent;
ALTER INDEX telephony_events_by_received RENAME TO telephony_events_unpartitioned_by_received;
ALTER TABLE telephony_events_unpartitioned
    RENAME CONSTRAINT telephony_events_pkey TO telephony_events_unpartitioned_pkey;
ALTER TABLE telephony_events_unpartitioned
    RENAME CONSTRAINT telephony_events_sane_at TO telephony_events_unpartitioned_sane_at;

CREATE TABLE telephony_events (
    source text NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- The source's own id of the agent, kept even while no agent has it.
    external_agent text,
    queue text,
    call_id text,
    body jsonb NOT NULL,
    CONSTRAINT telephony_events_sane_at CHECK (sane_time(at))
) PARTITION BY RANGE (received_at);
CREATE TABLE telephony_events_default PARTITION OF telephony_events DEFAULT;
CREATE UNIQUE INDEX telephony_events_default_key ON telephony_events_default (source, event_id);
SELECT month_partitions_for('telephony_events', 'received_at');

INSERT INTO telephony_events
SELECT source, event_id, type, at, received_at, external_agent, queue, call_id, body
FROM telephony_events_unpartitioned;

CREATE INDEX telephony_events_by_agent ON telephony_events (source, external_agent)
    WHERE external_agent IS NOT NULL;
DROP TABLE telephony_events_unpartitioned;

DROP FUNCTION month_partitions_for(text, text);
