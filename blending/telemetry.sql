-- name: insert_events
-- The events not seen before; the caller goes on with those only. The table is partitioned by
-- month of receipt (migrations/0027_monthly_partitions.sql): an id is looked for in every
-- month kept, and each month's own unique (source, event_id) settles two copies at once.
INSERT INTO telephony_events (source, event_id, type, at, received_at, external_agent, queue,
                              call_id, body)
SELECT $1, e.event_id, e.type, e.at, $2, e.external_agent, e.queue, e.call_id, e.body::jsonb
FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[],
            $9::text[]) AS e (event_id, type, at, external_agent, queue, call_id, body)
WHERE NOT EXISTS (SELECT 1 FROM telephony_events seen
                  WHERE seen.source = $1 AND seen.event_id = e.event_id)
ON CONFLICT DO NOTHING
RETURNING event_id;

-- name: claim_calls
-- Make sure every call has a row, so that the lock below also covers calls new to everyone.
INSERT INTO telephony_calls (source, call_id)
SELECT $1, c FROM unnest($2::text[]) AS c ORDER BY c
ON CONFLICT (source, call_id) DO NOTHING;

-- name: lock_calls
SELECT call_id, queue, arrived_at, answered_at, abandoned_at, ended_at, agent, wait_seconds,
       talk_seconds, hold_seconds, wrap_seconds
FROM telephony_calls
WHERE source = $1 AND call_id = ANY ($2::text[])
ORDER BY call_id
FOR UPDATE;

-- name: update_calls
UPDATE telephony_calls c
SET queue = u.queue, arrived_at = u.arrived_at, answered_at = u.answered_at,
    abandoned_at = u.abandoned_at, ended_at = u.ended_at, agent = u.agent,
    wait_seconds = u.wait_seconds, talk_seconds = u.talk_seconds,
    hold_seconds = u.hold_seconds, wrap_seconds = u.wrap_seconds, updated_at = now()
FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
            $7::timestamptz[], $8::text[], $9::float8[], $10::float8[], $11::float8[],
            $12::float8[])
     AS u (call_id, queue, arrived_at, answered_at, abandoned_at, ended_at, agent, wait_seconds,
           talk_seconds, hold_seconds, wrap_seconds)
WHERE c.source = $1 AND c.call_id = u.call_id;

-- name: add_interval_stats
-- Differences, in key order so that concurrent batches lock rows in the same order.
INSERT INTO interval_stats AS s (queue, interval_start, minutes, offered, answered, abandoned,
                                 answered_in_sl, handled, handle_seconds, wait_seconds)
SELECT d.queue, d.interval_start, $1, d.offered, d.answered, d.abandoned, d.answered_in_sl,
       d.handled, d.handle_seconds, d.wait_seconds
FROM unnest($2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::int[], $7::int[],
            $8::int[], $9::float8[], $10::float8[])
     AS d (queue, interval_start, offered, answered, abandoned, answered_in_sl, handled,
           handle_seconds, wait_seconds)
ORDER BY d.queue, d.interval_start
ON CONFLICT (queue, interval_start) DO UPDATE
SET offered = s.offered + excluded.offered,
    answered = s.answered + excluded.answered,
    abandoned = s.abandoned + excluded.abandoned,
    answered_in_sl = s.answered_in_sl + excluded.answered_in_sl,
    handled = s.handled + excluded.handled,
    handle_seconds = s.handle_seconds + excluded.handle_seconds,
    wait_seconds = s.wait_seconds + excluded.wait_seconds,
    updated_at = clock_timestamp();

-- name: upsert_presence
-- A state older than the one stored changes nothing but the last sighting. $8: whether these
-- lines changed state within their batch (then `since` is the batch's last change).
INSERT INTO telephony_presence AS p (source, external_id, state, reason, since, state_at,
                                     last_seen)
SELECT $1, u.external_id, u.state, u.reason, u.since, u.state_at, u.last_seen
FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
            $7::timestamptz[])
     AS u (external_id, state, reason, since, state_at, last_seen)
ORDER BY u.external_id
ON CONFLICT (source, external_id) DO UPDATE
SET state = CASE WHEN excluded.state_at >= p.state_at THEN excluded.state ELSE p.state END,
    reason = CASE WHEN excluded.state_at >= p.state_at THEN excluded.reason ELSE p.reason END,
    since = CASE
        WHEN excluded.state_at < p.state_at THEN p.since
        WHEN excluded.state <> p.state OR $8::bool THEN excluded.since
        ELSE p.since
    END,
    state_at = greatest(p.state_at, excluded.state_at),
    last_seen = greatest(p.last_seen, excluded.last_seen);

