-- The sender's side of the state commands' outbox (acd_commands, queued by the triggers of
-- migrations/0016_acd_control.sql). Deadlines (next_at, leases, confirm_by) are the service
-- clock's, passed in; the events' times are the database's, like the triggers' events, so that
-- an agent's timeline is in one order.

-- name: lease_due
-- Up to $2 pending commands due at $1, leased for $3 seconds: at most one per agent in flight
-- (none while another command of the agent is leased), oldest first.
WITH due AS (
    SELECT c.id FROM acd_commands c
    WHERE c.status = 'pending'
      AND (c.next_at IS NULL OR c.next_at <= $1)
      AND (c.leased_until IS NULL OR c.leased_until < $1)
      AND NOT EXISTS (SELECT 1 FROM acd_commands o
                      WHERE o.agent_id = c.agent_id AND o.id <> c.id AND o.leased_until >= $1)
    ORDER BY c.id
    LIMIT $2
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE acd_commands c SET leased_until = $1 + make_interval(secs => $3)
FROM due
WHERE c.id = due.id
RETURNING c.id, c.command_id, c.agent_id, c.state, c.cause, c.reason, c.sends, c.failures,
          coalesce((SELECT jsonb_object_agg(t.source, t.external_id)
                    FROM agent_telephony_ids t WHERE t.agent_id = c.agent_id), '{}')
              AS telephony_ids;

-- name: mark_sent
-- The platform accepted command $1 at $2: it waits for the feed until $3. A command
-- superseded meanwhile stays superseded (the newer one follows it to the platform).
WITH upd AS (
    UPDATE acd_commands
    SET status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END,
        sends = sends + 1, failures = 0, sent_at = $2, confirm_by = $3, leased_until = NULL,
        next_at = NULL, target = $4, external_id = $5, feed_source = $6, feed_id = $7,
        last_error = NULL
    WHERE id = $1
    RETURNING id, agent_id, status
),
ev AS (
    INSERT INTO acd_command_events (command, agent_id, event, detail)
    SELECT id, agent_id, 'sent', 'to ' || $4 || ' for ' || $5 FROM upd
)
SELECT status FROM upd;

-- name: retry
-- Command $1 is tried again at $2 ($3: unreachable answers in a row), with event $4 ($5).
WITH upd AS (
    UPDATE acd_commands
    SET leased_until = NULL, next_at = $2, failures = $3, last_error = $5
    WHERE id = $1
    RETURNING id, agent_id
)
INSERT INTO acd_command_events (command, agent_id, event, detail)
SELECT id, agent_id, $4, $5 FROM upd;

-- name: fail
-- Command $1 failed for good at $2 ($3 why, $4 the target if any); unless it was superseded.
WITH upd AS (
    UPDATE acd_commands
    SET status = CASE WHEN status IN ('pending', 'sent') THEN 'failed' ELSE status END,
        leased_until = NULL, done_at = coalesce(done_at, $2), last_error = $3,
        target = coalesce($4, target)
    WHERE id = $1
    RETURNING id, agent_id, status
),
ev AS (
    INSERT INTO acd_command_events (command, agent_id, event, detail)
    SELECT id, agent_id, 'failed', $3 FROM upd
)
SELECT status FROM upd;

-- name: release
-- Command $1, superseded while it was being sent, was not taken ($2 why): its lease ends; the
-- newer command of the agent goes next.
UPDATE acd_commands SET leased_until = NULL, last_error = $2 WHERE id = $1;

-- name: status
SELECT status FROM acd_commands WHERE id = $1;

-- name: confirm
-- Sent commands the feed now shows done, marked at $1: back office when the line shows it; available
-- when it shows the agent on the phones (available, on a call or wrapping one up) or away from
-- them (a break, offline: no longer in back office).
WITH seen AS (
    SELECT c.id, c.agent_id, c.state, c.target, p.state AS line
    FROM acd_commands c
    JOIN telephony_presence p ON p.source = c.feed_source AND p.external_id = c.feed_id
    WHERE c.status = 'sent'
      AND CASE c.state
              WHEN 'backoffice' THEN p.state = 'back_office'
              ELSE p.state IN ('available', 'on_call', 'after_call_work', 'break', 'offline')
          END
    FOR UPDATE OF c SKIP LOCKED
),
upd AS (
    UPDATE acd_commands c SET status = 'confirmed', done_at = $1
    FROM seen
    WHERE c.id = seen.id AND c.status = 'sent'
    RETURNING c.id
),
ev AS (
    INSERT INTO acd_command_events (command, agent_id, event, detail)
    SELECT seen.id, seen.agent_id, 'confirmed', 'the feed shows ' || seen.line
    FROM seen JOIN upd ON upd.id = seen.id
)
SELECT seen.id, seen.agent_id, seen.state, seen.target, seen.line
FROM seen JOIN upd ON upd.id = seen.id;

-- name: overdue
-- Sent commands the feed has not shown done by their time ($1), locked. A command to back
-- office waits while the agent is on a call or wrapping one up: platforms apply it after.
SELECT c.id, c.command_id, c.agent_id, c.state, c.target, c.sends, p.state AS line
FROM acd_commands c
LEFT JOIN telephony_presence p ON p.source = c.feed_source AND p.external_id = c.feed_id
WHERE c.status = 'sent' AND c.confirm_by <= $1
  AND NOT (c.state = 'backoffice'
           AND coalesce(p.state, '') IN ('on_call', 'after_call_work'))
ORDER BY c.id
FOR UPDATE OF c SKIP LOCKED;

-- name: resend
-- Command $1 was not confirmed in time: it is sent again, with the event saying $2.
WITH upd AS (
    UPDATE acd_commands SET status = 'pending', next_at = NULL
    WHERE id = $1 AND status = 'sent'
    RETURNING id, agent_id
)
INSERT INTO acd_command_events (command, agent_id, event, detail)
SELECT id, agent_id, 'unconfirmed', $2 FROM upd;

-- name: unconfirmed_event
INSERT INTO acd_command_events (command, agent_id, event, detail)
SELECT id, agent_id, 'unconfirmed', $2 FROM acd_commands WHERE id = $1;
