-- The version of each source record last applied (its modification time at the source), for
-- vendors that deliver out of order (Salesforce retries a notification for 24 hours): a
-- delivery older than the one applied changes nothing (task_sources/intake.py).
CREATE TABLE source_versions (
    source text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
    external_id text NOT NULL,
    version timestamptz NOT NULL,
    PRIMARY KEY (source, external_id)
);
