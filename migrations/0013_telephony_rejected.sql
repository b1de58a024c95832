-- Telephony records that could not be used, set aside with the reason, so that one bad record
-- never sinks the valid ones delivered beside it (bot/http/feeds.py). A record is kept as the
-- bytes it arrived as, once: a redelivery of the same record counts another sighting.
CREATE TABLE telephony_rejected (
    source text NOT NULL,
    -- sha256 of the record's bytes.
    digest bytea NOT NULL,
    reason text NOT NULL,
    record bytea NOT NULL,
    -- The delivery it came in, when the sender names it (Firehose's request id).
    delivery text,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    times integer NOT NULL DEFAULT 1,
    PRIMARY KEY (source, digest)
);
CREATE INDEX telephony_rejected_recent ON telephony_rejected (last_at DESC);
