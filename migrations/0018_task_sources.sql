-- Task sources: ticketing systems, CRMs and mailboxes whose work becomes tasks, and the outbox
-- of what goes back to them (task_sources/).
--
-- A source's tasks are the tasks whose `source` is the source's name; their `external_id` is
-- the vendor's id of the record (tasks_source_external_id keeps one task per record).

-- One row per configured source. `secret` (what the vendor signs its deliveries with, or the
-- token we issued it) and `credentials` (what blendbot calls the vendor's API with) are never
-- returned by the API. `mapping` holds the source's own CEL expressions, which take the place
-- of the kind's defaults field by field; `write_back` the kind's write-back settings.
CREATE TABLE sources (
    name text PRIMARY KEY,
    kind text NOT NULL,
    secret text,
    api_url text,
    credentials jsonb NOT NULL DEFAULT '{}',
    mapping jsonb NOT NULL DEFAULT '{}',
    write_back jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every delivery a source made that was applied, by the vendor's delivery id: a delivery
-- repeated by the vendor (a retry, a replay) is found here and changes nothing.
CREATE TABLE source_deliveries (
    source text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    delivery_id text NOT NULL,
    action text NOT NULL CHECK (action IN ('upsert', 'close')),
    outcome text NOT NULL,
    task_id bigint REFERENCES tasks (id),
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, delivery_id)
);

-- Deliveries that authenticated but could not be made into a task, with the reason, kept to be
-- mapped again once the mapping (or the task type) is fixed. `body` and `headers` are what the
-- connector reads again; `event` is what the mapping saw, when the body could be read at all.
CREATE TABLE source_rejects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    delivery_id text NOT NULL,
    action text CHECK (action IN ('upsert', 'close')),
    headers jsonb NOT NULL DEFAULT '{}',
    body bytea NOT NULL,
    event jsonb,
    reason text NOT NULL,
    field text,
    times integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_at timestamptz NOT NULL DEFAULT now(),
    -- Set when a retry made it into a task (or found it already applied).
    retried_at timestamptz,
    task_id bigint REFERENCES tasks (id),
    UNIQUE (source, delivery_id)
);
CREATE INDEX source_rejects_open ON source_rejects (source, id DESC);

-- The write-back outbox: one row per lifecycle event of a source's task that goes back to the
-- source, written by the trigger below in the transaction of the event itself. `pending` until
-- the vendor took it (`done`) or it was given up (`failed`). The idempotency key is one per
-- event, sent where the vendor takes one; the row is sent until it is done, once.
CREATE TABLE source_writebacks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    task_id bigint NOT NULL REFERENCES tasks (id),
    task_event bigint NOT NULL UNIQUE,
    event text NOT NULL
        CHECK (event IN ('claimed', 'step_completed', 'completed', 'escalated', 'cancelled')),
    idempotency_key text NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz,
    leased_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz
);
CREATE INDEX source_writebacks_pending ON source_writebacks (id) WHERE status = 'pending';
CREATE INDEX source_writebacks_by_task ON source_writebacks (task_id, id);

-- What a task event means to its source: NULL for the events that do not go back.
CREATE FUNCTION source_event_kind(event text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE event
        WHEN 'claimed' THEN 'claimed'
        WHEN 'reassigned' THEN 'claimed'
        WHEN 'step_completed' THEN 'step_completed'
        WHEN 'completed' THEN 'completed'
        WHEN 'escalated' THEN 'escalated'
        WHEN 'cancelled' THEN 'cancelled'
    END
$$;

-- Queue the write-back of a task event, whatever wrote it (the API, Slack, the timers): when the
-- task came from a configured source whose `write_back.events` (all five when unset) names the
-- event. A cancellation the source itself asked for is not sent back to it.
CREATE FUNCTION source_write_back() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event_kind text := source_event_kind(NEW.event);
BEGIN
    INSERT INTO source_writebacks (source, task_id, task_event, event, idempotency_key, payload)
    SELECT s.name, t.id, NEW.id, event_kind, 'blendbot-' || s.name || '-' || NEW.id,
           jsonb_build_object(
               'task_id', t.id, 'external_id', t.external_id, 'type', t.type,
               'title', t.title, 'status', NEW.to_status, 'at', NEW.at, 'actor', NEW.actor,
               'reason', NEW.reason, 'outcome', NEW.data ->> 'outcome',
               'step', coalesce((NEW.data ->> 'step')::int, t.step),
               'steps', (NEW.data ->> 'steps')::int,
               'holder', t.holder, 'payload', t.payload)
    FROM tasks t
    JOIN sources s ON s.name = t.source
    WHERE t.id = NEW.task_id
      AND NOT (event_kind = 'cancelled' AND NEW.actor = 'source:' || s.name)
      AND coalesce(s.write_back -> 'events',
                   '["claimed", "step_completed", "completed", "escalated", "cancelled"]')
          ? event_kind;
    RETURN NULL;
END;
$$;

CREATE TRIGGER source_write_back
    AFTER INSERT ON task_events
    FOR EACH ROW
    WHEN (NEW.event IN ('claimed', 'reassigned', 'step_completed', 'completed', 'escalated',
                        'cancelled'))
    EXECUTE FUNCTION source_write_back();
