-- name: insert_tasks
-- Insert the tasks whose key is new; a key that exists, or whose type is unknown, is skipped
-- and reported by the caller. Each new task gets its 'created' event in the same statement.
WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::float8[], $8::jsonb[], $9::timestamptz[], $10::text[])
         AS i (source, external_id, type, title, customer_ref, customer_tier,
               value, payload, due_at, request_hash)
),
ins AS (
    INSERT INTO tasks (source, external_id, type, title, customer_ref, customer_tier,
                       value, payload, due_at, request_hash, created_epoch, sla_seconds)
    SELECT i.source, i.external_id, i.type, i.title, i.customer_ref, i.customer_tier,
           i.value, i.payload, d.due_at, i.request_hash, date_part('epoch', now()),
           date_part('epoch', d.due_at) - date_part('epoch', now())
    FROM input i
    JOIN task_types tt ON tt.name = i.type
    CROSS JOIN LATERAL (
        SELECT coalesce(i.due_at, now() + make_interval(mins => tt.sla_minutes)) AS due_at
    ) d
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING *
),
ev AS (
    INSERT INTO task_events (task_id, event, to_status, actor)
    SELECT id, 'created', status, $11 FROM ins
)
SELECT * FROM ins;

-- name: find_by_keys
SELECT t.*
FROM tasks t
JOIN unnest($1::text[], $2::text[]) AS k (source, external_id)
  ON t.source = k.source AND t.external_id = k.external_id;

-- name: get_task
SELECT * FROM tasks WHERE id = $1;

-- name: get_task_detail
SELECT t.*, tt.base_priority, tt.steps AS type_steps, tt.handle_minutes AS type_handle_minutes,
       tt.skills AS type_skills
FROM tasks t
JOIN task_types tt ON tt.name = t.type
WHERE t.id = $1;

-- name: timeline
SELECT at, event, from_status, to_status, actor, reason, data
FROM task_events
WHERE task_id = $1
ORDER BY id;

-- name: transition
-- Move a task from one of the allowed states to a new one, with its event row, atomically.
-- $9: the holder the task must have (NULL: any); $10: the new offer expiry; $11: require a
-- live offer. No row comes back when the task is missing or not in an allowed state.
-- Work is timed in segments (migrations/0010_active_time.sql): a task that stops being in
-- progress for its holder (paused, released, escalated, reassigned away, cancelled) ends the
-- open segment and adds it to the holder's active seconds; one that goes in progress for an
-- agent (claimed, resumed, reassigned) opens one. A new holder, or the queue, starts from 0.
-- The move itself is the function task_transition (migrations/0028_transition_after_lock.sql),
-- which locks the task first so that it reads the segments as they are after any wait.
SELECT * FROM task_transition($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: complete
-- Finish the holder's current step: the next step goes back to the queue (for whoever has its
-- skills), the last one makes the task done. The time worked is the holder's active time on
-- the step: the segments ended before, and the open one, which this ends.
WITH old AS (
    SELECT t.id, t.status, t.step, t.active_seconds, t.active_since,
           step_count(tt.steps) AS steps
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.id = $1 AND t.status = 'in_progress' AND t.holder = $2
    FOR UPDATE OF t
),
upd AS (
    UPDATE tasks t
    SET status = CASE WHEN old.step < old.steps THEN 'queued' ELSE 'done' END,
        step = CASE WHEN old.step < old.steps THEN old.step + 1 ELSE old.step END,
        holder = NULL,
        offer_expires_at = NULL,
        claimed_at = NULL,
        nudged_at = NULL,
        active_seconds = 0,
        active_since = NULL,
        paused_at = NULL,
        handover = NULL,
        updated_at = now()
    FROM old
    WHERE t.id = old.id
    RETURNING t.*, old.step AS done_step, old.steps AS step_count,
              old.active_seconds + extract(epoch FROM now() - old.active_since)::float8
                  AS worked_seconds
),
ended AS (
    UPDATE task_segments s
    SET ended_at = now(),
        ended_by = CASE WHEN upd.status = 'done' THEN 'completed' ELSE 'step_completed' END
    FROM upd
    WHERE s.task_id = upd.id AND s.ended_at IS NULL
),
learnt AS (
    INSERT INTO handle_times AS h (agent_id, type, step, completed, total_seconds, last_at,
                                   day, day_seconds)
    SELECT $2, upd.type, upd.done_step, 1, upd.worked_seconds, now(), now()::date,
           upd.worked_seconds
    FROM upd WHERE upd.worked_seconds IS NOT NULL
    ON CONFLICT (agent_id, type, step) DO UPDATE
    SET completed = h.completed + 1,
        total_seconds = h.total_seconds + excluded.total_seconds,
        last_at = excluded.last_at,
        day_seconds = CASE WHEN h.day = excluded.day THEN h.day_seconds + excluded.day_seconds
                           ELSE excluded.day_seconds END,
        day = excluded.day
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
    SELECT upd.id, CASE WHEN upd.status = 'done' THEN 'completed' ELSE 'step_completed' END,
           'in_progress', upd.status, $2, $4,
           jsonb_build_object('outcome', $3::text, 'step', upd.done_step,
                              'steps', upd.step_count, 'worked_seconds', upd.worked_seconds)
    FROM upd
)
SELECT * FROM upd;

