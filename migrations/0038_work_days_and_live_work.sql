-- The reports' completed steps per local day, beside the agents' states of 0029: a range
-- reads one row per agent, task type, step and day that is over (rolled up once, with the
-- states: agent_state_days_done marks both) and only the last days from the task log.

-- The completed steps of [lo, hi) per local day of zone z, agent, task type and step: how
-- many, how many completed their task, the active time, how many were done within the
-- step's standard and how many tasks by their due time (both judged when rolled up), and the
-- outcomes given.
CREATE FUNCTION work_rows(z text, lo timestamptz, hi timestamptz)
RETURNS TABLE (zone text, day date, agent_id text, type text, step integer, steps_done bigint,
               tasks_done bigint, worked double precision, on_standard bigint, in_sla bigint,
               outcomes jsonb)
LANGUAGE sql STABLE AS $$
    SELECT z, o.day, o.agent_id, o.type, o.step, sum(o.n)::bigint, sum(o.completed)::bigint,
           sum(o.worked), sum(o.on_standard)::bigint, sum(o.in_sla)::bigint,
           coalesce(jsonb_object_agg(o.outcome, o.n) FILTER (WHERE o.outcome IS NOT NULL), '{}')
    FROM (
        SELECT (e.at AT TIME ZONE z)::date AS day, e.actor AS agent_id, t.type,
               coalesce((e.data ->> 'step')::int, 1) AS step, e.data ->> 'outcome' AS outcome,
               count(*) AS n,
               count(*) FILTER (WHERE e.event = 'completed') AS completed,
               sum(coalesce((e.data ->> 'worked_seconds')::float8, 0)) AS worked,
               count(*) FILTER (WHERE coalesce((e.data ->> 'worked_seconds')::float8, 0)
                   <= 60 * step_minutes(tt.steps, coalesce((e.data ->> 'step')::int, 1),
                                        tt.handle_minutes)) AS on_standard,
               count(*) FILTER (WHERE e.event = 'completed' AND e.at <= t.due_at) AS in_sla
        FROM task_events e
        -- One task by its key for each step (OFFSET 0: never a pass over every task for the
        -- few steps of a day or two).
        JOIN LATERAL (SELECT k.type, k.due_at FROM tasks k WHERE k.id = e.task_id OFFSET 0) t
            ON true
        LEFT JOIN task_types tt ON tt.name = t.type
        WHERE e.event IN ('completed', 'step_completed') AND e.at >= lo AND e.at < hi
        GROUP BY 1, 2, 3, 4, 5
    ) o
    GROUP BY o.day, o.agent_id, o.type, o.step
$$;

-- Where a range's raw rows start: after its last day read from a roll-up (none when last is
-- before first).
CREATE FUNCTION live_from(start timestamptz, z text, first date, last date)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN last >= first
                THEN greatest(start, (last + 1)::timestamp AT TIME ZONE z)
                ELSE start END
$$;

CREATE TABLE agent_work_days (
    zone text NOT NULL,
    day date NOT NULL,
    agent_id text NOT NULL,
    type text NOT NULL,
    step integer NOT NULL,
    steps_done bigint NOT NULL,
    tasks_done bigint NOT NULL,
    worked double precision NOT NULL,
    on_standard bigint NOT NULL,
    in_sla bigint NOT NULL,
    outcomes jsonb NOT NULL
);
CREATE INDEX agent_work_days_by_day ON agent_work_days (zone, day);

-- The steps done in [lo, hi): the local days first to last of zone z from their roll-up, the
-- rest from the task log. One body for every report that reads the steps done.
CREATE FUNCTION work_done(lo timestamptz, hi timestamptz, z text, first date, last date)
RETURNS SETOF agent_work_days LANGUAGE sql STABLE AS $$
    SELECT w.* FROM agent_work_days w WHERE w.zone = z AND w.day BETWEEN first AND last
    UNION ALL
    SELECT r.* FROM work_rows(coalesce(z, 'UTC'), live_from(lo, z, first, last), hi) r
$$;

-- The days already rolled up get their work too.
INSERT INTO agent_work_days
SELECT w.*
FROM (SELECT d.zone, min(d.day) AS first, max(d.day) AS last
      FROM agent_state_days_done d GROUP BY d.zone) z,
     LATERAL work_rows(z.zone, z.first::timestamp AT TIME ZONE z.zone,
                       (z.last + 1)::timestamp AT TIME ZONE z.zone) w
WHERE EXISTS (SELECT 1 FROM agent_state_days_done d WHERE d.zone = z.zone AND d.day = w.day);

-- Every task type each agent ever worked on (opened a segment of), kept as segments open: the
-- coaching's training candidates are those never exposed to a type their team handles.
CREATE TABLE agent_type_exposure (
    agent_id text NOT NULL,
    type text NOT NULL,
    PRIMARY KEY (agent_id, type)
);
INSERT INTO agent_type_exposure
SELECT DISTINCT s.agent_id, t.type FROM task_segments s JOIN tasks t ON t.id = s.task_id;

CREATE FUNCTION task_segments_exposed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO agent_type_exposure (agent_id, type)
    SELECT DISTINCT s.agent_id, t.type FROM added s JOIN tasks t ON t.id = s.task_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER task_segments_exposed
AFTER INSERT ON task_segments REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION task_segments_exposed();

-- A completion stamped on a day already rolled up (an imported history) rolls that day up
-- again. (Work is not announced with a NOTIFY: that serializes the commits of the claim path;
-- the console reads the task log's last id instead.)
CREATE FUNCTION task_events_work() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    late record;
BEGIN
    FOR late IN
        SELECT DISTINCT d.zone, d.day
        FROM added e
        JOIN agent_state_days_done d ON d.day = (e.at AT TIME ZONE d.zone)::date
        WHERE e.event IN ('completed', 'step_completed')
    LOOP
        DELETE FROM agent_work_days w WHERE w.zone = late.zone AND w.day = late.day;
        INSERT INTO agent_work_days
        SELECT * FROM work_rows(late.zone, late.day::timestamp AT TIME ZONE late.zone,
                                (late.day + 1)::timestamp AT TIME ZONE late.zone);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER task_events_work
AFTER INSERT ON task_events REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION task_events_work();

-- The report's paused work reads only the segments that ended in a pause.
CREATE INDEX task_segments_paused ON task_segments (ended_at) WHERE ended_by = 'paused';
