-- name: agent_time
-- Each agent's time in a span [$1, $2), cut at $3 (now): the telephony states as the feeds
-- reported them (each state lasts until the line's next report), the back-office work's active
-- time (task segments), the time their work stood paused, and the part of the active time
-- spent on work the engine lent them in a lull. The states and steps done of local days $5
-- to $6 (zone $4) come from their roll-ups (agent_state_days, agent_work_days), the rest of
-- the span from the reports and the task log.
WITH live AS (
    SELECT CASE WHEN $6::date >= $5::date
                THEN greatest($1::timestamptz, ($6::date + 1)::timestamp AT TIME ZONE $4::text)
                ELSE $1::timestamptz END AS lo
),
ids AS (
    SELECT t.source, t.external_id, t.agent_id FROM agent_telephony_ids t
    UNION ALL
    SELECT 'generic', a.agent_id, a.agent_id FROM agents a
    WHERE NOT EXISTS (SELECT 1 FROM agent_telephony_ids t
                      WHERE t.source = 'generic' AND t.external_id = a.agent_id)
),
reports AS (
    SELECT i.agent_id, e.body ->> 'state' AS state, e.at,
           lead(e.at) OVER (PARTITION BY e.source, e.external_agent ORDER BY e.at) AS next_at
    FROM telephony_events e
    JOIN ids i ON i.source = e.source AND i.external_id = e.external_agent
    WHERE e.type = 'agent_state' AND e.at < least($2::timestamptz, $3::timestamptz)
      AND e.at >= (SELECT lo FROM live) - interval '1 day'
      AND (SELECT lo FROM live) < least($2::timestamptz, $3::timestamptz)
),
states AS (
    SELECT x.agent_id,
           sum(x.seconds) FILTER (WHERE x.state = 'on_call') AS on_call,
           sum(x.seconds) FILTER (WHERE x.state = 'after_call_work') AS wrap,
           sum(x.seconds) FILTER (WHERE x.state = 'available') AS idle,
           sum(x.seconds) FILTER (WHERE x.state = 'break') AS break
    FROM (
        SELECT r.agent_id, r.state,
               extract(epoch FROM least(coalesce(r.next_at, $3::timestamptz), $2::timestamptz,
                                        $3::timestamptz) - greatest(r.at, (SELECT lo FROM live)))
                   AS seconds
        FROM reports r
        WHERE coalesce(r.next_at, $3::timestamptz) > (SELECT lo FROM live)
        UNION ALL
        -- Each line's days summed before the lines meet their agents: one row per line and
        -- state to join, not one per day (exact: numeric seconds).
        SELECT i.agent_id, d.state, sum(d.seconds)
        FROM (SELECT x.source, x.external_agent, x.state, sum(x.seconds) AS seconds
              FROM agent_state_days x
              WHERE x.zone = $4::text AND x.day BETWEEN $5::date AND $6::date
              GROUP BY 1, 2, 3) d
        JOIN ids i ON i.source = d.source AND i.external_id = d.external_agent
        GROUP BY 1, 2
    ) x
    GROUP BY x.agent_id
),
segments AS (
    -- The days that are over from their roll-up (agent_time_days), the rest from the
    -- segments themselves: numeric seconds, so the sum is the one of the segments read whole.
    SELECT x.agent_id, sum(x.active)::float8 AS active, coalesce(sum(x.lull), 0)::float8 AS lull
    FROM (
        SELECT t.agent_id, sum(t.active) AS active, sum(t.lull) AS lull
        FROM agent_time_days t
        WHERE t.zone = $4::text AND t.day BETWEEN $5::date AND $6::date
        GROUP BY t.agent_id
        UNION ALL
        SELECT s.agent_id, w.seconds,
               CASE WHEN EXISTS (
                   SELECT 1 FROM blending_events b
                   WHERE b.event = 'lend_offered' AND b.task_id = s.task_id
                     AND b.agent_id = s.agent_id AND b.at <= s.started_at)
                    THEN w.seconds ELSE 0 END
        FROM task_segments s,
             LATERAL (SELECT extract(epoch FROM least(coalesce(s.ended_at, $3::timestamptz), $2::timestamptz)
                                                - greatest(s.started_at, (SELECT lo FROM live)))
                          AS seconds) w
        WHERE s.started_at < $2::timestamptz
          AND coalesce(s.ended_at, $3::timestamptz) > (SELECT lo FROM live)
          AND (s.ended_at > (SELECT lo FROM live) OR s.ended_at IS NULL)
    ) x
    GROUP BY x.agent_id
),
pauses AS (
    SELECT p.agent_id,
           sum(extract(epoch FROM least(p.until, $2::timestamptz, $3::timestamptz) - greatest(p.ended_at, $1::timestamptz)))::float8
               AS seconds
    FROM (
        SELECT s.agent_id, s.ended_at,
               coalesce((SELECT min(e.at) FROM task_events e
                         WHERE e.task_id = s.task_id AND e.at > s.ended_at), $3::timestamptz) AS until
        FROM task_segments s
        WHERE s.ended_by = 'paused' AND s.ended_at < $2::timestamptz
    ) p
    WHERE p.until > $1::timestamptz
    GROUP BY p.agent_id
),
done AS (
    SELECT x.agent_id, sum(x.n)::bigint AS tasks_done
    FROM (
        SELECT w.agent_id, w.steps_done AS n FROM agent_work_days w
        WHERE w.zone = $4::text AND w.day BETWEEN $5::date AND $6::date
        UNION ALL
        SELECT e.actor, 1 FROM task_events e
        WHERE e.event IN ('completed', 'step_completed') AND e.at < $2::timestamptz
          AND e.at >= live_from($1::timestamptz, $4::text, $5::date, $6::date)
    ) x
    GROUP BY x.agent_id
)
SELECT a.agent_id, a.name, a.team,
       coalesce(st.on_call, 0)::float8 AS on_call,
       coalesce(st.wrap, 0)::float8 AS wrap,
       coalesce(st.idle, 0)::float8 AS idle,
       coalesce(st.break, 0)::float8 AS break,
       coalesce(g.active, 0) AS back_office,
       coalesce(g.lull, 0) AS lull,
       coalesce(p.seconds, 0) AS paused,
       coalesce(d.tasks_done, 0) AS tasks_done
FROM agents a
LEFT JOIN states st ON st.agent_id = a.agent_id
LEFT JOIN segments g ON g.agent_id = a.agent_id
LEFT JOIN pauses p ON p.agent_id = a.agent_id
LEFT JOIN done d ON d.agent_id = a.agent_id
WHERE a.deactivated_at IS NULL
   OR st.agent_id IS NOT NULL OR g.agent_id IS NOT NULL OR d.agent_id IS NOT NULL
ORDER BY a.name, a.agent_id;

-- name: work_done
-- Each agent's completed steps in [$1, $2) by task type: how many, their active time against
-- the step's standard, and the outcomes given; local days $4 to $5 (zone $3) from their
-- roll-up, the rest from the task log.
WITH done AS (
    SELECT * FROM work_done($1::timestamptz, $2::timestamptz, $3::text, $4::date, $5::date)
),
outcomes AS (
    SELECT o.agent_id, o.type, jsonb_object_agg(o.outcome, o.n) AS outcomes
    FROM (SELECT x.agent_id, x.type, k.key AS outcome, sum(k.value::bigint)::bigint AS n
          FROM done x, jsonb_each_text(x.outcomes) k
          GROUP BY x.agent_id, x.type, k.key) o
    GROUP BY o.agent_id, o.type
),
totals AS (
    SELECT d.agent_id, d.type, sum(d.steps_done)::bigint AS done, sum(d.worked)::float8 AS worked,
           sum(d.steps_done * 60 * step_minutes(tt.steps, d.step, tt.handle_minutes))::float8
               AS standard
    FROM done d
    JOIN task_types tt ON tt.name = d.type
    GROUP BY d.agent_id, d.type
)
SELECT t.agent_id, coalesce(a.name, t.agent_id) AS name, a.team, t.type, t.done, t.worked,
       t.standard, coalesce(o.outcomes, '{}') AS outcomes
FROM totals t
LEFT JOIN agents a ON a.agent_id = t.agent_id
LEFT JOIN outcomes o ON o.agent_id = t.agent_id AND o.type = t.type
ORDER BY name, t.agent_id, t.type;

-- name: costs
-- Per task type in [$1, $2): the steps completed, their active time, and its cost at each
-- worker's cost per hour (steps done by someone without one are counted apart); local days
-- $4 to $5 (zone $3) from their roll-up. Site form (blending.sites.for_site): only the steps
-- of site $6's agents ('default': those in no site).
SELECT d.type,
       sum(d.tasks_done)::bigint AS tasks_done,
       sum(d.steps_done)::bigint AS steps_done,
       sum(d.worked)::float8 AS active_seconds,
       sum(d.worked / 3600 * a.cost_per_hour)::float8 AS cost,
       coalesce(sum(d.steps_done) FILTER (WHERE a.cost_per_hour IS NULL), 0)::bigint
           AS steps_without_cost
FROM work_done($1::timestamptz, $2::timestamptz, $3::text, $4::date, $5::date) d
LEFT JOIN agents a ON a.agent_id = d.agent_id
-- site: WHERE coalesce(a.site_id, 'default') = $6::text
GROUP BY d.type
ORDER BY d.type;

-- name: skills_gaps
-- The work waiting now ($1) per skill it needs, against the agents on shift who have the
-- skill (a shift on the schedule covers $1, or a telephony line says they are logged in) and
-- the scheduled hours of everyone with the skill from $1 to the week's end $2. A waiting task
-- is uncovered when nobody on shift has every skill its step needs. Site form: only site $3's agents
-- ('default': those in no site) are counted on shift and for the hours.
WITH ids AS (
    SELECT t.source, t.external_id, t.agent_id FROM agent_telephony_ids t
    UNION ALL
    SELECT 'generic', a.agent_id, a.agent_id FROM agents a
),
on_shift AS (
    SELECT a.agent_id FROM agents a
    WHERE a.deactivated_at IS NULL
      -- site: AND coalesce(a.site_id, 'default') = $3::text
      AND (
        EXISTS (SELECT 1 FROM agent_schedules s
                WHERE s.agent_id = a.agent_id AND s.kind = 'shift'
                  AND s.starts_at <= $1::timestamptz AND s.ends_at > $1::timestamptz)
        OR EXISTS (SELECT 1 FROM telephony_presence p
                   JOIN ids i ON i.source = p.source AND i.external_id = p.external_id
                   WHERE i.agent_id = a.agent_id AND p.state NOT IN ('offline')))
),
waiting AS (
    SELECT t.id, step_skills(tt.steps, t.step, tt.skills) AS skills,
           step_minutes(tt.steps, t.step, tt.handle_minutes) AS minutes
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.status IN ('queued', 'offered')
),
sets AS (
    SELECT DISTINCT w.skills FROM waiting w
),
covered AS (
    SELECT x.skills, EXISTS (
        SELECT 1 FROM on_shift o
        WHERE NOT EXISTS (SELECT 1 FROM unnest(x.skills) k (skill)
                          WHERE NOT EXISTS (SELECT 1 FROM agent_skills s
                                            WHERE s.agent_id = o.agent_id
                                              AND s.skill = k.skill))) AS yes
    FROM sets x
),
judged AS (
    SELECT w.*, NOT c.yes AS uncovered
    FROM waiting w JOIN covered c ON c.skills = w.skills
),
needs AS (
    SELECT k.skill, count(*) AS tasks, sum(j.minutes) / 60 AS hours,
           count(*) FILTER (WHERE j.uncovered) AS uncovered
    FROM judged j, unnest(j.skills) k (skill)
    GROUP BY k.skill
),
skills AS (
    SELECT skill FROM needs UNION SELECT skill FROM agent_skills
)
SELECT k.skill,
       coalesce(n.tasks, 0) AS waiting_tasks,
       coalesce(n.hours, 0)::float8 AS waiting_hours,
       coalesce(n.uncovered, 0) AS uncovered_tasks,
       (SELECT count(*) FROM on_shift o JOIN agent_skills s
            ON s.agent_id = o.agent_id AND s.skill = k.skill) AS skilled_on_shift,
       coalesce((SELECT sum(extract(epoch FROM least(h.ends_at, $2::timestamptz) - greatest(h.starts_at, $1::timestamptz)))
                 FROM agent_schedules h
                 JOIN agent_skills s ON s.agent_id = h.agent_id AND s.skill = k.skill
                 JOIN agents a ON a.agent_id = h.agent_id AND a.deactivated_at IS NULL
                      -- site: AND coalesce(a.site_id, 'default') = $3::text
                 WHERE h.kind = 'shift' AND h.ends_at > $1::timestamptz AND h.starts_at < $2::timestamptz), 0)::float8
           / 3600 AS skilled_hours
FROM skills k
LEFT JOIN needs n ON n.skill = k.skill
ORDER BY coalesce(n.uncovered, 0) DESC, coalesce(n.hours, 0) DESC, k.skill;

-- name: never_exposed
-- Training candidates: active agents who never worked a task type that others of their team
-- completed since $1 (local days $3 to $4 of zone $2 from their roll-up): $5 of them (all when
-- NULL) from the $6th on, in the order shown, each with how many there are in all (one row of
-- NULLs but the count when none is on that page). Site form: only site $7's agents ('default': those
-- in no site).
WITH handled AS (
    SELECT DISTINCT a.team, x.type
    FROM work_done($1::timestamptz, 'infinity'::timestamptz, $2::text, $3::date, $4::date) x
    JOIN agents a ON a.agent_id = x.agent_id
    WHERE a.team IS NOT NULL
),
found AS (
    SELECT a.agent_id, a.name, a.team, h.type
    FROM agents a
    JOIN handled h ON h.team = a.team
    LEFT JOIN agent_type_exposure x ON x.agent_id = a.agent_id AND x.type = h.type
    WHERE a.deactivated_at IS NULL AND x.agent_id IS NULL
      -- site: AND coalesce(a.site_id, 'default') = $7::text
)
SELECT c.total, p.agent_id, p.name, p.team, p.type
FROM (SELECT count(*) AS total FROM found) c
LEFT JOIN LATERAL (
    SELECT f.* FROM found f ORDER BY f.team, f.name, f.type, f.agent_id
    LIMIT $5::bigint OFFSET $6::bigint
) p ON true
ORDER BY p.team, p.name, p.type, p.agent_id;

