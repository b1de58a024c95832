-- "Take next": a pull client (an agent's desktop, a center that accepts work automatically)
-- picks the agent's next task and claims it in one call, one transaction. The ask for work
-- and the claim were two (offer_next(), migration 0030, then claim_offer(), migration 0023),
-- each locking the agent, counting their work and writing a transition; a take does each once.
--
-- dispatch_next() is offer_next() with one more parameter, p_take: everything up to the pick
-- is the same (the agent's lock, what they hold and their limit, the estimates of their
-- fitting groups, pick_next() with FOR UPDATE SKIP LOCKED over the queue's rank index), then
-- the picked task either is offered (p_take false, the `offered` event with its reasons), or
-- goes straight to the agent in progress (p_take true): one `claimed` event from `queued`,
-- whose actor is the agent and whose data say it was taken (`taken: true`) with the reasons
-- of the pick. No offer ever stood, so no `offered` event is written: the task's history
-- says what happened, a claim straight from the queue, as an imported history's claims are
-- (and a supervisor's reassignment moves a task from `queued` to `in_progress` too); the
-- claim counts, the write-back to the source and the segments read it as any claim.
--
-- outcome 'claimed' is a take's success; the refusals are those of offer_next() (0030).
CREATE FUNCTION dispatch_next(
    p_take boolean, p_agent text, p_minutes double precision, p_pausable boolean, p_room integer,
    p_fit_margin double precision, p_top_share double precision, p_candidates integer,
    p_prior double precision, p_at timestamptz, p_expires timestamptz, p_expires_text text,
    p_fits text, p_actor text
) RETURNS TABLE (outcome text, why text[], task tasks)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
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
    IF p_take THEN
        SELECT * INTO v_task
        FROM task_transition(v_pick.id, '{queued}', 'in_progress', p_agent, 'claimed', p_agent,
                             NULL, jsonb_build_object('taken', true, 'why', to_jsonb(v_why)),
                             NULL, NULL, false);
        RETURN QUERY SELECT 'claimed'::text, v_why, v_task;
        RETURN;
    END IF;
    SELECT * INTO v_task
    FROM task_transition(v_pick.id, '{queued}', 'offered', p_agent, 'offered', p_actor, NULL,
                         jsonb_build_object('agent_id', p_agent, 'expires_at', p_expires_text,
                                            'why', to_jsonb(v_why)),
                         NULL, p_expires, false);
    RETURN QUERY SELECT 'offered'::text, v_why, v_task;
END
$$;

-- The ask for work calls dispatch_next() now (queues/dispatch.sql).
DROP FUNCTION offer_next;

-- The pick (pick_next(), migration 0036) reads each fitting group's best few tasks at the top
-- of the queue (past the top share of their SLA) from `tasks_queued_by_rank` in rank order
-- (rule boost, then id), testing each entry against the SLA as a filter. The server checks an
-- entry's visibility before that filter, in the heap when the page changed since the last
-- VACUUM, which on a busy queue is nearly every page: a group whose first tasks at the top
-- were taken made every pick visit the heap for each task before the next ones at the top
-- (thousands, on the benchmark's queue). Each task now keeps when it reaches the top at the
-- default share of 0.8 (`top_epoch`, computed by the server from the creation time and the
-- SLA; minus infinity for a task without SLA time), as the last key of the queue's index, so
-- the index itself passes over the tasks not yet at the top. The SLA test stays, so the
-- answers are the same for any share; below 0.8 the bound is not used.
ALTER TABLE tasks ADD COLUMN top_epoch double precision GENERATED ALWAYS AS (
    CASE WHEN sla_seconds <= 0 THEN '-Infinity'::double precision
         ELSE created_epoch + 0.8 * sla_seconds END) STORED;
CREATE INDEX tasks_queued_by_rank_and_top ON tasks (type, step, rule_boost DESC, id, top_epoch)
    INCLUDE (created_epoch, sla_seconds) WHERE status = 'queued';
DROP INDEX tasks_queued_by_rank;
ALTER INDEX tasks_queued_by_rank_and_top RENAME TO tasks_queued_by_rank;

CREATE OR REPLACE FUNCTION pick_next(p_agent text, p_types text[], p_steps integer[],
                                     p_top_share double precision, p_few integer)
RETURNS TABLE (id bigint, type text, step integer, rule_reasons text[], created_at timestamptz,
               due_at timestamptz, rule_boost integer, base_priority integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_now double precision := date_part('epoch', now());
    -- Every task at the top for a share of 0.8 or more has top_epoch <= now (a millisecond
    -- over, for rounding); for a smaller share the bound lets every task through.
    v_top_bound double precision :=
        CASE WHEN p_top_share >= 0.8 THEN v_now + 0.001 ELSE 'Infinity' END;
    v_ids bigint[];
    v_candidate bigint;
BEGIN
    -- Each group's best p_few (every queued task of the group when p_few is NULL), as the
    -- loop of migration 0030 read them: `top.above` is the rule boost a task below the top of
    -- the queue needs to outrank the p_few-th task at the top; NULL when the group has fewer
    -- than p_few at the top, and then the group is read whole. The top is read once, for both.
    SELECT array_agg(c.id ORDER BY c.priority DESC, c.id)
    INTO v_ids
    FROM unnest(p_types, p_steps) AS g (type, step)
    JOIN task_types tt ON tt.name = g.type
    CROSS JOIN LATERAL (
        SELECT CASE WHEN count(*) = p_few
                    THEN floor(min(x.rule_boost) + 1000 - 100 * p_top_share ^ 2)::int END
                   AS above,
               array_agg(x.id) AS ids, array_agg(x.rule_boost) AS boosts,
               array_agg(x.created_epoch) AS created, array_agg(x.sla_seconds) AS sla
        FROM (
            SELECT t.id, t.rule_boost, t.created_epoch, t.sla_seconds
            FROM tasks t
            WHERE p_few IS NOT NULL
              AND t.status = 'queued' AND t.type = g.type AND t.step = g.step
              AND t.top_epoch <= v_top_bound
              AND (t.sla_seconds <= 0
                   OR (v_now - t.created_epoch) / t.sla_seconds >= p_top_share)
            ORDER BY t.rule_boost DESC, t.id
            LIMIT p_few
        ) x
    ) top
    CROSS JOIN LATERAL (
        SELECT u.id,
               tt.base_priority + u.rule_boost
                   + sla_urgency(u.created_epoch, u.sla_seconds, v_now, p_top_share)
                   AS priority
        FROM (
            SELECT f.id, f.rule_boost, f.created_epoch, f.sla_seconds
            FROM unnest(top.ids, top.boosts, top.created, top.sla)
                 AS f (id, rule_boost, created_epoch, sla_seconds)
            WHERE top.above IS NOT NULL
            UNION ALL
            SELECT t.id, t.rule_boost, t.created_epoch, t.sla_seconds
            FROM tasks t
            WHERE t.status = 'queued' AND t.type = g.type AND t.step = g.step
              AND t.rule_boost > top.above AND t.id <> ALL (top.ids)
            UNION ALL
            SELECT t.id, t.rule_boost, t.created_epoch, t.sla_seconds
            FROM tasks t
            WHERE top.above IS NULL
              AND t.status = 'queued' AND t.type = g.type AND t.step = g.step
        ) u
        ORDER BY priority DESC, u.id
        LIMIT p_few
    ) c;

    -- The best one still queued, not skipped lately by the agent and not being offered by
    -- another transaction right now.
    FOREACH v_candidate IN ARRAY coalesce(v_ids, '{}') LOOP
        RETURN QUERY
        SELECT t.id, t.type, t.step, t.rule_reasons, t.created_at, t.due_at, t.rule_boost,
               tt.base_priority
        FROM tasks t
        JOIN task_types tt ON tt.name = t.type
        WHERE t.id = v_candidate AND t.status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM task_skips s
                          WHERE s.task_id = t.id AND s.agent_id = p_agent AND s.until > now())
        FOR UPDATE OF t SKIP LOCKED;
        IF FOUND THEN
            RETURN;
        END IF;
    END LOOP;
END
$$;