-- name: remember_skip
INSERT INTO task_skips (task_id, agent_id, until)
VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (task_id, agent_id) DO UPDATE SET until = excluded.until;

-- name: holder_state
SELECT status, holder, offer_expires_at FROM tasks WHERE id = $1;

-- name: lock_agents
-- Lock the agents' rows, in order, for the rest of the transaction: whatever gives an agent
-- work (an offer, a claim, a reassignment) takes this lock first, so the agent's work is
-- counted and changed by one transaction at a time. NO KEY UPDATE does not block the foreign
-- key checks of tasks naming the agent.
-- Whether each is deactivated comes along: nothing is given to a deactivated agent.
SELECT agent_id, deactivated_at IS NOT NULL AS inactive FROM agents
WHERE agent_id = ANY ($1::text[])
ORDER BY agent_id
FOR NO KEY UPDATE;

-- name: inactive
SELECT deactivated_at IS NOT NULL FROM agents WHERE agent_id = $1;

-- name: working_on
-- The tasks an agent works on (in progress or paused), other than task $2; with $3, also the
-- offers to the agent still standing.
SELECT id FROM tasks
WHERE holder = $1 AND id <> $2
  AND (status IN ('in_progress', 'paused')
       OR ($3 AND status = 'offered' AND offer_expires_at > now()))
ORDER BY id;

-- name: pick_for_agent
-- The best queued task of the fitting groups ($2 types, $3 steps) that the agent $1 did not skip
-- lately, locked (FOR UPDATE SKIP LOCKED); each group's best $5 first ($4: the SLA top share).
-- The query is the function pick_next (migrations/0030_one_call_dispatch.sql), which the
-- dispatcher's dispatch_next() calls (migration 0041).
SELECT * FROM pick_next($1, $2, $3, $4, $5);

-- name: expire_offers
-- Offers past their expiry go back to the queue, each with its 'expired' event.
WITH old AS (
    SELECT id, holder FROM tasks
    WHERE status = 'offered' AND offer_expires_at <= now()
    ORDER BY offer_expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
upd AS (
    UPDATE tasks t
    SET status = 'queued', holder = NULL, offer_expires_at = NULL, updated_at = now()
    FROM old
    WHERE t.id = old.id
    RETURNING t.id, old.holder
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
    SELECT id, 'expired', 'offered', 'queued', 'system', 'offer not claimed in time',
           jsonb_build_object('agent_id', holder)
    FROM upd
)
SELECT id, holder FROM upd;

-- name: nudge_overdue
-- Claimed work whose holder's active time on it (pauses excluded) runs past its expected
-- handle time times $1 gets one 'nudged' event.
WITH overdue AS (
    SELECT t.id, t.holder
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.status = 'in_progress' AND t.nudged_at IS NULL
      AND t.active_since
          + make_interval(secs => 60 * $1::float8
                                     * step_minutes(tt.steps, t.step, tt.handle_minutes)
                                  - t.active_seconds)
          < now()
    LIMIT $2
    FOR UPDATE OF t SKIP LOCKED
),
upd AS (
    UPDATE tasks t SET nudged_at = now() FROM overdue WHERE t.id = overdue.id
    RETURNING t.id, t.holder
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason)
    SELECT id, 'nudged', 'in_progress', 'in_progress', 'system',
           'running past its expected handle time'
    FROM upd
)
SELECT id, holder FROM upd;

-- name: escalate_overdue
-- Claimed work whose holder's active time on it runs past its expected handle time times $1
-- is escalated automatically; its open segment ends.
WITH overdue AS (
    SELECT t.id, t.holder
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.status = 'in_progress'
      AND t.active_since
          + make_interval(secs => 60 * $1::float8
                                     * step_minutes(tt.steps, t.step, tt.handle_minutes)
                                  - t.active_seconds)
          < now()
    LIMIT $2
    FOR UPDATE OF t SKIP LOCKED
),
upd AS (
    UPDATE tasks t
    SET status = 'escalated',
        active_seconds = t.active_seconds + extract(epoch FROM now() - t.active_since)::float8,
        active_since = NULL,
        updated_at = now()
    FROM overdue WHERE t.id = overdue.id
    RETURNING t.id, t.holder
),
ended AS (
    UPDATE task_segments s SET ended_at = now(), ended_by = 'escalated'
    FROM upd WHERE s.task_id = upd.id AND s.ended_at IS NULL
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason)
    SELECT id, 'escalated', 'in_progress', 'escalated', 'system',
           'still not done long past its expected handle time'
    FROM upd
)
SELECT id, holder FROM upd;

