-- name: waiting_work
-- What the queued work needs: the skills and the shortest expected minutes of each
-- (type, step) that has queued tasks.
SELECT step_skills(tt.steps, g.step, tt.skills) AS skills,
       step_minutes(tt.steps, g.step, tt.handle_minutes) AS minutes
FROM task_types tt,
     generate_series(1, step_count(tt.steps)) AS g (step)
WHERE EXISTS (SELECT 1 FROM tasks t
              WHERE t.status = 'queued' AND t.type = tt.name AND t.step = g.step);

-- name: interruptible
-- Of the agents $1, those whose staffing group is in interruptible mode: a call may interrupt
-- their work, so they are lent only pausable work.
SELECT agent_id FROM agents
WHERE agent_id = ANY ($1::text[]) AND acd_mode(queue) = 'interruptible';

-- name: paused_of
-- Oldest pause first (ties by task: the same tasks in the same order for the same data).
SELECT * FROM tasks WHERE status = 'paused' AND holder = ANY ($1::text[])
ORDER BY updated_at, id;

-- name: recall
-- Record the recalls that are new, each with its event and the figures ($4) at $5; give the
-- agents newly recalled.
WITH new AS (
    INSERT INTO blending_recalls (agent_id, grp, reason)
    SELECT a, $2, $3 FROM unnest($1::text[]) AS a
    ON CONFLICT (agent_id) DO NOTHING
    RETURNING agent_id
),
ev AS (
    INSERT INTO blending_events (at, event, grp, agent_id, reason, actor, figures)
    SELECT $5, 'recalled', $2, agent_id, $3, 'blendbot', $4::jsonb FROM new
)
SELECT agent_id FROM new;

-- name: clear_recalls
-- The guard of group $1 is open again: its recalls end, each with its event.
WITH gone AS (
    DELETE FROM blending_recalls WHERE grp = $1 RETURNING agent_id
),
ev AS (
    INSERT INTO blending_events (event, grp, agent_id, reason)
    SELECT 'recall_cleared', $1, agent_id, 'the queue is calm again' FROM gone
)
SELECT agent_id FROM gone;

-- name: held_by_supervisor
-- Of the agents $1, those a supervisor recalled: the engine does not lend them until the
-- recall's hold ends.
SELECT agent_id FROM blending_recalls
WHERE agent_id = ANY ($1::text[]) AND recalled_by IS NOT NULL;

-- name: end_engine_recalls
-- The engine lends the agents $1 again at $2: its own recalls of them end, each with its
-- event (the triggers queue the command the agent's work now calls for).
WITH gone AS (
    DELETE FROM blending_recalls
    WHERE agent_id = ANY ($1::text[]) AND recalled_by IS NULL
    RETURNING agent_id, grp
),
ev AS (
    INSERT INTO blending_events (at, event, grp, agent_id, reason, actor)
    SELECT $2, 'recall_cleared', grp, agent_id, 'lent again: the calls can spare them',
           'blendbot'
    FROM gone
)
SELECT agent_id FROM gone ORDER BY agent_id;

-- name: recalled
SELECT agent_id, grp, reason, recalled_at FROM blending_recalls
WHERE $1::text[] IS NULL OR agent_id = ANY ($1::text[]);

-- name: guards
SELECT grp, mode, since, calm_since FROM blending_guard;

-- name: save_guard
-- The guard's state of a group; a change of mode is logged with the figures ($6) at $7.
WITH old AS (SELECT mode FROM blending_guard WHERE grp = $1),
saved AS (
    INSERT INTO blending_guard (grp, mode, since, calm_since, reason)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (grp) DO UPDATE
    SET mode = excluded.mode, since = excluded.since, calm_since = excluded.calm_since,
        reason = excluded.reason, updated_at = now()
    RETURNING mode
)
INSERT INTO blending_events (at, event, grp, reason, actor, figures)
SELECT $7, 'guard', $1, $2 || coalesce(': ' || $5, ''), 'blendbot', $6::jsonb
FROM saved
WHERE CASE WHEN EXISTS (SELECT 1 FROM old) THEN saved.mode <> (SELECT mode FROM old)
           ELSE saved.mode <> 'open' END;

-- name: lend_offered
-- The engine's lends at $1: each offer made in a window ($2 agents, $3 groups, $4 tasks,
-- $5 reasons, $6 figures), in the offers' transaction.
INSERT INTO blending_events (at, event, grp, agent_id, task_id, reason, actor, figures)
SELECT $1, 'lend_offered', g.grp, g.agent_id, g.task_id, g.reason, 'blendbot', g.figures
FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::jsonb[])
     AS g (agent_id, grp, task_id, reason, figures);

