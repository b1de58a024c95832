-- The global task list: task types, agents and their skills, tasks, and the task event log.

CREATE TABLE task_types (
    name text PRIMARY KEY,
    skills text[] NOT NULL DEFAULT '{}',
    sla_minutes integer NOT NULL CHECK (sla_minutes > 0),
    handle_minutes double precision NOT NULL CHECK (handle_minutes > 0),
    pausable boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
    agent_id text PRIMARY KEY,
    name text NOT NULL,
    slack_user_id text UNIQUE,
    team text,
    cost_per_hour double precision CHECK (cost_per_hour >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_skills (
    agent_id text NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    skill text NOT NULL,
    proficiency smallint NOT NULL CHECK (proficiency BETWEEN 1 AND 5),
    PRIMARY KEY (agent_id, skill)
);
CREATE INDEX agent_skills_by_skill ON agent_skills (skill, proficiency);

-- One row per (telephony source, that source's id of the agent): Amazon Connect agent ARN,
-- Twilio WorkerSid, Genesys user id, Asterisk queue member interface.
CREATE TABLE agent_telephony_ids (
    source text NOT NULL,
    external_id text NOT NULL,
    agent_id text NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    PRIMARY KEY (source, external_id),
    UNIQUE (agent_id, source)
);

CREATE TABLE tasks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL,
    external_id text NOT NULL,
    type text NOT NULL REFERENCES task_types (name),
    title text NOT NULL,
    customer_ref text,
    customer_tier text,
    value double precision,
    payload jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'queued' CHECK (status IN (
        'queued', 'offered', 'in_progress', 'paused', 'escalated', 'done', 'cancelled'
    )),
    holder text REFERENCES agents (agent_id),
    due_at timestamptz NOT NULL,
    -- sha256 of the intake request as first received: a repeated delivery must match it.
    request_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasks_source_external_id UNIQUE (source, external_id)
);
CREATE INDEX tasks_by_customer ON tasks (customer_ref, id) WHERE customer_ref IS NOT NULL;
CREATE INDEX tasks_by_status ON tasks (status, id);
CREATE INDEX tasks_by_type ON tasks (type, status, id);
CREATE INDEX tasks_by_holder ON tasks (holder) WHERE holder IS NOT NULL;

-- Every step of every task: appended in the same transaction as the state change it records.
CREATE TABLE task_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    event text NOT NULL,
    from_status text,
    to_status text,
    actor text NOT NULL,
    reason text,
    data jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX task_events_by_task ON task_events (task_id, id);

CREATE FUNCTION task_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'task_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER task_events_append_only
    BEFORE UPDATE OR DELETE ON task_events
    FOR EACH ROW EXECUTE FUNCTION task_events_append_only();
CREATE TRIGGER task_events_no_truncate
    BEFORE TRUNCATE ON task_events
    FOR EACH STATEMENT EXECUTE FUNCTION task_events_append_only();