-- name: trend_calls
-- Per local day ($3: the time zone) from $1 to $2 (dates, inclusive): the calls' service
-- level and abandonment from the interval statistics. Site form: only site $4's queues
-- ('default': those in no site).
SELECT (s.interval_start AT TIME ZONE $3::text)::date AS day,
       sum(s.offered) AS offered,
       sum(s.abandoned) AS abandoned,
       sum(s.answered_in_sl) AS in_sl,
       sum(s.answered + s.abandoned) FILTER (WHERE s.answered_in_sl IS NOT NULL) AS settled
FROM interval_stats s
WHERE s.interval_start >= ($1::date)::timestamp AT TIME ZONE $3::text
  AND s.interval_start < ($2::date + 1)::timestamp AT TIME ZONE $3::text
  -- site: AND coalesce((SELECT q.site_id FROM queue_sites q WHERE q.queue = s.queue), 'default')
  -- site:     = $4::text
GROUP BY 1
ORDER BY 1;

-- name: trend_work
-- Per local day: tasks completed, those completed by their due time; local days $4 to $5 from
-- their roll-up. Site form: only by site $6's agents ('default': those in no site).
SELECT d.day, sum(d.tasks_done)::bigint AS done, sum(d.in_sla)::bigint AS in_sla
FROM work_done((($1::date)::timestamp AT TIME ZONE $3::text)::timestamptz,
               (($2::date + 1)::timestamp AT TIME ZONE $3::text)::timestamptz,
               $3::text, $4::date, $5::date) d