-- name: withdraw_offers
-- The agents $1 are recalled: their open offers go back to the queue, each with its
-- 'withdrawn' event naming the agent it was offered to.
WITH old AS (
    SELECT id, holder FROM tasks
    WHERE status = 'offered' AND holder = ANY ($1::text[])
    ORDER BY id
    FOR UPDATE
),
upd AS (
    UPDATE tasks t
    SET status = 'queued', holder = NULL, offer_expires_at = NULL, updated_at = now()
    FROM old
    WHERE t.id = old.id
    RETURNING t.*, old.holder AS offered_to
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
    SELECT id, 'withdrawn', 'offered', 'queued', 'system', $2,
           jsonb_build_object('agent_id', offered_to, 'group', $3::text)
    FROM upd
)
SELECT * FROM upd ORDER BY id;

-- name: agent_queue
SELECT queue FROM agents WHERE agent_id = $1;

-- name: guard_of
SELECT mode, reason FROM blending_guard WHERE grp = $1;

-- name: save_windows
-- The round's windows ($1 agents, $2 groups, $3 starts, $4 ends, $5 confidences) at $6: each
-- is kept, in place of the agent's last one. A window the round did not grant again is kept
-- while its agent holds work (lent in it) and until it ends; an idle agent's ends now. A
-- supervisor's lend (lent_by) is left as it is: it ends by itself (acd_store.end_lends).
WITH granted AS (
    SELECT g.agent_id, g.grp, g.starts_at, g.ends_at, g.confidence
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::float8[])
         AS g (agent_id, grp, starts_at, ends_at, confidence)
    JOIN agents a ON a.agent_id = g.agent_id
    WHERE g.ends_at > g.starts_at
),
gone AS (
    DELETE FROM blending_windows w
    WHERE NOT (w.agent_id = ANY ($1::text[]))
      AND w.lent_by IS NULL
      AND (w.ends_at <= $6
           OR NOT EXISTS (SELECT 1 FROM tasks t
                          WHERE t.holder = w.agent_id
                            AND (t.status IN ('in_progress', 'paused')
                                 OR (t.status = 'offered' AND t.offer_expires_at > $6))))
)
INSERT INTO blending_windows (agent_id, grp, starts_at, ends_at, confidence, decided_at)
SELECT agent_id, grp, starts_at, ends_at, confidence, $6 FROM granted
ON CONFLICT (agent_id) DO UPDATE
SET grp = excluded.grp, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    confidence = excluded.confidence, decided_at = excluded.decided_at
WHERE blending_windows.lent_by IS NULL;

-- name: save_groups
-- Each group's verdict of the round ($1 groups, $2 lent, $3 surplus, $4 why nobody (more) is
-- lent) at $5; groups the round no longer decides for are dropped.
WITH saved AS (
    INSERT INTO blending_groups (grp, lent, surplus_now, reason, decided_at)
    SELECT g.grp, g.lent, g.surplus_now, g.reason, $5
    FROM unnest($1::text[], $2::int[], $3::int[], $4::text[]) AS g (grp, lent, surplus_now, reason)
    ON CONFLICT (grp) DO UPDATE
    SET lent = excluded.lent, surplus_now = excluded.surplus_now, reason = excluded.reason,
        decided_at = excluded.decided_at
)
DELETE FROM blending_groups WHERE NOT (grp = ANY ($1::text[]));

-- name: end_windows
-- The agents $1 are recalled: their windows end.
DELETE FROM blending_windows WHERE agent_id = ANY ($1::text[]);

-- name: window_of
SELECT agent_id, grp, starts_at, ends_at, confidence FROM blending_windows
WHERE agent_id = $1 AND ends_at > $2;

-- name: group_verdict
SELECT reason FROM blending_groups WHERE grp = $1;

-- name: schedule_of
-- The agent's schedule entries from now ($2) on, for a day: enough to see the shift covering
-- now, a break now, and the next break within the shift.
SELECT agent_id, kind, starts_at, ends_at FROM agent_schedules
WHERE agent_id = $1 AND ends_at > $2 AND starts_at < $2 + interval '1 day'
ORDER BY starts_at;
