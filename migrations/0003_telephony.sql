-- Telephony: normalized events, calls, interval statistics, presence and schedules.

-- Every event received, once: (source, event_id) makes a retried delivery a no-op.
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
    PRIMARY KEY (source, event_id)
);
CREATE INDEX telephony_events_by_agent ON telephony_events (source, external_agent)
    WHERE external_agent IS NOT NULL;

-- What each call's events add up to; folded in any order (see blending/interval_stats.py).
CREATE TABLE telephony_calls (
    source text NOT NULL,
    call_id text NOT NULL,
    queue text,
    arrived_at timestamptz,
    answered_at timestamptz,
    abandoned_at timestamptz,
    ended_at timestamptz,
    agent text,
    wait_seconds double precision,
    talk_seconds double precision,
    hold_seconds double precision,
    wrap_seconds double precision,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, call_id)
);
CREATE INDEX telephony_calls_waiting ON telephony_calls (queue, arrived_at)
    WHERE answered_at IS NULL AND abandoned_at IS NULL AND ended_at IS NULL;

-- Per queue per interval; events change it by differences, an import sets it.
CREATE TABLE interval_stats (
    queue text NOT NULL,
    interval_start timestamptz NOT NULL,
    minutes integer NOT NULL CHECK (minutes IN (5, 6, 10, 15, 30, 60)),
    offered integer NOT NULL DEFAULT 0,
    answered integer NOT NULL DEFAULT 0,
    abandoned integer NOT NULL DEFAULT 0,
    -- Unknown (NULL) for imported intervals whose export has no service level.
    answered_in_sl integer DEFAULT 0,
    handled integer NOT NULL DEFAULT 0,
    handle_seconds double precision NOT NULL DEFAULT 0,
    wait_seconds double precision NOT NULL DEFAULT 0,
    imported boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (queue, interval_start)
);

-- The last known state of each telephony id, whether or not an agent has it yet.
CREATE TABLE telephony_presence (
    source text NOT NULL,
    external_id text NOT NULL,
    state text NOT NULL,
    reason text,
    since timestamptz NOT NULL,
    state_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (source, external_id)
);

-- When each source last said anything (events or keep-alives), and what it sent.
CREATE TABLE telephony_sources (
    source text PRIMARY KEY,
    last_seen timestamptz NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0
);

-- Event types a source sent that this service does not use: counted, then dropped.
CREATE TABLE telephony_ignored (
    source text NOT NULL,
    event_type text NOT NULL,
    count bigint NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (source, event_type)
);

-- The live picture of each queue, as the platform last reported it.
CREATE TABLE queue_snapshots (
    queue text PRIMARY KEY,
    source text NOT NULL,
    at timestamptz NOT NULL,
    calls_waiting integer,
    longest_wait_seconds double precision,
    agents_available integer,
    agents_on_calls integer
);

CREATE TABLE agent_schedules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id text NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('shift', 'break')),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX agent_schedules_by_agent ON agent_schedules (agent_id, starts_at);
