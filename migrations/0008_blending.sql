-- Blending: the inbound queue each agent answers, the agents a forecast needs at its higher
-- bound, the real-time guard's state per staffing group, and recalls with their log.

ALTER TABLE agents ADD COLUMN queue text;

ALTER TABLE queue_forecasts ADD COLUMN agents_high integer;

CREATE TABLE blending_guard (
    grp text PRIMARY KEY,
    mode text NOT NULL CHECK (mode IN ('open', 'hold', 'recall')),
    since timestamptz,
    calm_since timestamptz,
    reason text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- An agent asked back to the phones: offered no back-office work until the guard clears.
CREATE TABLE blending_recalls (
    agent_id text PRIMARY KEY REFERENCES agents (agent_id) ON DELETE CASCADE,
    grp text NOT NULL,
    reason text NOT NULL,
    recalled_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blending_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    event text NOT NULL CHECK (event IN ('recalled', 'recall_cleared', 'guard')),
    grp text NOT NULL,
    agent_id text,
    reason text
);
CREATE INDEX blending_events_by_time ON blending_events (at);
