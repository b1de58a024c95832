-- An agent's ask for work in one round trip: offer_next() does what Dispatcher.next_for did in
-- six (begin, lock the agent, read what they hold with their fitting groups and handle-time
-- samples, pick with SKIP LOCKED, offer, commit). Same steps, same order, same answers: lock
-- the agent's row; give back what they hold when at the limit (or their open offer, or their
-- paused work); else estimate each waiting group's minutes for this agent, keep the groups
-- that fit, pick the best task of them with FOR UPDATE SKIP LOCKED, and offer it through
-- task_transition() with its event row, whose `why` is written here too.
--
-- A plpgsql function, so that each statement after the agent's lock takes a fresh snapshot
-- and sees what another transaction of this agent committed while this one waited.

-- The reasons of a task's rank as queues/priority.py `explain` words them, e.g. "SLA in 1h40
-- +35", "type base +5", then the rules' reasons. round() on double precision rounds half to
-- even, as Python's does.
CREATE FUNCTION rank_reasons(base integer, rule_reasons text[], created timestamptz,
                             due timestamptz, at timestamptz, top_share double precision)
RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    total double precision := extract(epoch FROM due - created)::double precision;
    used double precision;
    urgency double precision;
    left_s double precision := extract(epoch FROM due - at)::double precision;
    m bigint := floor(abs(left_s::numeric) / 60);
    shown text;
    lead text;
BEGIN
    IF total <= 0 THEN
        urgency := 1000;
    ELSE
        used := greatest(0::double precision,
                         extract(epoch FROM at - created)::double precision / total);
        urgency := CASE WHEN used >= top_share THEN 1000 ELSE 100 * used ^ 2 END;
    END IF;
    shown := CASE
        WHEN m >= 1440 THEN (m / 1440) || 'd' || lpad(((m / 60) % 24)::text, 2, '0') || 'h'
        WHEN m >= 60 THEN (m / 60) || 'h' || lpad((m % 60)::text, 2, '0')
        ELSE m || ' min' END;
    lead := CASE WHEN left_s >= 0 THEN 'SLA in ' || shown
                 ELSE 'SLA breached ' || shown || ' ago' END;
    RETURN ARRAY[CASE WHEN urgency < 1000 THEN lead || ' +' || round(urgency)::bigint
                      ELSE lead || ': top of the queue' END]
           || CASE WHEN base > 0 THEN ARRAY['type base +' || base]
                   WHEN base < 0 THEN ARRAY['type base ' || base]
                   ELSE '{}'::text[] END
           || rule_reasons;
END
$$;

-- The best queued task of the fitting groups that the agent did not skip lately, locked: what
-- queues/tasks.sql `pick_for_agent` was, moved here so that offer_next() and that query share
-- it (and plpgsql keeps its plan for the session).
-- The best queued task of the fitting groups (p_types, p_steps) that the agent did not skip
-- lately, locked. Each group's best p_few tasks are read from the queue's index alone (all of
-- them when p_few is NULL); a task another transaction is offering right now is passed over
-- (SKIP LOCKED), and one offered since this statement began fails the re-check of its status,
-- so agents asking at once each get a distinct task while any remain.
--
-- A group's best p_few are found without working out every queued task's priority when the
-- group has at least p_few tasks at the top of the queue (past the top share p_top_share of
-- their SLA): those rank by rule boost, then id, which is the order of the index
-- `tasks_queued_by_rank` (migration 0023), so reading stops at the p_few-th. Below the top, a
-- task's urgency is under 100 * p_top_share^2, so only a task whose boost is more than
-- 1000 - 100 * p_top_share^2 above the p_few-th's can outrank it; those are read too. A group
-- with fewer tasks at the top is read whole, as every group is with p_few NULL.
CREATE FUNCTION pick_next(p_agent text, p_types text[], p_steps integer[],
                          p_top_share double precision, p_few integer)
RETURNS TABLE (id bigint, type text, step integer, rule_reasons text[], created_at timestamptz,
               due_at timestamptz, rule_boost integer, base_priority integer)
LANGUAGE plpgsql
-- Custom plans were planned anew on every call (the server judged them cheaper to run than a
-- generic plan, not counting their planning), which took longer than the pick itself.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_now double precision := date_part('epoch', now());
    g record;
    v_above integer;
    v_ids bigint[] := '{}';
    v_priorities double precision[] := '{}';