-- name: return_paused
-- Paused work not resumed for $1 minutes goes back to the queue, or, when its due time is
-- nearer than its step's expected minutes times the fit margin $2 (no one picking it up from
-- the queue could be expected to finish it in time), is escalated to the supervisors with its
-- holder. Either way the task keeps a handover: who had it, the pause's reason and note, and
-- the holder's active time on the step, shown to whoever takes it next.
WITH stale AS (
    SELECT t.id, t.holder, t.step, t.active_seconds, t.paused_at,
           t.due_at - now()
               < make_interval(secs => 60 * $2::float8
                                       * step_minutes(tt.steps, t.step, tt.handle_minutes))
               AS near,
           p.reason, p.data ->> 'note' AS note
    FROM tasks t
    JOIN task_types tt ON tt.name = t.type
    LEFT JOIN LATERAL (
        SELECT e.reason, e.data FROM task_events e
        WHERE e.task_id = t.id AND e.event = 'paused'
        ORDER BY e.id DESC LIMIT 1
    ) p ON true
    WHERE t.status = 'paused' AND t.paused_at <= now() - make_interval(secs => 60 * $1::float8)
    ORDER BY t.paused_at
    LIMIT $3
    FOR UPDATE OF t SKIP LOCKED
),
upd AS (
    UPDATE tasks t
    SET status = CASE WHEN stale.near THEN 'escalated' ELSE 'queued' END,
        holder = CASE WHEN stale.near THEN t.holder END,
        claimed_at = CASE WHEN stale.near THEN t.claimed_at END,
        active_seconds = CASE WHEN stale.near THEN t.active_seconds ELSE 0 END,
        paused_at = NULL,
        handover = jsonb_build_object(
            'by', stale.holder, 'step', stale.step, 'worked_seconds', stale.active_seconds,
            'reason', stale.reason, 'note', stale.note, 'paused_at', stale.paused_at,
            'returned_at', now()),
        updated_at = now()
    FROM stale
    WHERE t.id = stale.id
    RETURNING t.id, stale.holder, t.status, t.handover
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
    SELECT upd.id, CASE WHEN upd.status = 'queued' THEN 'returned' ELSE 'escalated' END,
           'paused', upd.status, 'system',
           format('paused for %s min without resuming', trim_scale(round($1::numeric, 1)))
               || CASE WHEN upd.status = 'queued' THEN ''
                       ELSE ', and due too soon to wait in the queue' END,
           jsonb_build_object('agent_id', upd.holder) || (upd.handover - 'by')
    FROM upd
)
SELECT id, holder, status FROM upd;

-- name: match_candidates
-- For each (type, step), its best $2 queued tasks: no round can use more of them. The types
-- are dealt into $4 parts and this reads part $3, so that parts can be read side by side.
WITH parts AS (
    SELECT name FROM (SELECT name, row_number() OVER (ORDER BY name) - 1 AS n FROM task_types) p
    WHERE n % $4 = $3
),
groups AS (
    SELECT tt.name AS type, g.step, tt.base_priority, tt.pausable,
           date_part('epoch', now()) AS now_epoch,
           step_skills(tt.steps, g.step, tt.skills) AS skills,
           step_minutes(tt.steps, g.step, tt.handle_minutes) AS handle_minutes
    FROM task_types tt
    JOIN parts ON parts.name = tt.name,
         generate_series(1, step_count(tt.steps)) AS g (step)
)
SELECT c.id, g.type, g.step, g.skills, g.handle_minutes, c.priority, g.base_priority,
       g.pausable, x.rule_boost, x.rule_reasons, x.created_at, x.due_at
FROM groups g
CROSS JOIN LATERAL (
    -- Only columns of the index, so that the queue is read from the index alone.
    SELECT t.id,
           g.base_priority + t.rule_boost
               + sla_urgency(t.created_epoch, t.sla_seconds, g.now_epoch, $1)
               AS priority
    FROM tasks t
    WHERE t.status = 'queued' AND t.type = g.type AND t.step = g.step
    ORDER BY priority DESC, t.id
    LIMIT $2
) c
JOIN tasks x ON x.id = c.id;

