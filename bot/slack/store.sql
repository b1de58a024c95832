-- Slack's tables: the outbox, posted messages, event dedupe, supervisors and the audit log.

-- name: agent_by_slack
SELECT agent_id, name, slack_user_id FROM agents WHERE slack_user_id = $1;

-- name: agents_by_id
SELECT agent_id, name, slack_user_id FROM agents WHERE agent_id = ANY($1::text[]);

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

-- name: pending
SELECT count(*) FROM slack_outbox WHERE sent_at IS NULL;

-- name: next_due
SELECT min(greatest(next_at, coalesce(leased_until, next_at))) FROM slack_outbox
WHERE sent_at IS NULL;

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

-- name: status_counts
SELECT status, count(*) AS n FROM tasks GROUP BY status ORDER BY status;

-- name: backlog
SELECT type,
       count(*) AS open,
       count(*) FILTER (WHERE due_at < now()) AS breached,
       count(*) FILTER (WHERE due_at >= now() AND due_at < now() + interval '2 hours')
           AS due_soon,
       min(due_at) AS first_due
FROM tasks
WHERE status IN ('queued', 'offered', 'in_progress', 'paused', 'escalated')
  AND ($1::text IS NULL OR type = $1)
GROUP BY type
ORDER BY breached DESC, due_soon DESC, open DESC, type
LIMIT 40;

-- name: agents_at_work
SELECT a.agent_id, a.name, t.id AS task_id, t.status, t.type
FROM agents a
LEFT JOIN LATERAL (
    SELECT id, status, type FROM tasks
    WHERE holder = a.agent_id AND status IN ('offered', 'in_progress', 'paused', 'escalated')
    ORDER BY updated_at DESC LIMIT 1
) t ON true
ORDER BY t.status NULLS LAST, a.name
LIMIT 80;

-- name: work_of
SELECT * FROM tasks WHERE holder = $1 AND status IN ('in_progress', 'paused')
ORDER BY updated_at DESC LIMIT 20;

-- name: done_today
SELECT count(*) FROM task_events
WHERE actor = $1 AND event IN ('completed', 'step_completed') AND at >= date_trunc('day', now());

-- name: pausable
SELECT tt.pausable FROM tasks t JOIN task_types tt ON tt.name = t.type WHERE t.id = $1;

-- name: recent_escalation
SELECT actor, reason FROM task_events WHERE task_id = $1 AND event = 'escalated'
ORDER BY id DESC LIMIT 1;

-- name: task_row
SELECT * FROM tasks WHERE id = $1;

-- name: task_facts
-- Expected minutes of each task's current step, and whether its type may be paused.
SELECT t.id,
       CASE WHEN jsonb_array_length(tt.steps) >= t.step
            THEN (tt.steps -> (t.step - 1) ->> 'handle_minutes')::float8
            ELSE tt.handle_minutes END AS minutes,
       tt.pausable
FROM tasks t JOIN task_types tt ON tt.name = t.type
WHERE t.id = ANY($1::bigint[]);

-- name: offer_reasons
SELECT DISTINCT ON (task_id) task_id, data
FROM task_events
WHERE task_id = ANY($1::bigint[]) AND event = 'offered'
ORDER BY task_id, id DESC;

-- name: forecast_queues
SELECT r.queue, r.computed_at, r.error,
       (SELECT count(*) FROM queue_forecasts f
        WHERE f.queue = r.queue AND f.interval_start >= $1) AS intervals
FROM forecast_runs r
ORDER BY r.error IS NOT NULL, r.queue
LIMIT 100;

-- name: report_counts
-- Tasks' events since $1; a completion is within SLA when it came before the task's due time.
SELECT count(*) FILTER (WHERE e.event = 'created') AS created,
       count(*) FILTER (WHERE e.event = 'completed') AS completed,
       count(*) FILTER (WHERE e.event = 'escalated') AS escalated,
       count(*) FILTER (WHERE e.event = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE e.event = 'completed' AND e.at <= t.due_at) AS on_time
FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.at >= $1;

-- name: report_minutes
-- Back-office minutes worked since $1: the seconds each completed step recorded (the same
-- seconds handle_times adds up per agent, type and step).
SELECT coalesce(sum((data ->> 'worked_seconds')::float8), 0) / 60 AS minutes
FROM task_events
WHERE event IN ('completed', 'step_completed') AND at >= $1;

-- name: report_top
SELECT e.actor AS agent_id, coalesce(a.name, e.actor) AS name,
       count(*) FILTER (WHERE e.event = 'completed') AS completed,
       coalesce(sum((e.data ->> 'worked_seconds')::float8), 0) / 60 AS minutes
FROM task_events e LEFT JOIN agents a ON a.agent_id = e.actor
WHERE e.event IN ('completed', 'step_completed') AND e.at >= $1
GROUP BY e.actor, a.name
HAVING count(*) FILTER (WHERE e.event = 'completed') > 0
ORDER BY completed DESC, minutes DESC, name
LIMIT 5;
