-- Active time: work on a task is recorded as segments, so that pauses are not counted as work.
--
-- A segment is one stretch of one agent's work on one step of a task: it starts when the task
-- goes in progress for that agent (claimed, resumed, reassigned to them) and ends when it stops
-- being in progress for them (paused, released, escalated, reassigned away, cancelled,
-- completed). Each is written by the same statement as the transition that starts or ends it.
-- Offers are not work: offering, skipping, lapsing and withdrawing write no segment.
CREATE TABLE task_segments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks (id),
    -- No foreign key: the history outlives the roster, as task_events.actor does.
    agent_id text NOT NULL,
    step integer NOT NULL,
    started_at timestamptz NOT NULL,
    started_by text NOT NULL,
    ended_at timestamptz,
    ended_by text,
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
-- At most one open segment per task: the one of the task in progress.
CREATE UNIQUE INDEX task_segments_open ON task_segments (task_id) WHERE ended_at IS NULL;
CREATE INDEX task_segments_by_task ON task_segments (task_id, id);
-- Reports read the segments that ended since a time, and the open ones.
CREATE INDEX task_segments_by_end ON task_segments (ended_at);

ALTER TABLE tasks
    -- The current holder's active seconds on the current step in segments already ended;
    -- reset when the task changes hands or goes back to the queue.
    ADD COLUMN active_seconds double precision NOT NULL DEFAULT 0,
    -- When the open segment began: set while the task is in progress, NULL otherwise. Active
    -- time so far is active_seconds + (now() - active_since).
    ADD COLUMN active_since timestamptz,
    -- When the task was paused, while it is paused: the paused-return timer reads it.
    ADD COLUMN paused_at timestamptz,
    -- What the last holder left for the next one when paused work went back by itself:
    -- {"by", "step", "worked_seconds", "reason", "note", "paused_at", "returned_at"}.
    -- Kept until the step is completed.
    ADD COLUMN handover jsonb;
CREATE INDEX tasks_paused_since ON tasks (paused_at) WHERE status = 'paused';

-- Segments of the history, rebuilt from the event log. A segment opens at each event that
-- puts the task in progress (for another holder, in the case of a reassignment of work in
-- progress) and closes at the next event that takes it out of progress or to another holder;
-- 'nudged' changes nothing. The step is one more than the steps completed before the event.
WITH marks AS (
    SELECT e.id, e.task_id, e.at, e.event, e.from_status, e.to_status, e.actor, e.data,
           1 + count(*) FILTER (WHERE e.event = 'step_completed') OVER (
               PARTITION BY e.task_id ORDER BY e.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS step
    FROM task_events e
),
bounds AS (
    SELECT m.*,
           lead(m.at) OVER w AS next_at,
           lead(m.event) OVER w AS next_event
    FROM marks m
    WHERE (m.to_status = 'in_progress'
           AND (m.from_status IS DISTINCT FROM 'in_progress' OR m.event = 'reassigned'))
       OR (m.from_status = 'in_progress' AND m.to_status IS DISTINCT FROM 'in_progress')
    WINDOW w AS (PARTITION BY m.task_id ORDER BY m.id)
)
INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by, ended_at, ended_by)
SELECT b.task_id,
       CASE WHEN b.event = 'reassigned' THEN coalesce(b.data ->> 'to_agent_id', b.actor)
            ELSE b.actor END,
       b.step, b.at, b.event, b.next_at, b.next_event
FROM bounds b
WHERE b.to_status = 'in_progress'
ORDER BY b.task_id, b.id;

-- A log that does not account for a task's state (rows written by hand): an open segment of a
-- task no longer in progress ends when the task last changed, and a task in progress without
-- one gets one from its claim.
UPDATE task_segments s
SET ended_at = greatest(s.started_at, t.updated_at), ended_by = 'migrated'
FROM tasks t
WHERE t.id = s.task_id AND s.ended_at IS NULL AND t.status <> 'in_progress';

INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by)
SELECT t.id, t.holder, t.step, coalesce(t.claimed_at, t.updated_at), 'migrated'
FROM tasks t
WHERE t.status = 'in_progress' AND t.holder IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM task_segments s WHERE s.task_id = t.id AND s.ended_at IS NULL);

-- Open tasks: the holder's active time on the current step since they got it (their claim).
UPDATE tasks t
SET active_since = s.started_at
FROM task_segments s
WHERE s.task_id = t.id AND s.ended_at IS NULL AND t.status = 'in_progress';

UPDATE tasks t
SET active_seconds = x.seconds
FROM (
    SELECT t.id, sum(extract(epoch FROM s.ended_at - s.started_at))::float8 AS seconds
    FROM tasks t
    JOIN task_segments s
      ON s.task_id = t.id AND s.agent_id = t.holder AND s.step = t.step
     AND s.ended_at IS NOT NULL AND s.started_at >= coalesce(t.claimed_at, '-infinity')
    WHERE t.status IN ('in_progress', 'paused', 'escalated')
    GROUP BY t.id
) x
WHERE t.id = x.id;

UPDATE tasks t
SET paused_at = coalesce(
    (SELECT max(e.at) FROM task_events e WHERE e.task_id = t.id AND e.event = 'paused'),
    t.updated_at)
WHERE t.status = 'paused';

-- handle_times: each completion so far added now() - claimed_at, pauses and the time of an
-- earlier holder of the same claim included. The log says how much of that was the completing
-- agent's own work: each total loses the rest (and each day's figure the rest of that day's
-- completions). Kept rather than rebuilt from the log, because its rows may hold figures the
-- log cannot restore (loaded by hand, or from before a log was pruned); only what the log
-- proves was not work comes off.
WITH done AS (
    SELECT e.task_id, e.actor, e.at, t.type, (e.data ->> 'step')::int AS step,
           (e.data ->> 'worked_seconds')::float8 AS worked
    FROM task_events e JOIN tasks t ON t.id = e.task_id
    WHERE e.event IN ('completed', 'step_completed') AND e.data ? 'worked_seconds'
      AND e.data ->> 'worked_seconds' IS NOT NULL AND e.data ? 'step'
),
excess AS (
    SELECT d.actor, d.type, d.step, d.at::date AS day,
           greatest(0, d.worked - coalesce((
               SELECT sum(greatest(0, extract(epoch FROM
                          least(s.ended_at, d.at)
                          - greatest(s.started_at, d.at - make_interval(secs => d.worked)))))
               FROM task_segments s
               WHERE s.task_id = d.task_id AND s.agent_id = d.actor AND s.step = d.step
           ), 0))::float8 AS seconds
    FROM done d
),
per_row AS (
    SELECT h.agent_id, h.type, h.step,
           sum(x.seconds) AS seconds,
           coalesce(sum(x.seconds) FILTER (WHERE x.day = h.day), 0) AS day_seconds
    FROM handle_times h
    JOIN excess x ON x.actor = h.agent_id AND x.type = h.type AND x.step = h.step
    GROUP BY h.agent_id, h.type, h.step
)
UPDATE handle_times h
SET total_seconds = greatest(0, h.total_seconds - p.seconds),
    day_seconds = greatest(0, h.day_seconds - p.day_seconds)
FROM per_row p
WHERE p.agent_id = h.agent_id AND p.type = h.type AND p.step = h.step;
