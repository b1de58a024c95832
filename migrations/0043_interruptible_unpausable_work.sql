-- In `interruptible` mode a call pauses a lent agent's work, so only pausable work was lent
-- there, and work that cannot be paused (an account opening) waited for an agent of another
-- mode: a tenth of the simulated center's work, never done by an interruptible center. Now
-- such work is lent there too, to the windows the forecast spares without the interruptible
-- extra (blending/policy.py), and its holder leaves routing for it as in `control` mode: the
-- platform is told to set them to the back-office status while they hold an offer or work of
-- a type that cannot be paused, unless recalled or deactivated, and back to available after.

-- Where an agent of an interruptible group should be in the platform.
CREATE FUNCTION acd_wanted_interruptible(agent text) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM agents a
                     WHERE a.agent_id = agent AND a.deactivated_at IS NOT NULL) THEN 'available'
        WHEN EXISTS (SELECT 1 FROM blending_recalls r WHERE r.agent_id = agent) THEN 'available'
        WHEN EXISTS (SELECT 1 FROM tasks t JOIN task_types tt ON tt.name = t.type
                     WHERE t.holder = agent AND t.status IN ('offered', 'in_progress')
                       AND NOT tt.pausable)
            THEN 'backoffice'
        ELSE 'available'
    END
$$;

-- As before for `control` groups; `interruptible` groups now follow the rule above.
CREATE OR REPLACE FUNCTION acd_follow(agent text, why_kind text, why text, by text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    wanted text;
    last text;
    agent_mode text;
BEGIN
    IF agent IS NULL
       OR NOT EXISTS (SELECT 1 FROM acd_modes WHERE mode IN ('control', 'interruptible')) THEN
        RETURN;
    END IF;
    SELECT acd_mode(a.queue) INTO agent_mode FROM agents a WHERE a.agent_id = agent;
    IF agent_mode IS NULL OR agent_mode NOT IN ('control', 'interruptible') THEN
        RETURN;
    END IF;
    FOR attempt IN 1..2 LOOP
        IF attempt = 2 THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('acd-agent:' || agent, 0));
        END IF;
        wanted := CASE agent_mode WHEN 'control' THEN acd_wanted(agent)
                                  ELSE acd_wanted_interruptible(agent) END;
        SELECT c.state INTO last FROM acd_commands c WHERE c.agent_id = agent
        ORDER BY c.id DESC LIMIT 1;
        IF coalesce(last, 'available') = wanted THEN
            RETURN;
        END IF;
    END LOOP;
    PERFORM acd_enqueue(agent, wanted, why_kind, why, by);
END
$$;