-- name: upsert_snapshots
INSERT INTO queue_snapshots AS q (queue, source, at, calls_waiting, longest_wait_seconds,
                                  agents_available, agents_on_calls)
SELECT s.queue, $1, s.at, s.calls_waiting, s.longest_wait_seconds, s.agents_available,
       s.agents_on_calls
FROM unnest($2::text[], $3::timestamptz[], $4::int[], $5::float8[], $6::int[], $7::int[])
     AS s (queue, at, calls_waiting, longest_wait_seconds, agents_available, agents_on_calls)
ORDER BY s.queue
ON CONFLICT (queue) DO UPDATE
SET source = excluded.source, at = excluded.at,
    calls_waiting = coalesce(excluded.calls_waiting, q.calls_waiting),
    longest_wait_seconds = coalesce(excluded.longest_wait_seconds, q.longest_wait_seconds),
    agents_available = coalesce(excluded.agents_available, q.agents_available),
    agents_on_calls = coalesce(excluded.agents_on_calls, q.agents_on_calls)
WHERE excluded.at >= q.at;

-- name: count_ignored
INSERT INTO telephony_ignored AS i (source, event_type, count, last_at)
SELECT $1, t.event_type, t.count, $2
FROM unnest($3::text[], $4::bigint[]) AS t (event_type, count)
ORDER BY t.event_type
ON CONFLICT (source, event_type) DO UPDATE
SET count = i.count + excluded.count, last_at = greatest(i.last_at, excluded.last_at);

-- name: touch_source
-- Last in a batch's transaction: every batch of a source updates this one row.
INSERT INTO telephony_sources AS s (source, last_seen, events, duplicates)
VALUES ($1, $2, $3, $4)
ON CONFLICT (source) DO UPDATE
SET last_seen = greatest(s.last_seen, excluded.last_seen),
    events = s.events + excluded.events,
    duplicates = s.duplicates + excluded.duplicates;

-- name: sources
SELECT source, last_seen, events, duplicates FROM telephony_sources ORDER BY source;

-- name: ignored
SELECT source, event_type, count, last_at FROM telephony_ignored ORDER BY source, event_type;

-- name: presence
-- Every agent, with the telephony lines mapped to them (a generic feed may name the agent by
-- the roster's own id), the schedule entries covering $1, and the work they hold.
WITH lines AS (
    SELECT t.agent_id, p.*
    FROM telephony_presence p
    JOIN agent_telephony_ids t ON t.source = p.source AND t.external_id = p.external_id
    UNION ALL
    SELECT a.agent_id, p.*
    FROM telephony_presence p
    JOIN agents a ON p.source = 'generic' AND a.agent_id = p.external_id
    WHERE NOT EXISTS (SELECT 1 FROM agent_telephony_ids t
                      WHERE t.source = 'generic' AND t.external_id = p.external_id)
)
SELECT a.agent_id,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'source', l.source, 'state', l.state, 'reason', l.reason,
                     'since', l.since, 'state_at', l.state_at, 'last_seen', l.last_seen))
                 FROM lines l WHERE l.agent_id = a.agent_id), '[]') AS lines,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'kind', s.kind, 'start', s.starts_at, 'end', s.ends_at))
                 FROM agent_schedules s
                 WHERE s.agent_id = a.agent_id AND s.starts_at <= $1 AND s.ends_at > $1),
                '[]') AS schedule,
       (SELECT min(coalesce(t.active_since, t.claimed_at, t.updated_at)) FROM tasks t
        WHERE t.holder = a.agent_id AND t.status = 'in_progress') AS on_task_since
FROM agents a
WHERE ($2::text[] IS NULL OR a.agent_id = ANY ($2))
ORDER BY a.agent_id;

-- name: unmatched
-- Telephony ids no agent has (yet): their state is kept and applies once one does.
SELECT p.source, p.external_id, p.state, p.since,
       (SELECT count(*) FROM telephony_events e
        WHERE e.source = p.source AND e.external_agent = p.external_id) AS events