BEGIN
    -- One group at a time, in short statements whose plans the session keeps: planning the
    -- whole pick as one statement cost more than running it.
    FOR g IN
        SELECT f.type, f.step, tt.base_priority
        FROM unnest(p_types, p_steps) AS f (type, step)
        JOIN task_types tt ON tt.name = f.type
    LOOP
        v_above := NULL;
        IF p_few IS NOT NULL THEN
            SELECT CASE WHEN count(*) = p_few
                        THEN floor(min(x.rule_boost) + 1000 - 100 * p_top_share ^ 2)::int END
            INTO v_above
            FROM (
                SELECT t.rule_boost
                FROM tasks t
                WHERE t.status = 'queued' AND t.type = g.type AND t.step = g.step
                  AND (t.sla_seconds <= 0
                       OR (v_now - t.created_epoch) / t.sla_seconds >= p_top_share)
                ORDER BY t.rule_boost DESC, t.id
                LIMIT p_few
            ) x;
        END IF;
        IF v_above IS NULL THEN
            SELECT v_ids || coalesce(array_agg(c.id ORDER BY c.priority DESC, c.id), '{}'),
                   v_priorities
                       || coalesce(array_agg(c.priority ORDER BY c.priority DESC, c.id), '{}')
            INTO v_ids, v_priorities
            FROM (
                SELECT t.id,
                       g.base_priority + t.rule_boost
                           + sla_urgency(t.created_epoch, t.sla_seconds, v_now, p_top_share)
                           AS priority
                FROM tasks t
                WHERE t.status = 'queued' AND t.type = g.type AND t.step = g.step
                ORDER BY priority DESC, t.id
                LIMIT p_few
            ) c;
        ELSE
            SELECT v_ids || coalesce(array_agg(c.id ORDER BY c.priority DESC, c.id), '{}'),
                   v_priorities
                       || coalesce(array_agg(c.priority ORDER BY c.priority DESC, c.id), '{}')
            INTO v_ids, v_priorities
            FROM (
                SELECT u.id,
                       g.base_priority + u.rule_boost
                           + sla_urgency(u.created_epoch, u.sla_seconds, v_now, p_top_share)
                           AS priority
                FROM (
                    (SELECT t.id, t.rule_boost, t.created_epoch, t.sla_seconds
                     FROM tasks t
                     WHERE t.status = 'queued' AND t.type = g.type AND t.step = g.step
                       AND (t.sla_seconds <= 0
                            OR (v_now - t.created_epoch) / t.sla_seconds >= p_top_share)
                     ORDER BY t.rule_boost DESC, t.id
                     LIMIT p_few)
                    UNION
                    SELECT t.id, t.rule_boost, t.created_epoch, t.sla_seconds
                    FROM tasks t
                    WHERE t.status = 'queued' AND t.type = g.type AND t.step = g.step
                      AND t.rule_boost > v_above
                ) u
                ORDER BY priority DESC, u.id
                LIMIT p_few
            ) c;
        END IF;
    END LOOP;
    RETURN QUERY
    SELECT t.id, t.type, t.step, t.rule_reasons, t.created_at, t.due_at, t.rule_boost,
           tt.base_priority
    FROM unnest(v_ids, v_priorities) AS c (id, priority)
    JOIN tasks t ON t.id = c.id
    JOIN task_types tt ON tt.name = t.type
    WHERE t.status = 'queued'
      AND NOT EXISTS (SELECT 1 FROM task_skips s
                      WHERE s.task_id = t.id AND s.agent_id = p_agent AND s.until > now())
    ORDER BY c.priority DESC, t.id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED;
END
$$;

-- outcome: 'missing' or 'inactive' (the agent), 'held' (task: the work they hold), 'no_match'
-- (no waiting group fits their skills), 'no_time' (p_minutes is NULL), 'no_fit' (no group fits
-- the minutes), 'taken' (the fitting tasks went to others), 'offered' (task, with `why`).
-- p_fits is the last reason ("fits your 30 min ..."), worded by the caller.
CREATE FUNCTION offer_next(
    p_agent text, p_minutes double precision, p_pausable boolean, p_room integer,
    p_fit_margin double precision, p_top_share double precision, p_candidates integer,
    p_prior double precision, p_at timestamptz, p_expires timestamptz, p_expires_text text,
    p_fits text, p_actor text
) RETURNS TABLE (outcome text, why text[], task tasks)
LANGUAGE plpgsql AS $$
DECLARE
    v_inactive boolean;
    v_held tasks;
    v_count integer;
    v_types text[];
    v_steps integer[];
    v_minutes double precision[];
    v_any boolean;
    v_few integer;
    v_pick record;
    v_why text[];
    v_estimate double precision;
    v_task tasks;
