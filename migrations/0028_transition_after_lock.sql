-- A task's move from one state to another (queues/tasks.sql `transition`) as a function that
-- locks the task's row before it reads anything else. As one statement, a move that waited for
-- the row behind another one (a supervisor's reassignment behind the agent's claim) read the
-- task's time segments as they were before it waited: it missed the segment the other had
-- just opened, left it open, and its own new segment broke "one open segment per task". In a
-- plpgsql function each statement after the lock takes a fresh snapshot, so the move sees
-- whatever the one before it committed; it is still one round trip.
CREATE FUNCTION task_transition(
    p_id bigint, p_allowed text[], p_to text, p_holder text, p_event text, p_actor text,
    p_reason text, p_data jsonb, p_must_hold text, p_expires timestamptz, p_live boolean
) RETURNS SETOF tasks
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tasks WHERE id = p_id FOR UPDATE;
    RETURN QUERY
    WITH old AS (
        SELECT id, status, holder, active_seconds, active_since FROM tasks
        WHERE id = p_id AND status = ANY (p_allowed)
          AND (p_must_hold IS NULL OR holder = p_must_hold)
          AND (NOT p_live OR offer_expires_at > now())
        FOR UPDATE
    ),
    span AS (
        SELECT old.*,
               old.status = 'in_progress' AND (p_to <> 'in_progress' OR p_holder IS DISTINCT FROM old.holder)
                   AS ends,
               p_to = 'in_progress' AND (old.status <> 'in_progress' OR p_holder IS DISTINCT FROM old.holder)
                   AS starts,
               p_holder IS DISTINCT FROM old.holder OR p_to IN ('queued', 'done', 'cancelled') AS fresh
        FROM old
    ),
    upd AS (
        UPDATE tasks t
        SET status = p_to,
            holder = p_holder,
            offer_expires_at = p_expires,
            claimed_at = CASE
                WHEN p_to = 'in_progress' AND span.status IN ('offered', 'queued', 'escalated')
                    THEN now()
                WHEN p_to IN ('queued', 'done', 'cancelled') THEN NULL
                ELSE t.claimed_at END,
            nudged_at = CASE WHEN p_to = 'in_progress' AND span.status <> 'paused' THEN NULL
                             ELSE t.nudged_at END,
            active_seconds = CASE
                WHEN span.fresh THEN 0
                WHEN span.ends THEN t.active_seconds
                                    + coalesce(extract(epoch FROM now() - t.active_since)::float8, 0)
                ELSE t.active_seconds END,
            active_since = CASE WHEN span.starts THEN now()
                                WHEN p_to = 'in_progress' THEN t.active_since END,
            paused_at = CASE WHEN p_to = 'paused' THEN now() END,
            updated_at = now()
        FROM span
        WHERE t.id = span.id
        RETURNING t.*
    ),
    ended AS (
        -- When a segment starts too, any segment left open is closed first: there is none unless
        -- the task's row was changed by hand, and then the new one must still be able to open.
        UPDATE task_segments s
        SET ended_at = now(), ended_by = p_event
        FROM span
        WHERE (span.ends OR span.starts) AND s.task_id = span.id AND s.ended_at IS NULL
        RETURNING s.id
    ),
    started AS (
        -- Reads `ended` first, so that a reassignment of work in progress has closed the old
        -- holder's segment before it opens the new holder's (one open segment per task).
        INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by)
        SELECT upd.id, upd.holder, upd.step, now(), p_event
        FROM upd
        JOIN span ON span.id = upd.id
        CROSS JOIN (SELECT count(*) FROM ended) closed
        WHERE span.starts
    ),
    ev AS (
        INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
        SELECT upd.id, p_event, span.status, upd.status, p_actor, p_reason, p_data
        FROM upd JOIN span ON span.id = upd.id
    )
    SELECT * FROM upd;
END
$$;
