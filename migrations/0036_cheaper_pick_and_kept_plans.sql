-- The ask for work at 32 agents at once spent most of its time in the pick (pick_next(),
-- migration 0030): per fitting group, two statements read the same top of the queue (one to
-- see how far below the top it must look, one for the candidates), and the last statement
-- read, joined and sorted every group's candidates (about a hundred rows) before it locked
-- one. Now all the groups' candidates come from one statement, and they are then tried one
-- at a time, best first, each with FOR UPDATE SKIP LOCKED: the first free one is taken, so a
-- quiet queue reads one row and a busy one a few more. Same candidates, same order, same
-- answer: only the reading is cheaper, and each try sees what others committed meanwhile.
--
-- The other functions of the ask and the claim may plan their statements anew on every call
-- (custom plans, for parameters that never change their shape); they now keep one generic
-- plan per session, as pick_next() already did.
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

ALTER FUNCTION task_transition SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION offer_next SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION claim_offer SET plan_cache_mode = force_generic_plan;

-- step_skills() read its subquery on every call, so it was called rather than inlined
-- (migration 0009), at a cost the ask for work paid once per task type and step: most of the
-- time of working out the agent's fitting groups. The subquery moves to a helper that only a
-- type with steps calls, and step_skills() itself is now inlined as step_minutes() is.
CREATE FUNCTION jsonb_text_array(items jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT jsonb_array_elements_text(items))
$$;

CREATE OR REPLACE FUNCTION step_skills(steps jsonb, step integer, skills text[])
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_array_length(steps) >= step
                THEN jsonb_text_array(steps -> (step - 1) -> 'skills')
                ELSE skills END
$$;