-- name: agent_profiles
SELECT a.agent_id,
       coalesce((SELECT jsonb_object_agg(s.skill, s.proficiency)
                 FROM agent_skills s WHERE s.agent_id = a.agent_id), '{}') AS skills,
       ARRAY(SELECT h.type FROM handle_times h WHERE h.agent_id = a.agent_id
             ORDER BY h.last_at DESC LIMIT 6) AS recent_types,
       coalesce((SELECT sum(h.day_seconds) / 60 FROM handle_times h
                 WHERE h.agent_id = a.agent_id AND h.day = now()::date), 0) AS minutes_today
FROM agents a
WHERE a.agent_id = ANY ($1::text[]);

-- name: skips_of
SELECT agent_id, task_id FROM task_skips WHERE agent_id = ANY ($1::text[]) AND until > now();

-- name: agents_with_open_work
-- The agents who hold an open offer, or as much work as one agent may ($2).
SELECT holder FROM tasks
WHERE holder = ANY ($1::text[])
  AND (status IN ('in_progress', 'paused') OR (status = 'offered' AND offer_expires_at > now()))
GROUP BY holder
HAVING bool_or(status = 'offered') OR count(*) >= $2;

-- name: offer_many
-- Offer each task to its agent, if the task is still queued and the agent holds no open offer
-- and less work than one agent may ($6), and is not deactivated; one event row each. The
-- caller has locked the agents' rows (lock_agents) in the same transaction. The offers come
-- back in task order, whatever plan the statistics of the moment choose: a caller that acts
-- on them one by one does the same for the same data.
WITH pairs AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS p (task_id, agent_id, why)
),
free AS (
    SELECT p.agent_id
    FROM (SELECT DISTINCT agent_id FROM pairs) p
    JOIN agents a ON a.agent_id = p.agent_id AND a.deactivated_at IS NULL
    LEFT JOIN tasks h
      ON h.holder = p.agent_id
     AND (h.status IN ('in_progress', 'paused')
          OR (h.status = 'offered' AND h.offer_expires_at > now()))
    GROUP BY p.agent_id
    HAVING NOT coalesce(bool_or(h.status = 'offered'), false) AND count(h.id) < $6
),
old AS (
    SELECT t.id, p.agent_id, p.why
    FROM tasks t JOIN pairs p ON p.task_id = t.id
    JOIN free ON free.agent_id = p.agent_id
    WHERE t.status = 'queued'
    FOR UPDATE OF t
),
upd AS (
    UPDATE tasks t
    SET status = 'offered', holder = old.agent_id, offer_expires_at = $4, updated_at = now()
    FROM old
    WHERE t.id = old.id AND t.status = 'queued'
    RETURNING t.*, old.why
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, data)
    SELECT id, 'offered', 'queued', 'offered', $5,
           jsonb_build_object('agent_id', holder, 'expires_at', $4::timestamptz,
                              'why', why::jsonb)
    FROM upd
)
SELECT * FROM upd ORDER BY id;

-- name: update_queued
-- A source's update of its record, applied to the task while it waits in the queue: the
-- priority inputs and the due time ($7: NULL keeps it), with an 'updated' event saying what
-- changed. The task is ranked again at the next tick. No row when it is not queued.
WITH old AS (
    SELECT id, title, customer_ref, customer_tier, value, payload, due_at FROM tasks
    WHERE id = $1 AND status = 'queued'
    FOR UPDATE
),
upd AS (
    UPDATE tasks t
    SET title = $2, customer_ref = $3, customer_tier = $4, value = $5, payload = $6,
        due_at = coalesce($7, t.due_at),
        sla_seconds = date_part('epoch', coalesce($7, t.due_at)) - t.created_epoch,
        request_hash = $8, ranked_at = NULL, updated_at = now()
    FROM old
    WHERE t.id = old.id
    RETURNING t.*
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, data)
    SELECT upd.id, 'updated', 'queued', 'queued', $9,
           jsonb_strip_nulls(jsonb_build_object(
               'title', CASE WHEN old.title IS DISTINCT FROM upd.title THEN upd.title END,
               'customer_ref', CASE WHEN old.customer_ref IS DISTINCT FROM upd.customer_ref
                                    THEN upd.customer_ref END,
               'customer_tier', CASE WHEN old.customer_tier IS DISTINCT FROM upd.customer_tier
                                     THEN upd.customer_tier END,
               'value', CASE WHEN old.value IS DISTINCT FROM upd.value THEN upd.value END,
               'due_at', CASE WHEN old.due_at IS DISTINCT FROM upd.due_at THEN upd.due_at END))
    FROM upd JOIN old ON old.id = upd.id
)
SELECT * FROM upd;

-- name: note
-- An event on the task's timeline that changes nothing of the task (a source closed the record
-- while someone holds the task; a write-back failed).
INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
SELECT id, $2, status, status, $3, $4, $5 FROM tasks WHERE id = $1
RETURNING id;
