-- Every change of a source's configuration is announced on the channel `source_changes` with
-- the source's name, so that each instance drops the copy it keeps of that source
-- (task_sources/changes.py) instead of reading the configuration on every delivery.
CREATE FUNCTION source_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('source_changes', coalesce(NEW.name, OLD.name));
    RETURN NULL;
END
$$;

CREATE TRIGGER source_changed
AFTER INSERT OR UPDATE OR DELETE ON sources
FOR EACH ROW EXECUTE FUNCTION source_changed();
