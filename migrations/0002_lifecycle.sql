-- The task lifecycle: offers, steps, skips, and the timing factor of priorities.

ALTER TABLE task_types
    ADD COLUMN base_priority integer NOT NULL DEFAULT 0,
    -- Ordered steps: [{"name", "skills", "handle_minutes", "sla_share"}]; empty means one step
    -- made of the type's own skills and handle time.
    ADD COLUMN steps jsonb NOT NULL DEFAULT '[]';

ALTER TABLE tasks
    -- created_at and due_at as seconds since the epoch, set on insert: the queue orders by
    -- urgency computed from them, and float arithmetic over a whole queue is cheap.
    ADD COLUMN created_epoch double precision NOT NULL DEFAULT 0,
    ADD COLUMN sla_seconds double precision NOT NULL DEFAULT 0,
    ADD COLUMN step integer NOT NULL DEFAULT 1 CHECK (step >= 1),
    ADD COLUMN offer_expires_at timestamptz,
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN nudged_at timestamptz;

CREATE INDEX tasks_offers_by_expiry ON tasks (offer_expires_at) WHERE status = 'offered';

-- An agent who skipped a task is not offered it again until `until`.
CREATE TABLE task_skips (
    task_id bigint NOT NULL REFERENCES tasks (id),
    agent_id text NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    until timestamptz NOT NULL,
    PRIMARY KEY (task_id, agent_id)
);

-- How urgent a task is, from the share of its SLA already used: it climbs continuously
-- (quadratically, up to 100 at the due time) and past `top_share` it jumps to the top.
CREATE FUNCTION sla_urgency(created_epoch double precision, sla_seconds double precision,
                            now_epoch double precision, top_share double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN sla_seconds <= 0 THEN 1000::float8
        WHEN (now_epoch - created_epoch) / sla_seconds >= top_share THEN 1000::float8
        ELSE 100 * greatest(0::float8, (now_epoch - created_epoch) / sla_seconds) ^ 2
    END
$$;

-- Priority rules: business rules, written in CEL, that boost matching tasks.
CREATE TABLE priority_rules (
    name text PRIMARY KEY,
    expression text NOT NULL,
    boost integer NOT NULL,
    author text NOT NULL,
    reason text,
    until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every change of a rule, who made it and why.
CREATE TABLE priority_rule_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    name text NOT NULL,
    action text NOT NULL CHECK (action IN ('created', 'replaced', 'deleted')),
    author text NOT NULL,
    reason text,
    rule jsonb
);

-- The rules' part of a task's priority, kept by the ranker; the SLA part is computed when
-- the queue is read, so time passing rewrites no row.
ALTER TABLE tasks
    ADD COLUMN rule_boost integer NOT NULL DEFAULT 0,
    ADD COLUMN rule_reasons text[] NOT NULL DEFAULT '{}',
    ADD COLUMN ranked_at timestamptz;
-- The queue as matching reads it: per (type, step), with what the priority is computed from.
CREATE INDEX tasks_queued_by_type ON tasks (type, step)
    INCLUDE (id, created_epoch, sla_seconds, rule_boost) WHERE status = 'queued';
CREATE INDEX tasks_unranked ON tasks (id)
    WHERE ranked_at IS NULL AND status IN ('queued', 'offered', 'in_progress', 'paused', 'escalated');

-- Completed work per (agent, task type, step): the basis of handle-time estimates.
CREATE TABLE handle_times (
    agent_id text NOT NULL,
    type text NOT NULL,
    step integer NOT NULL,
    completed integer NOT NULL,
    total_seconds double precision NOT NULL,
    last_at timestamptz NOT NULL,
    -- Seconds of this work on `day`, for fairness between agents within a day.
    day date NOT NULL,
    day_seconds double precision NOT NULL,
    PRIMARY KEY (agent_id, type, step)
);
CREATE INDEX handle_times_by_type ON handle_times (type, step);
