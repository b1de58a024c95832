-- The blending engine's plan, kept between rounds so that whichever instance serves an agent
-- asking for work knows the time the agent has: the usable window granted to each agent, and
-- each staffing group's last verdict (why nobody, or nobody more, is lent).

CREATE TABLE blending_windows (
    agent_id text PRIMARY KEY REFERENCES agents (agent_id) ON DELETE CASCADE,
    grp text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    confidence double precision NOT NULL,
    decided_at timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);

CREATE TABLE blending_groups (
    grp text PRIMARY KEY,
    lent integer NOT NULL,
    surplus_now integer NOT NULL,
    reason text,
    decided_at timestamptz NOT NULL
);
