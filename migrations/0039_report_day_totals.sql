-- A completion is stamped on a day already rolled up only by an imported history: the
-- importer rolls those days up again itself (queues/history.sql, roll_up_again), in its own
-- transaction, so no transition of the live path pays for a statement trigger any more.
DROP TRIGGER task_events_work ON task_events;
DROP FUNCTION task_events_work();

-- The seconds of each state per local day over every line (what Trends reads for a day that
-- is over: utilization), summed from agent_state_days as each day is rolled up.
CREATE TABLE agent_state_day_totals (
    zone text NOT NULL,
    day date NOT NULL,
    state text,
    seconds numeric NOT NULL
);
CREATE INDEX agent_state_day_totals_by_day ON agent_state_day_totals (zone, day);
INSERT INTO agent_state_day_totals (zone, day, state, seconds)
SELECT d.zone, d.day, d.state, sum(d.seconds) FROM agent_state_days d GROUP BY 1, 2, 3;

-- Each agent's active time on back-office work (task segments) per local day of zone z from
-- first to last, cut at the instant cut, and the part of it on work lent in a lull. Numeric
-- seconds: the days of a range add up to exactly what the range's segments give read whole.
CREATE FUNCTION time_rows(z text, first date, last date, cut timestamptz)
RETURNS TABLE (zone text, day date, agent_id text, active numeric, lull numeric)
LANGUAGE sql STABLE AS $$
    SELECT z, p.day, p.agent_id, sum(p.seconds),
           coalesce(sum(p.seconds) FILTER (WHERE p.lent), 0)
    FROM (
        SELECT d::date AS day, s.agent_id,
               extract(epoch FROM least(coalesce(s.ended_at, cut),
                                        (d::date + 1)::timestamp AT TIME ZONE z)
                                  - greatest(s.started_at, d::timestamp AT TIME ZONE z))
                   AS seconds,
               EXISTS (SELECT 1 FROM blending_events b
                       WHERE b.event = 'lend_offered' AND b.task_id = s.task_id
                         AND b.agent_id = s.agent_id AND b.at <= s.started_at) AS lent
        FROM task_segments s,
             generate_series(greatest((s.started_at AT TIME ZONE z)::date, first),
                             least((coalesce(s.ended_at, cut) AT TIME ZONE z)::date, last),
                             interval '1 day') d
        WHERE s.started_at < (last + 1)::timestamp AT TIME ZONE z
          AND coalesce(s.ended_at, cut) > first::timestamp AT TIME ZONE z
          AND (s.ended_at > first::timestamp AT TIME ZONE z OR s.ended_at IS NULL)
          -- The segments a day reads whole (agent_time): those that overlap it.
          AND s.started_at < (d::date + 1)::timestamp AT TIME ZONE z
          AND coalesce(s.ended_at, cut) > d::timestamp AT TIME ZONE z
    ) p
    GROUP BY p.day, p.agent_id
$$;

CREATE TABLE agent_time_days (
    zone text NOT NULL,
    day date NOT NULL,
    agent_id text NOT NULL,
    active numeric NOT NULL,
    lull numeric NOT NULL
);
CREATE INDEX agent_time_days_by_day ON agent_time_days (zone, day);
INSERT INTO agent_time_days
SELECT t.*
FROM (SELECT d.zone, min(d.day) AS first, max(d.day) AS last
      FROM agent_state_days_done d GROUP BY d.zone) z,
     LATERAL time_rows(z.zone, z.first, z.last, now()) t
WHERE EXISTS (SELECT 1 FROM agent_state_days_done d WHERE d.zone = z.zone AND d.day = t.day);
