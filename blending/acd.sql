-- Agent states in the platform: modes, supervisors' lends and recalls, the drift watch, the
-- interruptible mode's pauses, and the agent's timeline. The commands themselves are queued by
-- the triggers of migrations/0016_acd_control.sql.

-- name: drop_other_modes
-- Instances starting together each save the modes: deleting only the groups the settings no
-- longer name, and upserting the rest, lets them do so at once without a unique violation.
DELETE FROM acd_modes WHERE grp <> ALL($1::text[]);

-- name: save_modes
INSERT INTO acd_modes (grp, mode)
SELECT g, m FROM unnest($1::text[], $2::text[]) AS x (g, m)
ON CONFLICT (grp) DO UPDATE SET mode = excluded.mode WHERE acd_modes.mode <> excluded.mode;

-- name: lock_agent
-- Whatever changes an agent's lend or recall locks the agent's row first, as whatever gives
-- them work does (queues/tasks.sql lock_agents), so that such changes of one agent take their
-- rows in one order.
SELECT agent_id FROM agents WHERE agent_id = $1 FOR NO KEY UPDATE;

-- name: mode_of
SELECT acd_mode(queue) FROM agents WHERE agent_id = $1;

-- name: agent
-- The agent's staffing group, its mode, and where the agent should be in the platform.
SELECT a.agent_id, staffing_group(a.queue) AS grp, acd_mode(a.queue) AS mode,
       acd_wanted(a.agent_id) AS wanted
FROM agents a WHERE a.agent_id = $1;

-- name: lend
-- A supervisor ($5) lends agent $1 of group $2 from $3 until $4: a window in place of the
-- agent's last one (their pulls are fitted to it), their recall by a supervisor lifted (and
-- the guard's, with $6: an override), and the event saying $7. The triggers queue the command.
WITH lifted AS (
    DELETE FROM blending_recalls
    WHERE agent_id = $1 AND (recalled_by IS NOT NULL OR $6::bool)
    RETURNING agent_id
),
ev AS (
    INSERT INTO blending_events (event, grp, agent_id, reason, actor)
    VALUES ('lent', $2, $1, $7, $5)
)
INSERT INTO blending_windows AS w (agent_id, grp, starts_at, ends_at, confidence, decided_at,
                                   lent_by)
VALUES ($1, $2, $3, $4, 1.0, $3, $5)
ON CONFLICT (agent_id) DO UPDATE
SET grp = excluded.grp, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    confidence = excluded.confidence, decided_at = excluded.decided_at,
    lent_by = excluded.lent_by
RETURNING w.agent_id, w.starts_at, w.ends_at;

