-- Each telephony line's seconds in each state per local day (in the zone the reports read
-- days in), for the days that are over: a report over a range reads one row per line, state
-- and day instead of every state report of the range, and only the last days live.
CREATE TABLE agent_state_days (
    zone text NOT NULL,
    day date NOT NULL,
    source text NOT NULL,
    external_agent text,
    state text,
    seconds numeric NOT NULL
);
CREATE INDEX agent_state_days_by_day ON agent_state_days (zone, day);

-- The days rolled up, even those without a report, so each is rolled up once.
CREATE TABLE agent_state_days_done (
    zone text NOT NULL,
    day date NOT NULL,
    PRIMARY KEY (zone, day)
);

-- The state reports by time, for the days read live: the index of 0025 went with the table
-- 0027 replaced by month partitions.
CREATE INDEX telephony_events_states_by_time ON telephony_events (at)
    WHERE type = 'agent_state';
