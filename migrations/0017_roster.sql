-- Who is who: agents' emails (what the roster sync matches people by across systems), agents
-- deactivated without losing their history, each change to an agent's identity as an event,
-- and each run of the roster sync with its report.

ALTER TABLE agents
    ADD COLUMN email text,
    ADD COLUMN deactivated_at timestamptz,
    ADD COLUMN deactivated_by text;
CREATE INDEX agents_by_email ON agents (lower(btrim(email))) WHERE email IS NOT NULL;

-- The agent's history of who they are: ids filled by the roster sync, deactivation and
-- reactivation, with who did it. The agent's timeline shows these.
CREATE TABLE agent_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id text NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT now(),
    event text NOT NULL CHECK (event IN ('id_filled', 'deactivated', 'reactivated')),
    actor text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX agent_events_by_agent ON agent_events (agent_id, id);

-- One row per roster sync that wrote (a dry run writes nothing): when, by whom or what
-- (`cli`, `tick`), what it counted, and its whole report.
CREATE TABLE roster_syncs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    matched integer NOT NULL CHECK (matched >= 0),
    filled integer NOT NULL CHECK (filled >= 0),
    conflicts integer NOT NULL CHECK (conflicts >= 0),
    unmatched integer NOT NULL CHECK (unmatched >= 0),
    failed text[] NOT NULL DEFAULT '{}',
    report jsonb NOT NULL
);
CREATE INDEX roster_syncs_by_actor ON roster_syncs (actor, at);

-- A deactivated agent is not lent: back to available in the platform, whatever they held.
CREATE OR REPLACE FUNCTION acd_wanted(agent text) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM agents a
                     WHERE a.agent_id = agent AND a.deactivated_at IS NOT NULL) THEN 'available'
        WHEN EXISTS (SELECT 1 FROM blending_recalls r WHERE r.agent_id = agent) THEN 'available'
        WHEN EXISTS (SELECT 1 FROM tasks t
                     WHERE t.holder = agent AND t.status IN ('offered', 'in_progress'))
            THEN 'backoffice'
        WHEN EXISTS (SELECT 1 FROM blending_windows w
                     WHERE w.agent_id = agent AND w.lent_by IS NOT NULL) THEN 'backoffice'
        ELSE 'available'
    END
$$;

-- Deactivating an agent queues, in control mode, the command that puts them back to available
-- (through the outbox, at the commit, like every other change of an agent's work).
CREATE FUNCTION acd_follow_deactivation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM acd_follow(NEW.agent_id, 'deactivated', 'the agent was deactivated',
                       coalesce(NEW.deactivated_by, 'blendbot'));
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER agents_acd_deactivated
    AFTER UPDATE OF deactivated_at ON agents
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.deactivated_at IS NULL AND NEW.deactivated_at IS NOT NULL)
    EXECUTE FUNCTION acd_follow_deactivation();
