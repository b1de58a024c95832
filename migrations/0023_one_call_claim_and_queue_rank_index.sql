-- A claim in one round trip: claim_offer() does what Lifecycle.claim did in five (begin, lock
-- the agent, count their work, move the task, commit), in one call. It only ever succeeds:
-- when the agent is missing or deactivated, already works on as much as one agent may, or the
-- task is not this agent's live offer, it returns no row and changes nothing, and the caller
-- finds out why the slow way (queues/lifecycle.py), as before.
--
-- A plpgsql function, not one statement: each statement after the agent's lock takes a fresh
-- snapshot, so the count of the agent's work sees what another claim of theirs just committed
-- (one statement would count from before it waited for the lock).
CREATE FUNCTION claim_offer(task bigint, agent text, room integer) RETURNS SETOF tasks
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM agents WHERE agent_id = agent AND deactivated_at IS NULL
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF (SELECT count(*) FROM tasks
        WHERE holder = agent AND id <> task AND status IN ('in_progress', 'paused')) >= room THEN
        RETURN;
    END IF;
    -- The claim as queues/tasks.sql `transition` makes it from a live offer: the holder's
    -- segment opens (any left open is closed first), the event row is written.
    RETURN QUERY
    WITH upd AS (
        UPDATE tasks t
        SET status = 'in_progress',
            offer_expires_at = NULL,
            claimed_at = now(),
            nudged_at = NULL,
            active_since = now(),
            paused_at = NULL,
            updated_at = now()
        WHERE t.id = task AND t.status = 'offered' AND t.holder = agent
          AND t.offer_expires_at > now()
        RETURNING t.*
    ),
    ended AS (
        UPDATE task_segments s
        SET ended_at = now(), ended_by = 'claimed'
        FROM upd
        WHERE s.task_id = upd.id AND s.ended_at IS NULL
        RETURNING s.id
    ),
    started AS (
        INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by)
        SELECT upd.id, upd.holder, upd.step, now(), 'claimed'
        FROM upd
        CROSS JOIN (SELECT count(*) FROM ended) closed
    ),
    ev AS (
        INSERT INTO task_events (task_id, event, from_status, to_status, actor, data)
        SELECT upd.id, 'claimed', 'offered', 'in_progress', agent, '{}'::jsonb
        FROM upd
    )
    SELECT * FROM upd;
END
$$;

-- The queue as matching and the dispatcher read it, now also in the order of the tasks at the
-- top of it (past the top share of their SLA), who rank by rule boost, then id: an agent's
-- pick reads a group's best few of those and stops (queues/tasks.sql `pick_for_agent`).
CREATE INDEX tasks_queued_by_rank ON tasks (type, step, rule_boost DESC, id)
    INCLUDE (created_epoch, sla_seconds) WHERE status = 'queued';
DROP INDEX tasks_queued_by_type;
