-- Agent states set in the telephony platform: the mode of each staffing group, supervisors'
-- lends and recalls, and the durable outbox of state commands with every outcome.
--
-- A command is written in the same transaction as the decision that causes it, whatever the
-- path: triggers on the agent's work (tasks), their recall (blending_recalls) and a
-- supervisor's lend (blending_windows) call acd_follow, which compares what the agent should
-- be in the platform (acd_wanted) with blendbot's last command and queues a new one when they
-- differ. Only agents whose staffing group is in `control` mode get commands.
--
-- The triggers are deferred to the commit: by then the transaction has taken every row lock it
-- takes, so waiting there for the agent's lock (held by another transaction's commit, which
-- waits for nothing) cannot close a cycle; and whichever of two transactions changing one agent
-- commits second sees the first's change, so the last command is where the agent should be.

-- An agent's staffing group: the queue they answer, or the pooled group (blending/snapshot.py).
CREATE FUNCTION staffing_group(queue text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(queue, 'all queues')
$$;

-- The modes of the running service (BLENDBOT_ACD_MODE and BLENDBOT_ACD_MODES), written by
-- each instance when it starts; grp '*' is the default of every group not listed.
CREATE TABLE acd_modes (
    grp text PRIMARY KEY,
    mode text NOT NULL CHECK (mode IN ('advisory', 'control', 'interruptible'))
);

CREATE FUNCTION acd_mode(queue text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT mode FROM acd_modes WHERE grp = staffing_group(queue)),
                    (SELECT mode FROM acd_modes WHERE grp = '*'),
                    'advisory')
$$;

-- A supervisor's lend is a window like the engine's, with who granted it; the engine's rounds
-- leave it in place until it ends.
ALTER TABLE blending_windows ADD COLUMN lent_by text;

-- A supervisor's recall says who, and holds until `until` (the guard's recalls: NULL, NULL).
ALTER TABLE blending_recalls ADD COLUMN recalled_by text, ADD COLUMN until timestamptz;

ALTER TABLE blending_events ADD COLUMN actor text;
ALTER TABLE blending_events DROP CONSTRAINT blending_events_event_check;
ALTER TABLE blending_events ADD CONSTRAINT blending_events_event_check
    CHECK (event IN ('recalled', 'recall_cleared', 'guard', 'lent', 'lend_ended',
                     'interrupted', 'drift'));
CREATE INDEX blending_events_by_agent ON blending_events (agent_id, id)
    WHERE agent_id IS NOT NULL;
-- The agent's own actions on tasks, for their timeline.
CREATE INDEX task_events_by_actor ON task_events (actor, id);

-- The outbox of state commands: `pending` until a client's platform accepts it, then `sent`
-- until the feed shows the state (`confirmed`) or it is given up (`failed`); an open command
-- is `superseded` as soon as a newer one for the same agent is queued.
CREATE TABLE acd_commands (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    agent_id text NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    state text NOT NULL CHECK (state IN ('backoffice', 'available')),
    cause text NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL DEFAULT 'blendbot',
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'confirmed', 'failed', 'superseded')),
    -- The control client that took it, the agent's id there, and the feed line that confirms.
    target text,
    external_id text,
    feed_source text,
    feed_id text,
    sends integer NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    next_at timestamptz,
    leased_until timestamptz,
    sent_at timestamptz,
    confirm_by timestamptz,
    done_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX acd_commands_by_agent ON acd_commands (agent_id, id);
CREATE INDEX acd_commands_open ON acd_commands (id) WHERE status IN ('pending', 'sent');

-- What became of each command, in order: the agent's timeline shows these.
CREATE TABLE acd_command_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command bigint NOT NULL REFERENCES acd_commands (id) ON DELETE CASCADE,
    agent_id text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    event text NOT NULL CHECK (event IN ('queued', 'sent', 'throttled', 'unreachable',
                                         'confirmed', 'unconfirmed', 'failed', 'superseded')),
    detail text
);
CREATE INDEX acd_command_events_by_agent ON acd_command_events (agent_id, id);

-- Where the agent should be in the platform: back office while they hold an offer or a task in
-- progress or a supervisor's lend, unless recalled; available otherwise (paused work included).
CREATE FUNCTION acd_wanted(agent text) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM blending_recalls r WHERE r.agent_id = agent) THEN 'available'
        WHEN EXISTS (SELECT 1 FROM tasks t
                     WHERE t.holder = agent AND t.status IN ('offered', 'in_progress'))
            THEN 'backoffice'
        WHEN EXISTS (SELECT 1 FROM blending_windows w
                     WHERE w.agent_id = agent AND w.lent_by IS NOT NULL) THEN 'backoffice'
        ELSE 'available'
    END
