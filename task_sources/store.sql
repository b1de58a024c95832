-- The task sources' rows: configuration, applied deliveries, rejects (see
-- migrations/0018_task_sources.sql). The write-back outbox's queries are in outbox.sql.

-- name: get
SELECT * FROM sources WHERE name = $1;

-- name: all
SELECT * FROM sources ORDER BY name;

-- name: put
-- Create or replace a source; a secret or credentials left out ($3, $5 NULL) keep the stored.
INSERT INTO sources AS s (name, kind, secret, api_url, credentials, mapping, write_back)
VALUES ($1, $2, $3, $4, coalesce($5, '{}'::jsonb), $6, $7)
ON CONFLICT (name) DO UPDATE
SET kind = excluded.kind,
    secret = coalesce($3, s.secret),
    api_url = excluded.api_url,
    credentials = coalesce($5, s.credentials),
    mapping = excluded.mapping,
    write_back = excluded.write_back,
    updated_at = now()
RETURNING *, (xmax = 0) AS created;

-- name: delete
DELETE FROM sources WHERE name = $1 RETURNING *;

-- name: first_delivery
-- Record delivery $2 of source $1 as applied; no row when it was applied before (a repeat).
-- A concurrent delivery of the same id waits here for the first one's transaction.
INSERT INTO source_deliveries (source, delivery_id, action, outcome)
VALUES ($1, $2, $3, 'pending')
ON CONFLICT (source, delivery_id) DO NOTHING
RETURNING delivery_id;

-- name: newer_version
-- Record $3 as the latest version of record $2 of source $1 applied; no row when a version as
-- new or newer was applied before. A concurrent delivery of the record waits for this one.
INSERT INTO source_versions AS v (source, external_id, version)
VALUES ($1, $2, $3)
ON CONFLICT (source, external_id) DO UPDATE SET version = excluded.version
WHERE v.version < excluded.version
RETURNING version;

-- name: delivery_outcome
-- What the delivery did; a reject of it, kept earlier, is resolved by it.
WITH upd AS (
    UPDATE source_deliveries SET outcome = $3, task_id = $4
    WHERE source = $1 AND delivery_id = $2
)
UPDATE source_rejects SET retried_at = now(), task_id = $4
WHERE source = $1 AND delivery_id = $2 AND retried_at IS NULL;

-- name: keep_reject
-- Keep a delivery that could not be made into a task; the same delivery again counts again
-- ($9: 1 for the vendor's delivery, 0 for a retry of the reject).
INSERT INTO source_rejects AS r (source, delivery_id, action, headers, body, event, reason, field)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (source, delivery_id) DO UPDATE
SET action = excluded.action, headers = excluded.headers, body = excluded.body,
    event = excluded.event, reason = excluded.reason, field = excluded.field,
    times = r.times + $9::int, last_at = now(), retried_at = NULL, task_id = NULL
RETURNING id;

-- name: rejects
SELECT * FROM source_rejects
WHERE source = $1 AND ($2::boolean OR retried_at IS NULL) AND ($3::bigint IS NULL OR id < $3)
ORDER BY id DESC
LIMIT $4;

-- name: reject
SELECT * FROM source_rejects WHERE source = $1 AND id = $2;

-- name: reject_again
-- A retried reject that still fails: its new reason.
UPDATE source_rejects SET reason = $3, field = $4, last_at = now()
WHERE source = $1 AND id = $2;

-- name: first_deliveries
-- Record deliveries ($2: ids, $3: actions) of source $1 as applied, in the given order; the ids
-- returned are those not applied before (the others are repeats).
INSERT INTO source_deliveries (source, delivery_id, action, outcome)
SELECT $1, d.delivery_id, d.action, 'pending'
FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS d (delivery_id, action, n)
ORDER BY d.n
ON CONFLICT (source, delivery_id) DO NOTHING
RETURNING delivery_id;

-- name: forget_deliveries
-- Deliveries of source $1 that could not be made into tasks after all: not applied.
DELETE FROM source_deliveries WHERE source = $1 AND delivery_id = ANY($2::text[]);

-- name: delivery_outcomes
-- What each delivery ($2) of source $1 did ($3, task $4); rejects of them kept earlier are
-- resolved by them.
WITH d AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]) AS d (delivery_id, outcome, task_id)
),
upd AS (
    UPDATE source_deliveries s SET outcome = d.outcome, task_id = d.task_id
    FROM d
    WHERE s.source = $1 AND s.delivery_id = d.delivery_id
)
UPDATE source_rejects r SET retried_at = now(), task_id = d.task_id
FROM d
WHERE r.source = $1 AND r.delivery_id = d.delivery_id AND r.retried_at IS NULL;
