-- name: slack_events_seen
-- Slack's delivery ids seen before $1 (Slack retries within minutes, not months).
DELETE FROM slack_events_seen s
USING (
    SELECT event_id FROM slack_events_seen WHERE at < $1 ORDER BY at LIMIT $2
    FOR UPDATE SKIP LOCKED
) old
WHERE s.event_id = old.event_id;

-- name: slack_outbox
-- Messages sent (or superseded, or given up) before $1; those still owed are never deleted.
DELETE FROM slack_outbox o
USING (
    SELECT id FROM slack_outbox
    WHERE sent_at IS NOT NULL AND sent_at < $1
    ORDER BY sent_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) old
WHERE o.id = old.id;

-- name: telephony_rejected
-- Feed records set aside as unusable, last seen before $1: raw feed bytes, like the events.
DELETE FROM telephony_rejected r
USING (
    SELECT source, digest FROM telephony_rejected
    WHERE last_at < $1
    ORDER BY last_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) old
WHERE r.source = old.source AND r.digest = old.digest;
