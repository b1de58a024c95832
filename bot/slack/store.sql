-- Slack's tables: the outbox, posted messages, event dedupe, supervisors and the audit log.

-- name: enqueue
INSERT INTO slack_outbox (kind, ref, target, user_id, body) VALUES ($1, $2, $3, $4, $5)
RETURNING id;

-- name: enqueue_file
INSERT INTO slack_outbox (kind, target, user_id, body, data) VALUES ('file', $1, $2, $3, $4)
RETURNING id;

-- name: file_state
SELECT sent_at, file_id, data FROM slack_outbox WHERE id = $1;

-- name: save_file_id
-- The file Slack holds for this row (uploaded, maybe not yet shared); NULL to upload afresh.
UPDATE slack_outbox SET file_id = $2 WHERE id = $1;

-- name: remember_message
INSERT INTO slack_messages (ref, channel, ts) VALUES ($1, $2, $3)
ON CONFLICT (ref) DO NOTHING;

-- name: message_of
SELECT channel, ts FROM slack_messages WHERE ref = $1;

-- name: lease_due
-- The newest unsent row of each card (older ones are superseded by it), and every other
-- unsent row, that is due and not leased; a card another worker is sending is left alone.
WITH newest AS (
    SELECT DISTINCT ON (coalesce(o.ref, o.id::text)) o.id
    FROM slack_outbox o
    WHERE o.sent_at IS NULL
      AND o.next_at <= now()
      AND (o.leased_until IS NULL OR o.leased_until < now())
      AND NOT EXISTS (
          SELECT 1 FROM slack_outbox l
          WHERE l.ref = o.ref AND l.sent_at IS NULL AND l.leased_until >= now()
      )
    ORDER BY coalesce(o.ref, o.id::text), o.id DESC
),
due AS (SELECT id FROM newest ORDER BY id LIMIT $1)
UPDATE slack_outbox o
SET leased_until = now() + make_interval(secs => $2), attempts = o.attempts + 1
FROM due
WHERE o.id = due.id AND o.sent_at IS NULL
  AND (o.leased_until IS NULL OR o.leased_until < now())
RETURNING o.id, o.kind, o.ref, o.target, o.user_id, o.body, o.attempts;

-- name: mark_sent
-- A row already marked (a file marks itself while it holds its lock) stays as it is; a file's
-- bytes are dropped once it is sent.
WITH sent AS (
    UPDATE slack_outbox SET sent_at = now(), outcome = 'sent', leased_until = NULL,
                            last_error = NULL, data = NULL
    WHERE id = $1 AND sent_at IS NULL
    RETURNING id, ref
)
UPDATE slack_outbox o SET sent_at = now(), outcome = 'superseded', leased_until = NULL
FROM sent
WHERE o.ref = sent.ref AND o.id < sent.id AND o.sent_at IS NULL;

-- name: retry_later
UPDATE slack_outbox
SET leased_until = NULL, next_at = now() + make_interval(secs => $2), last_error = $3
WHERE id = $1;

-- name: mark_failed
UPDATE slack_outbox
SET sent_at = now(), outcome = 'failed', leased_until = NULL, last_error = $2, data = NULL
WHERE id = $1;

-- name: lock_card
-- Held while a card is posted or updated, so that two senders (two instances) never post the
-- same card twice: the second waits, then finds the first one's message and updates it.
SELECT pg_advisory_lock(hashtextextended('slack-card:' || $1, 0));

-- name: unlock_card
SELECT pg_advisory_unlock(hashtextextended('slack-card:' || $1, 0));

-- name: save_message
INSERT INTO slack_messages (ref, channel, ts) VALUES ($1, $2, $3)
ON CONFLICT (ref) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, updated_at = now();

-- name: dm_channel
SELECT channel FROM slack_dm_channels WHERE user_id = $1;

-- name: save_dm_channel
INSERT INTO slack_dm_channels (user_id, channel) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET channel = excluded.channel;

-- name: first_sight
INSERT INTO slack_events_seen (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING
RETURNING event_id;

-- name: group_member
SELECT s.synced_at IS NOT NULL AS known,
       EXISTS (SELECT 1 FROM slack_supervisors m WHERE m.group_id = $1 AND m.user_id = $2)
           AS member
FROM (SELECT 1) one
LEFT JOIN slack_group_syncs s ON s.group_id = $1;

-- name: clear_group
DELETE FROM slack_supervisors WHERE group_id = $1;

-- name: add_group_members
INSERT INTO slack_supervisors (user_id, group_id)
SELECT unnest($2::text[]), $1
ON CONFLICT (user_id) DO UPDATE SET group_id = excluded.group_id, synced_at = now();

-- name: group_synced
INSERT INTO slack_group_syncs (group_id, synced_at) VALUES ($1, now())
ON CONFLICT (group_id) DO UPDATE SET synced_at = now();

-- name: audit
INSERT INTO slack_audit (user_id, action, allowed, detail) VALUES ($1, $2, $3, $4);