$$;

-- Queue a command: the agent's open commands are superseded by it, each with its event.
CREATE FUNCTION acd_enqueue(agent text, wanted text, why_kind text, why text, by text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    queued bigint;
BEGIN
    WITH old AS (
        UPDATE acd_commands SET status = 'superseded', done_at = now()
        WHERE agent_id = agent AND status IN ('pending', 'sent')
        RETURNING id
    )
    INSERT INTO acd_command_events (command, agent_id, event, detail)
    SELECT id, agent, 'superseded', 'a newer command (' || wanted || ') takes its place'
    FROM old;
    INSERT INTO acd_commands (agent_id, state, cause, reason, actor)
    VALUES (agent, wanted, why_kind, why, by)
    RETURNING id INTO queued;
    INSERT INTO acd_command_events (command, agent_id, event, detail)
    VALUES (queued, agent, 'queued', wanted || ' (' || why_kind || ': ' || why || ')');
    RETURN queued;
END
$$;

-- Follow a change of the agent's work, recall or lend: in `control` mode, queue a command when
-- what the agent should be differs from blendbot's last command (never commanded: available).
-- A change is queued one transaction at a time per agent (the lock is taken only when there
-- is one to queue, and the comparison made again under it).
CREATE FUNCTION acd_follow(agent text, why_kind text, why text, by text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    wanted text;
    last text;
BEGIN
    IF agent IS NULL OR NOT EXISTS (SELECT 1 FROM acd_modes WHERE mode = 'control') THEN
        RETURN;
    END IF;
    IF (SELECT acd_mode(a.queue) FROM agents a WHERE a.agent_id = agent)
        IS DISTINCT FROM 'control' THEN
        RETURN;
    END IF;
    FOR attempt IN 1..2 LOOP
        IF attempt = 2 THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('acd-agent:' || agent, 0));
        END IF;
        wanted := acd_wanted(agent);
        SELECT c.state INTO last FROM acd_commands c WHERE c.agent_id = agent
        ORDER BY c.id DESC LIMIT 1;
        IF coalesce(last, 'available') = wanted THEN
            RETURN;
        END IF;
    END LOOP;
    PERFORM acd_enqueue(agent, wanted, why_kind, why, by);
END
$$;

CREATE FUNCTION acd_follow_task() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    agent text;
    what text := 'task #' || NEW.id || ' ' || replace(NEW.status, '_', ' ');
BEGIN
    FOR agent IN
        SELECT DISTINCT x FROM unnest(ARRAY[OLD.holder, NEW.holder]) AS x
        WHERE x IS NOT NULL ORDER BY x
    LOOP
        PERFORM acd_follow(
            agent, 'task',
            what || CASE WHEN agent IS DISTINCT FROM NEW.holder AND NEW.holder IS NOT NULL
                         THEN ' with ' || NEW.holder ELSE '' END,
            'blendbot');
    END LOOP;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER tasks_acd_follow
    AFTER UPDATE OF status, holder ON tasks
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.holder IS DISTINCT FROM NEW.holder)
    EXECUTE FUNCTION acd_follow_task();

CREATE FUNCTION acd_follow_recall() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM acd_follow(OLD.agent_id, 'recall_cleared', 'the recall ended', 'blendbot');
    ELSE
        PERFORM acd_follow(NEW.agent_id, 'recall', NEW.reason,
                           coalesce(NEW.recalled_by, 'blendbot'));
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER blending_recalls_acd_follow
    AFTER INSERT OR UPDATE OR DELETE ON blending_recalls
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION acd_follow_recall();

CREATE FUNCTION acd_follow_lend() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM acd_follow(OLD.agent_id, 'lend_ended', 'the lend by ' || OLD.lent_by || ' ended',
                           'blendbot');
    ELSE
        PERFORM acd_follow(NEW.agent_id, 'lend', 'lent by ' || NEW.lent_by, NEW.lent_by);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER blending_windows_acd_lend
    AFTER INSERT OR UPDATE ON blending_windows
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.lent_by IS NOT NULL) EXECUTE FUNCTION acd_follow_lend();
CREATE CONSTRAINT TRIGGER blending_windows_acd_lend_ended
    AFTER DELETE ON blending_windows
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.lent_by IS NOT NULL) EXECUTE FUNCTION acd_follow_lend();