-- site: WHERE coalesce((SELECT a.site_id FROM agents a WHERE a.agent_id = d.agent_id), 'default')
-- site:     = $6::text
GROUP BY d.day
HAVING sum(d.tasks_done) > 0
ORDER BY d.day;

-- name: trend_states
-- Per local day ($3: the time zone) from $1 to $2 (dates, inclusive), each telephony line's
-- seconds in each state from its state reports (each lasts until the line's next report), cut
-- at $4 (now). Read live for the last days of a range, and stored for the days that are over.
WITH bounds AS (
    SELECT ($1::date)::timestamp AT TIME ZONE $3::text AS lo,
           least(($2::date + 1)::timestamp AT TIME ZONE $3::text, $4::timestamptz) AS hi
),
reports AS (
    SELECT e.source, e.external_agent, e.body ->> 'state' AS state, e.at,
           coalesce(lead(e.at) OVER (PARTITION BY e.source, e.external_agent ORDER BY e.at),
                    (SELECT hi FROM bounds)) AS next_at
    FROM telephony_events e
    WHERE e.type = 'agent_state'
      AND e.at >= (SELECT lo FROM bounds) - interval '1 day' AND e.at < (SELECT hi FROM bounds)
      AND $1::date <= $2::date
)
SELECT d::date AS day, r.source, r.external_agent, r.state,
       sum(extract(epoch FROM least(r.next_at, (d::date + 1)::timestamp AT TIME ZONE $3::text)
                              - greatest(r.at, d::timestamp AT TIME ZONE $3::text))) AS seconds
FROM reports r,
     generate_series(greatest((r.at AT TIME ZONE $3::text)::date, $1::date),
                     least((r.next_at AT TIME ZONE $3::text)::date, $2::date),
                     interval '1 day') d
WHERE r.next_at > (SELECT lo FROM bounds)
GROUP BY 1, 2, 3, 4;

-- name: state_days_missing
-- Whether any local day $1 to $2 of zone $3 is not rolled up yet.
SELECT EXISTS (
    SELECT 1 FROM generate_series($1::date, $2::date, interval '1 day') d
    WHERE NOT EXISTS (SELECT 1 FROM agent_state_days_done x
                      WHERE x.zone = $3::text AND x.day = d::date));

-- name: claim_state_days
-- Marks the local days $1 to $2 of zone $3 as rolled up and returns those not already, so
-- each is rolled up once; a concurrent claim of the same day waits for this one's commit.
INSERT INTO agent_state_days_done (zone, day)
SELECT $3::text, d::date FROM generate_series($1::date, $2::date, interval '1 day') d
ON CONFLICT DO NOTHING
RETURNING day;

-- name: store_state_days
-- Rolls up the days $5 (of $1 to $2, zone $3, cut at $4) into agent_state_days.
INSERT INTO agent_state_days (zone, day, source, external_agent, state, seconds)
SELECT $3::text, x.day, x.source, x.external_agent, x.state, x.seconds
FROM (
    {trend_states}
) x
WHERE x.day = ANY($5::date[]);

-- name: store_work_days
-- Rolls up the completed steps of the days $4 (of $1 to $2, zone $3) into agent_work_days.
INSERT INTO agent_work_days
SELECT w.*
FROM work_rows($3::text, ($1::date)::timestamp AT TIME ZONE $3::text,
               ($2::date + 1)::timestamp AT TIME ZONE $3::text) w
WHERE w.day = ANY($4::date[]);

-- name: store_state_totals
-- Every line's seconds per state summed, for the days $2 of zone $1 just rolled up.
INSERT INTO agent_state_day_totals (zone, day, state, seconds)
SELECT d.zone, d.day, d.state, sum(d.seconds)
FROM agent_state_days d
WHERE d.zone = $1::text AND d.day = ANY($2::date[])
GROUP BY 1, 2, 3;

-- name: store_time_days
-- Rolls up the active and lull time of the days $5 (of $1 to $2, zone $3, cut at $4) into
-- agent_time_days.
INSERT INTO agent_time_days
SELECT t.* FROM time_rows($3::text, $1::date, $2::date, $4::timestamptz) t
WHERE t.day = ANY($5::date[]);

-- name: trend_presence
-- Per local day: seconds logged in (any state but offline) and on calls or wrap-up, from the
-- roll-up of days $5 to $6 (zone $3: every line's states summed per day) and the state reports of days $1 to $2 (cut at $4, now).
WITH parts AS (
    SELECT d.day, d.state, d.seconds FROM agent_state_day_totals d
    WHERE d.zone = $3::text AND d.day BETWEEN $5::date AND $6::date
    UNION ALL
    SELECT s.day, s.state, s.seconds FROM ({trend_states}) s
)
SELECT p.day,
       sum(p.seconds) FILTER (WHERE p.state NOT IN ('offline', 'unknown'))::float8 AS logged_in,
       sum(p.seconds) FILTER (WHERE p.state IN ('on_call', 'after_call_work'))::float8 AS calls
FROM parts p
GROUP BY p.day
ORDER BY p.day;

-- name: trend_presence_site
-- trend_presence for the lines of site $7's agents alone ('default': those in no site): the
-- day totals have lost which line was which, so the days that are over come from each line's
-- roll-up (agent_state_days).
WITH lines AS (
    -- The site's lines: each agent's telephony ids, and their own id on the generic feed.
    SELECT t.source, t.external_id FROM agent_telephony_ids t
    JOIN agents a ON a.agent_id = t.agent_id
    WHERE coalesce(a.site_id, 'default') = $7::text
    UNION
    SELECT 'generic', a.agent_id FROM agents a
    WHERE coalesce(a.site_id, 'default') = $7::text
      AND NOT EXISTS (SELECT 1 FROM agent_telephony_ids t
                      WHERE t.source = 'generic' AND t.external_id = a.agent_id)
),
parts AS (
    SELECT d.day, d.source, d.external_agent, d.state, d.seconds FROM agent_state_days d
    WHERE d.zone = $3::text AND d.day BETWEEN $5::date AND $6::date
    UNION ALL
    SELECT s.day, s.source, s.external_agent, s.state, s.seconds FROM ({trend_states}) s
)
SELECT p.day,
       sum(p.seconds) FILTER (WHERE p.state NOT IN ('offline', 'unknown'))::float8 AS logged_in,
       sum(p.seconds) FILTER (WHERE p.state IN ('on_call', 'after_call_work'))::float8 AS calls
FROM parts p
JOIN lines l ON l.source = p.source AND l.external_id = p.external_agent
GROUP BY p.day
ORDER BY p.day;

-- name: trend_back_office
-- Per local day ($3: the time zone) from $1 to $2: the back-office work's active time (task
-- segments), cut at $4 (now); local days $5 to $6 from their roll-up (agent_time_days). Site
-- form: only site $7's agents' ('default': those in no site).
WITH bounds AS (
    SELECT ($1::date)::timestamp AT TIME ZONE $3::text AS lo,
           least(($2::date + 1)::timestamp AT TIME ZONE $3::text, $4::timestamptz) AS hi
)
SELECT t.day, sum(t.active)::float8 AS seconds
FROM agent_time_days t
WHERE t.zone = $3::text AND t.day BETWEEN $5::date AND $6::date
  -- site: AND coalesce((SELECT a.site_id FROM agents a WHERE a.agent_id = t.agent_id), 'default')
  -- site:     = $7::text
GROUP BY t.day
UNION ALL
SELECT d::date AS day,
       sum(extract(epoch FROM
           least(coalesce(s.ended_at, $4::timestamptz), (d::date + 1)::timestamp AT TIME ZONE $3::text)
           - greatest(s.started_at, d::timestamp AT TIME ZONE $3::text)))::float8 AS seconds
FROM task_segments s,
     generate_series(greatest((s.started_at AT TIME ZONE $3::text)::date, $1::date),
                     least((coalesce(s.ended_at, $4::timestamptz) AT TIME ZONE $3::text)::date,
                           $2::date),
                     interval '1 day') d
WHERE s.started_at < (SELECT hi FROM bounds)
  AND coalesce(s.ended_at, $4::timestamptz) > (SELECT lo FROM bounds)
  AND $1::date <= $2::date
  -- site: AND coalesce((SELECT a.site_id FROM agents a WHERE a.agent_id = s.agent_id), 'default')
  -- site:     = $7::text
GROUP BY 1;

-- name: switched_on
-- When blending was switched on, up to $1.
SELECT at, changed_by FROM blending_state_changes
WHERE blending_on AND at <= $1::timestamptz
ORDER BY at;

-- name: decisions
-- The blending log in [$1, $2), oldest first, for a report or its CSV. Site form: only site
-- $5's ('default': of no site): a decision about an agent is their site's, one about a group
-- alone its queue's.
SELECT e.id, e.at, e.event, e.grp, e.agent_id, a.name AS agent_name, e.task_id, e.reason,
       e.actor, e.figures
FROM blending_events e
LEFT JOIN agents a ON a.agent_id = e.agent_id
WHERE e.at >= $1::timestamptz AND e.at < $2::timestamptz
  AND ($3::text IS NULL OR e.grp = $3)
  AND ($4::text IS NULL OR e.agent_id = $4)
  -- site: AND {site_of} = $5::text
ORDER BY e.at, e.id;