BEGIN
    SELECT a.deactivated_at IS NOT NULL INTO v_inactive FROM agents a
    WHERE a.agent_id = p_agent
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing'::text, NULL::text[], NULL::tasks;
        RETURN;
    END IF;
    IF v_inactive THEN
        RETURN QUERY SELECT 'inactive'::text, NULL::text[], NULL::tasks;
        RETURN;
    END IF;

    -- What the agent holds (queues/tasks.sql `held_by`): open offers first, then work in
    -- progress, then paused work.
    SELECT count(*) INTO v_count FROM tasks t
    WHERE t.holder = p_agent
      AND (t.status IN ('in_progress', 'paused')
           OR (t.status = 'offered' AND t.offer_expires_at > now()));
    IF v_count > 0 THEN
        SELECT t.* INTO v_held FROM tasks t
        WHERE t.holder = p_agent
          AND (t.status IN ('in_progress', 'paused')
               OR (t.status = 'offered' AND t.offer_expires_at > now()))
        ORDER BY CASE t.status WHEN 'offered' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END, t.id
        LIMIT 1;
        IF v_held.status <> 'in_progress' OR v_count >= p_room THEN
            RETURN QUERY SELECT 'held'::text, NULL::text[], v_held;
            RETURN;
        END IF;
    END IF;

    -- The waiting groups the agent has the skills for (queues/tasks.sql `work_context`), each
    -- with the agent's expected minutes (queues/estimates.py): the agent's own mean shrunk
    -- toward the team's on that group, itself shrunk toward the configured minutes; the team
    -- counts only on groups the agent has a sample of, as the estimates are loaded.
    WITH me AS (
        SELECT coalesce(array_agg(s.skill), '{}') AS skills
        FROM agent_skills s WHERE s.agent_id = p_agent
    ),
    grp AS (
        SELECT tt.name AS type, g.step,
               step_minutes(tt.steps, g.step, tt.handle_minutes) AS configured
        FROM task_types tt
        CROSS JOIN me
        CROSS JOIN LATERAL generate_series(1, step_count(tt.steps)) AS g (step)
        CROSS JOIN LATERAL (
            SELECT 1 FROM tasks t
            WHERE t.status = 'queued' AND t.type = tt.name AND t.step = g.step
              AND NOT EXISTS (SELECT 1 FROM task_skips s
                              WHERE s.task_id = t.id AND s.agent_id = p_agent
                                AND s.until > now())
            LIMIT 1
        ) waiting
        WHERE step_skills(tt.steps, g.step, tt.skills) <@ me.skills
          AND (NOT p_pausable OR tt.pausable)
    ),
    own AS (
        SELECT h.type, h.step, h.completed, h.total_seconds / 60 AS total
        FROM handle_times h WHERE h.agent_id = p_agent
    ),
    team AS (
        SELECT h.type, h.step, sum(h.completed) AS n,
               sum(h.total_seconds / 60 ORDER BY h.agent_id) AS total
        FROM handle_times h JOIN own ON own.type = h.type AND own.step = h.step
        GROUP BY h.type, h.step
    ),
    est AS (
        SELECT grp.type, grp.step,
               (coalesce(own.total, 0) + p_prior * prior.minutes)
                   / (coalesce(own.completed, 0) + p_prior) AS minutes
        FROM grp
        LEFT JOIN own ON own.type = grp.type AND own.step = grp.step
        LEFT JOIN team ON team.type = grp.type AND team.step = grp.step
        CROSS JOIN LATERAL (
            SELECT (coalesce(team.total, 0) + p_prior * grp.configured)
                       / (coalesce(team.n, 0) + p_prior) AS minutes
        ) prior
    )
    SELECT count(*) > 0,
           array_agg(est.type ORDER BY est.type, est.step)
               FILTER (WHERE est.minutes * p_fit_margin <= p_minutes),
           array_agg(est.step ORDER BY est.type, est.step)
               FILTER (WHERE est.minutes * p_fit_margin <= p_minutes),
           array_agg(est.minutes ORDER BY est.type, est.step)
               FILTER (WHERE est.minutes * p_fit_margin <= p_minutes)
    INTO v_any, v_types, v_steps, v_minutes
    FROM est;
    IF NOT v_any THEN
        RETURN QUERY SELECT 'no_match'::text, NULL::text[], NULL::tasks;
        RETURN;
    END IF;
    IF p_minutes IS NULL THEN
        RETURN QUERY SELECT 'no_time'::text, NULL::text[], NULL::tasks;
        RETURN;
    END IF;
    IF v_types IS NULL THEN
        RETURN QUERY SELECT 'no_fit'::text, NULL::text[], NULL::tasks;
        RETURN;
    END IF;

    -- The best task of the fitting groups, as queues/tasks.sql `pick_for_agent` picks it: each
    -- group's best few first, the whole queue of those groups when others took those.
    FOREACH v_few IN ARRAY ARRAY[p_candidates, NULL] LOOP
        SELECT * INTO v_pick FROM pick_next(p_agent, v_types, v_steps, p_top_share, v_few);
        EXIT WHEN v_pick.id IS NOT NULL;
    END LOOP;
    IF v_pick.id IS NULL THEN
        RETURN QUERY SELECT 'taken'::text, NULL::text[], NULL::tasks;
        RETURN;
    END IF;

    SELECT u.m INTO v_estimate
    FROM unnest(v_types, v_steps, v_minutes) AS u (t, s, m)
    WHERE u.t = v_pick.type AND u.s = v_pick.step;
    v_why := rank_reasons(v_pick.base_priority, v_pick.rule_reasons, v_pick.created_at,
                          v_pick.due_at, p_at, p_top_share)
             || ('about ' || round(v_estimate)::bigint || ' min for you')
             || p_fits;
    SELECT * INTO v_task
    FROM task_transition(v_pick.id, '{queued}', 'offered', p_agent, 'offered', p_actor, NULL,
                         jsonb_build_object('agent_id', p_agent, 'expires_at', p_expires_text,
                                            'why', to_jsonb(v_why)),
                         NULL, p_expires, false);
    RETURN QUERY SELECT 'offered'::text, v_why, v_task;
END
$$;
