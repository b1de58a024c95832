-- Slack: the durable outbox, the messages it keeps up to date, event dedupe, supervisors, audit.

-- Web API calls owed to Slack, written in the same transaction as the state change they report.
-- A row with a `ref` is a card: the first send posts it, later sends update the same message.
CREATE TABLE slack_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('card', 'ephemeral', 'home')),
    ref text,
    target text NOT NULL,
    user_id text,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    next_at timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    sent_at timestamptz,
    outcome text CHECK (outcome IN ('sent', 'superseded', 'failed')),
    last_error text,
    CHECK (kind <> 'card' OR ref IS NOT NULL)
);
CREATE INDEX slack_outbox_due ON slack_outbox (next_at, id) WHERE sent_at IS NULL;
CREATE INDEX slack_outbox_by_ref ON slack_outbox (ref, id) WHERE sent_at IS NULL;

-- Where each card lives once posted: updates go to this (channel, ts), never a new post.
CREATE TABLE slack_messages (
    ref text PRIMARY KEY,
    channel text NOT NULL,
    ts text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The direct-message channel of each user, from conversations.open.
CREATE TABLE slack_dm_channels (
    user_id text PRIMARY KEY,
    channel text NOT NULL
);

-- Events API deliveries already handled: Slack retries a delivery it thinks failed.
CREATE TABLE slack_events_seen (
    event_id text PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now()
);

-- Members of the supervisors' user group, as last synced from Slack.
CREATE TABLE slack_supervisors (
    user_id text PRIMARY KEY,
    group_id text NOT NULL,
    synced_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE slack_group_syncs (
    group_id text PRIMARY KEY,
    synced_at timestamptz NOT NULL
);

-- Every supervisor action and every denial, with who, what and whether it was allowed.
CREATE TABLE slack_audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    user_id text NOT NULL,
    action text NOT NULL,
    allowed boolean NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX slack_audit_by_user ON slack_audit (user_id, id);
