-- The sender's side of the write-back outbox (source_writebacks, queued by the trigger of
-- migrations/0018_task_sources.sql). Deadlines (next_at, leases) are the service clock's.

-- name: lease_due
-- Up to $2 pending write-backs due at $1, leased for $3 seconds: per task, in order (none while
-- an earlier one of the task is pending), oldest first. `abandoned`: an earlier lease ran out
-- without its sender saying how the send went (it stopped): the vendor may have taken it.
WITH due AS (
    SELECT w.id, w.leased_until IS NOT NULL AS abandoned FROM source_writebacks w
    WHERE w.status = 'pending'
      AND (w.next_at IS NULL OR w.next_at <= $1)
      AND (w.leased_until IS NULL OR w.leased_until < $1)
      AND NOT EXISTS (SELECT 1 FROM source_writebacks o
                      WHERE o.task_id = w.task_id AND o.id < w.id AND o.status = 'pending')
    ORDER BY w.id
    LIMIT $2
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE source_writebacks w SET leased_until = $1 + make_interval(secs => $3)
FROM due
WHERE w.id = due.id
RETURNING w.*, due.abandoned;

-- name: done
-- Write-back $1 was taken at $2 ($3: what each of its calls left, such as a comment's id).
UPDATE source_writebacks
SET status = 'done', done_at = $2, leased_until = NULL, attempts = attempts + 1, last_error = NULL,
    progress = $3
WHERE id = $1 AND status = 'pending'
RETURNING id;

-- name: retry
-- Write-back $1 is tried again at $2 ($3: failed attempts so far, $4: why, $5: the calls the
-- vendor already took, not to be made again).
UPDATE source_writebacks
SET leased_until = NULL, next_at = $2, attempts = $3, last_error = $4, progress = $5
WHERE id = $1 AND status = 'pending';

-- name: defer_source
-- The vendor throttled source $1: none of its write-backs is sent before $2. Rows are locked in
-- id order and those another sender holds are skipped (it defers or sends them itself), so
-- that senders throttled at once never wait for each other.
WITH target AS (
    SELECT id FROM source_writebacks
    WHERE source = $1 AND status = 'pending' AND (next_at IS NULL OR next_at < $2)
      AND (leased_until IS NULL OR id = $3)
    ORDER BY id
    FOR UPDATE SKIP LOCKED
)
UPDATE source_writebacks w
SET next_at = $2
FROM target
WHERE w.id = target.id;

-- name: put_off
-- Write-back $1 was not sent (its source is throttled until $2): not an attempt.
UPDATE source_writebacks
SET leased_until = NULL, next_at = greatest(next_at, $2)
WHERE id = $1 AND status = 'pending';

-- name: fail
UPDATE source_writebacks
SET status = 'failed', done_at = $2, leased_until = NULL, last_error = $3,
    attempts = attempts + $4, progress = $5
WHERE id = $1 AND status = 'pending'
RETURNING id;

-- name: release
UPDATE source_writebacks SET leased_until = NULL WHERE id = $1 AND status = 'pending';