-- name: recall
-- A supervisor ($4) recalls agent $1 of group $2, with reason $3, until $5 (a recall by the
-- guard stays the guard's), with the event. The triggers queue the command.
WITH rec AS (
    INSERT INTO blending_recalls AS r (agent_id, grp, reason, recalled_by, until)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (agent_id) DO UPDATE
    SET reason = excluded.reason, recalled_by = excluded.recalled_by, until = excluded.until,
        recalled_at = now()
    WHERE r.recalled_by IS NOT NULL
    RETURNING agent_id
)
INSERT INTO blending_events (event, grp, agent_id, reason, actor)
VALUES ('recalled', $2, $1, $3, $4);

-- name: end_lends
-- Supervisors' lends past their end ($1) end, each with its event.
WITH gone AS (
    DELETE FROM blending_windows WHERE lent_by IS NOT NULL AND ends_at <= $1
    RETURNING agent_id, grp, lent_by
),
ev AS (
    INSERT INTO blending_events (event, grp, agent_id, reason, actor)
    SELECT 'lend_ended', grp, agent_id, 'the lend by ' || lent_by || ' ended', 'blendbot'
    FROM gone
)
SELECT agent_id FROM gone ORDER BY agent_id;

-- name: end_recalls
-- Supervisors' recalls past their hold ($1) end, each with its event.
WITH gone AS (
    DELETE FROM blending_recalls WHERE until IS NOT NULL AND until <= $1
    RETURNING agent_id, grp, recalled_by
),
ev AS (
    INSERT INTO blending_events (event, grp, agent_id, reason, actor)
    SELECT 'recall_cleared', grp, agent_id, 'the recall by ' || recalled_by || ' ended',
           'blendbot'
    FROM gone
)
SELECT agent_id FROM gone ORDER BY agent_id;

-- name: watched
-- The agents the drift watch looks at: those in a group not advisory, and those blendbot last
-- asked to be in back office; with where they should be (by their group's mode: in
-- interruptible mode only work no call can pause takes them off the phones), their last
-- command and their ids.
SELECT a.agent_id, acd_mode(a.queue) AS mode,
       CASE acd_mode(a.queue) WHEN 'interruptible' THEN acd_wanted_interruptible(a.agent_id)
                              ELSE acd_wanted(a.agent_id) END AS wanted,
       c.state AS last_state, c.status AS last_status, c.created_at AS last_at,
       c.done_at AS last_done_at,
       coalesce((SELECT jsonb_object_agg(t.source, t.external_id)
                 FROM agent_telephony_ids t WHERE t.agent_id = a.agent_id), '{}') AS telephony_ids
FROM agents a
LEFT JOIN LATERAL (
    SELECT state, status, created_at, done_at FROM acd_commands
    WHERE agent_id = a.agent_id ORDER BY id DESC LIMIT 1
) c ON true
WHERE acd_mode(a.queue) <> 'advisory' OR c.state = 'backoffice'
ORDER BY a.agent_id;

-- name: lines
-- The feed lines ($1 sources, $2 ids) as the platform last reported them.
SELECT p.source, p.external_id, p.state, p.since
FROM telephony_presence p
JOIN unnest($1::text[], $2::text[]) AS k (source, external_id)
  ON k.source = p.source AND k.external_id = p.external_id;

-- name: enqueue
-- A command queued by the drift watch ($1 agent, $2 state, $3 cause, $4 reason), unless the
-- agent has an open one meanwhile; taken one agent at a time, like the triggers' commands.
WITH locked AS (
    SELECT pg_advisory_xact_lock(hashtextextended('acd-agent:' || $1, 0))
)
SELECT acd_enqueue($1, $2, $3, $4, 'blendbot') AS id
FROM locked
WHERE NOT EXISTS (SELECT 1 FROM acd_commands
                  WHERE agent_id = $1 AND status IN ('pending', 'sent'));

-- name: drift_event
INSERT INTO blending_events (event, grp, agent_id, reason, actor)
SELECT 'drift', staffing_group(a.queue), a.agent_id, $2, 'blendbot'
FROM agents a WHERE a.agent_id = $1;

-- name: last_command
SELECT * FROM acd_commands WHERE agent_id = $1 ORDER BY id DESC LIMIT 1;

-- name: command
SELECT * FROM acd_commands WHERE id = $1;

-- name: latest_line
-- Per agent of an interruptible group holding work in progress or interrupted work, the state
-- of their most recently updated feed line.
WITH mine AS (
    SELECT a.agent_id FROM agents a
    WHERE acd_mode(a.queue) = 'interruptible'
      AND EXISTS (SELECT 1 FROM tasks t
                  WHERE t.holder = a.agent_id AND t.status IN ('in_progress', 'paused'))
)
SELECT m.agent_id, l.state
FROM mine m
JOIN LATERAL (
    SELECT p.state FROM telephony_presence p
    WHERE EXISTS (SELECT 1 FROM agent_telephony_ids t
                  WHERE t.agent_id = m.agent_id AND t.source = p.source
                    AND t.external_id = p.external_id)
       OR (p.source = 'generic' AND p.external_id = m.agent_id)
    ORDER BY p.state_at DESC LIMIT 1
) l ON true;

-- name: to_interrupt
-- Pausable work in progress of the agents $1 (on a call or wrapping one up).
SELECT t.* FROM tasks t JOIN task_types tt ON tt.name = t.type
WHERE t.status = 'in_progress' AND tt.pausable AND t.holder = ANY ($1::text[])
ORDER BY t.id;

-- name: to_pause_recalled
-- Pausable work in progress of recalled agents in `control` groups: the platform has put them
-- back on the phones, so their back-office clock stops.
SELECT t.* FROM tasks t
JOIN task_types tt ON tt.name = t.type
JOIN agents a ON a.agent_id = t.holder
WHERE t.status = 'in_progress' AND tt.pausable
  AND EXISTS (SELECT 1 FROM blending_recalls r WHERE r.agent_id = t.holder)
  AND acd_mode(a.queue) = 'control'
ORDER BY t.id;

-- name: to_resume
-- Work of the agents $1 (back from a call) that a call paused, unless they are recalled.
SELECT t.* FROM tasks t
JOIN LATERAL (
    SELECT e.event, e.data FROM task_events e WHERE e.task_id = t.id ORDER BY e.id DESC LIMIT 1
) e ON true
WHERE t.status = 'paused' AND t.holder = ANY ($1::text[])
  AND e.event = 'paused' AND e.data ->> 'interrupted_by' = 'call'
  AND NOT EXISTS (SELECT 1 FROM blending_recalls r WHERE r.agent_id = t.holder)
ORDER BY t.id;

-- name: interrupted_event
INSERT INTO blending_events (event, grp, agent_id, reason, actor)
SELECT 'interrupted', staffing_group(a.queue), a.agent_id, $2, 'blendbot'
FROM agents a WHERE a.agent_id = $1;

-- name: timeline
-- The agent's timeline since $2, newest first, at most $3 items of each kind: lends, recalls
-- and drift; each step of each state command; the agent's own actions on tasks; ids filled by
-- the roster sync, deactivation and reactivation (agent_events); and the states
-- the feeds reported (changes only, not heartbeats).
SELECT at, kind, event, detail, command_id, task_id FROM (
    (SELECT e.at, e.id AS seq, 'blending' AS kind, e.event,
            coalesce(e.reason, '') || coalesce(' (by ' || e.actor || ')', '') AS detail,
            NULL::uuid AS command_id, NULL::bigint AS task_id
     FROM blending_events e
     WHERE e.agent_id = $1 AND e.at >= $2
     ORDER BY e.id DESC LIMIT $3)
    UNION ALL
    (SELECT ce.at, ce.id, 'command', ce.event,
            c.state || ': ' || coalesce(ce.detail, ''), c.command_id, NULL
     FROM acd_command_events ce JOIN acd_commands c ON c.id = ce.command
     WHERE ce.agent_id = $1 AND ce.at >= $2
     ORDER BY ce.id DESC LIMIT $3)
    UNION ALL
    (SELECT te.at, te.id, 'task', te.event, coalesce(te.reason, ''), NULL, te.task_id
     FROM task_events te
     WHERE te.actor = $1 AND te.at >= $2
     ORDER BY te.actor, te.id DESC LIMIT $3)
    UNION ALL
    (SELECT ae.at, ae.id, 'roster', ae.event,
            concat_ws(' ', ae.detail ->> 'source', ae.detail ->> 'id', ae.detail ->> 'reason',
                      '(by ' || ae.actor || ')'),
            NULL, NULL
     FROM agent_events ae
     WHERE ae.agent_id = $1 AND ae.at >= $2
     ORDER BY ae.id DESC LIMIT $3)
    UNION ALL
    (SELECT f.at, 0, 'feed', f.state, f.source || coalesce(': ' || f.reason, ''), NULL, NULL
     FROM (
         SELECT ev.at, ev.source, ev.body ->> 'state' AS state, ev.body ->> 'reason' AS reason,
                lag(ev.body ->> 'state') OVER (PARTITION BY ev.source, ev.external_agent
                                               ORDER BY ev.at) AS before
         FROM telephony_events ev
         WHERE ev.type = 'agent_state' AND ev.at >= $2
           AND ((ev.source, ev.external_agent) IN (SELECT t.source, t.external_id
                                                   FROM agent_telephony_ids t
                                                   WHERE t.agent_id = $1)
                OR (ev.source = 'generic' AND ev.external_agent = $1))
     ) f
     WHERE f.before IS DISTINCT FROM f.state
     ORDER BY f.at DESC LIMIT $3)
) items
ORDER BY at DESC, seq DESC
LIMIT $3;
