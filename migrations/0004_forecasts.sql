-- Forecasts per queue and interval, refreshed in the background and read by the API.

CREATE TABLE queue_forecasts (
    queue text NOT NULL,
    interval_start timestamptz NOT NULL,
    minutes integer NOT NULL,
    mean double precision NOT NULL,
    lo_80 double precision NOT NULL,
    hi_80 double precision NOT NULL,
    lo_95 double precision NOT NULL,
    hi_95 double precision NOT NULL,
    aht_seconds double precision,
    agents integer,
    PRIMARY KEY (queue, interval_start)
);

-- The last refresh of each queue: when, from which data, and why it failed if it did.
CREATE TABLE forecast_runs (
    queue text PRIMARY KEY,
    computed_at timestamptz NOT NULL,
    origin timestamptz,
    model text,
    level_factor double precision,
    intervals_seen integer NOT NULL,
    error text
);