FROM telephony_presence p
WHERE NOT EXISTS (SELECT 1 FROM agent_telephony_ids t
                  WHERE t.source = p.source AND t.external_id = p.external_id)
  AND NOT (p.source = 'generic' AND EXISTS (SELECT 1 FROM agents a
                                             WHERE a.agent_id = p.external_id))
ORDER BY p.source, p.external_id;

-- name: intervals
SELECT queue, interval_start, minutes, offered, answered, abandoned, answered_in_sl, handled,
       handle_seconds, wait_seconds, imported, updated_at
FROM interval_stats
WHERE queue = $1 AND interval_start >= $2 AND interval_start < $3
ORDER BY interval_start;

-- name: queues
-- Every queue seen, with the calls waiting in it now and the platform's last report.
WITH names AS (
    SELECT DISTINCT queue FROM interval_stats
    UNION SELECT queue FROM queue_snapshots
    UNION SELECT DISTINCT queue FROM telephony_calls
    WHERE queue IS NOT NULL AND answered_at IS NULL AND abandoned_at IS NULL
      AND ended_at IS NULL
)
SELECT n.queue,
       w.waiting, w.oldest,
       s.source, s.at, s.calls_waiting, s.longest_wait_seconds, s.agents_available,
       s.agents_on_calls
FROM names n
LEFT JOIN LATERAL (
    SELECT count(*) AS waiting, min(c.arrived_at) AS oldest
    FROM telephony_calls c
    WHERE c.queue = n.queue AND c.answered_at IS NULL AND c.abandoned_at IS NULL
      AND c.ended_at IS NULL AND c.arrived_at > $1
) w ON true
LEFT JOIN queue_snapshots s ON s.queue = n.queue
ORDER BY n.queue;

-- name: import_intervals
-- An export's figures replace whatever the interval held.
INSERT INTO interval_stats AS s (queue, interval_start, minutes, offered, answered, abandoned,
                                 answered_in_sl, handled, handle_seconds, wait_seconds, imported)
SELECT d.queue, d.interval_start, $1, d.offered, d.answered, d.abandoned, d.answered_in_sl,
       d.answered, d.handle_seconds, 0, true
FROM unnest($2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::int[], $7::int[],
            $8::float8[])
     AS d (queue, interval_start, offered, answered, abandoned, answered_in_sl, handle_seconds)
ORDER BY d.queue, d.interval_start
ON CONFLICT (queue, interval_start) DO UPDATE
SET minutes = excluded.minutes, offered = excluded.offered, answered = excluded.answered,
    abandoned = excluded.abandoned, answered_in_sl = excluded.answered_in_sl,
    handled = excluded.handled, handle_seconds = excluded.handle_seconds,
    wait_seconds = 0, imported = true, updated_at = clock_timestamp();

-- name: delete_schedule
DELETE FROM agent_schedules WHERE agent_id = $1 AND starts_at < $3 AND ends_at > $2;

-- name: insert_schedule
INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at)
SELECT $1, e.kind, e.starts_at, e.ends_at
FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS e (kind, starts_at, ends_at);

-- name: schedule
SELECT kind, starts_at AS start, ends_at AS "end"
FROM agent_schedules
WHERE agent_id = $1 AND ends_at > $2 AND starts_at < $3
ORDER BY starts_at;

-- name: agent_exists
SELECT EXISTS (SELECT 1 FROM agents WHERE agent_id = $1);

-- name: lock_agent
SELECT agent_id FROM agents WHERE agent_id = $1 FOR UPDATE;

-- name: set_aside
-- Records that could not be used, once each: a redelivery counts another sighting.
INSERT INTO telephony_rejected AS r (source, digest, reason, record, delivery, first_at, last_at)
SELECT $1, x.digest, x.reason, x.record, $3, $2, $2
FROM unnest($4::bytea[], $5::text[], $6::bytea[]) AS x (digest, reason, record)
ORDER BY x.digest
ON CONFLICT (source, digest) DO UPDATE
SET times = r.times + 1, last_at = greatest(r.last_at, excluded.last_at),
    reason = excluded.reason, delivery = coalesce(excluded.delivery, r.delivery);

-- name: rejected
-- The records set aside, the latest first.
SELECT source, reason, record, delivery, first_at, last_at, times
FROM telephony_rejected
WHERE $1::text IS NULL OR source = $1
ORDER BY last_at DESC, source, digest
LIMIT $2;
