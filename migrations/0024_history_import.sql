-- Imported history: closed tasks loaded from a ticketing system's export carry their
-- lifecycle's events, marked {"imported": true}. They happened elsewhere, long ago: nothing is
-- written back to the source for them.
DROP TRIGGER source_write_back ON task_events;
CREATE TRIGGER source_write_back
    AFTER INSERT ON task_events
    FOR EACH ROW
    WHEN (NEW.event IN ('claimed', 'reassigned', 'step_completed', 'completed', 'escalated',
                        'cancelled')
          AND NOT NEW.data ? 'imported')
    EXECUTE FUNCTION source_write_back();

-- Arrivals per task type and day read the tasks by creation time.
CREATE INDEX tasks_by_type_created ON tasks (type, created_at);
