-- Recognition in the console (top performers, most improved, streaks and badges) is opt-out
-- for each agent: with it off, they appear in no ranking and wear no badge. Who turned it off
-- or on, and when, is in the agent's events.
ALTER TABLE agents ADD COLUMN recognition boolean NOT NULL DEFAULT true;

ALTER TABLE agent_events DROP CONSTRAINT agent_events_event_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_event_check CHECK (event IN (
    'id_filled', 'deactivated', 'reactivated', 'recognition_on', 'recognition_off'));

-- Each statement that records decisions (lends, holds, recalls, offers, expiries) announces
-- it on `console_changes` at commit, so the open consoles of every instance show it at once
-- whichever instance decided. Once per statement, and none for a statement that inserted
-- nothing: a tick's many rows are one notice (PostgreSQL folds a transaction's equal ones).
CREATE FUNCTION console_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM added) THEN
        PERFORM pg_notify('console_changes', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER console_changed
AFTER INSERT ON blending_events REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION console_changed();
