-- Read models of the task list and the roster: what supervisors and agents are shown.
-- Nothing here writes.

-- name: person_by_slack_user
SELECT agent_id, name, slack_user_id FROM agents WHERE slack_user_id = $1;

-- name: people
SELECT agent_id, name, slack_user_id FROM agents WHERE agent_id = ANY ($1::text[]);

-- name: status_counts
SELECT status, count(*) AS n FROM tasks GROUP BY status ORDER BY status;

-- name: backlog
-- Open tasks per type ($1, or every type) by SLA risk at $2: past due, due within $3, later.
SELECT type,
       count(*) AS open,
       count(*) FILTER (WHERE due_at < $2::timestamptz) AS breached,
       count(*) FILTER (WHERE due_at >= $2 AND due_at < $2 + $3::interval) AS due_soon,
       min(due_at) AS first_due
FROM tasks
WHERE status IN ('queued', 'offered', 'in_progress', 'paused', 'escalated')
  AND ($1::text IS NULL OR type = $1)
GROUP BY type
ORDER BY breached DESC, due_soon DESC, open DESC, type
LIMIT 40;

-- name: agents_at_work
-- Each agent with the open task they touched last, if any; the busy ones first.
SELECT a.agent_id, a.name, t.id AS task_id, t.status, t.type
FROM agents a
LEFT JOIN LATERAL (
    SELECT id, status, type FROM tasks
    WHERE holder = a.agent_id AND status IN ('offered', 'in_progress', 'paused', 'escalated')
    ORDER BY updated_at DESC LIMIT 1
) t ON true
ORDER BY t.status NULLS LAST, a.name
LIMIT 80;

-- name: work_of
SELECT * FROM tasks WHERE holder = $1 AND status IN ('in_progress', 'paused')
ORDER BY updated_at DESC LIMIT 20;

-- name: done_since
-- Steps and tasks the agent completed since $2.
SELECT count(*) FROM task_events
WHERE actor = $1 AND event IN ('completed', 'step_completed') AND at >= $2;

-- name: task_facts
-- Expected minutes of each task's current step, and whether its type may be paused.
SELECT t.id, step_minutes(tt.steps, t.step, tt.handle_minutes) AS minutes, tt.pausable
FROM tasks t JOIN task_types tt ON tt.name = t.type
WHERE t.id = ANY ($1::bigint[]);

-- name: offer_reasons
-- Why each task was offered, from its latest 'offered' event.
SELECT DISTINCT ON (task_id) task_id, data
FROM task_events
WHERE task_id = ANY ($1::bigint[]) AND event = 'offered'
ORDER BY task_id, id DESC;

-- name: last_reason
-- Why the task's latest event happened, when it says.
SELECT reason FROM task_events WHERE task_id = $1 ORDER BY id DESC LIMIT 1;

-- name: report_counts
-- Tasks' events since $1; a completion is within SLA when it came before the task's due time.
SELECT count(*) FILTER (WHERE e.event = 'created') AS created,
       count(*) FILTER (WHERE e.event = 'completed') AS completed,
       count(*) FILTER (WHERE e.event = 'escalated') AS escalated,
       count(*) FILTER (WHERE e.event = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE e.event = 'completed' AND e.at <= t.due_at) AS on_time
FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.at >= $1;

-- name: report_minutes
-- Back-office minutes worked since $1: the active time of every segment of work in that
-- period (pauses excluded; work released, escalated or still in progress included).
SELECT coalesce(sum(greatest(0, extract(epoch FROM least(coalesce(ended_at, now()), now())
                                                   - greatest(started_at, $1)))), 0) / 60
           AS minutes
FROM task_segments
WHERE (ended_at >= $1 OR ended_at IS NULL) AND started_at < now();

-- name: report_top
-- The $2 agents who completed the most tasks since $1, with their active minutes since then.
WITH done AS (
    SELECT e.actor AS agent_id, count(*) AS completed
    FROM task_events e
    WHERE e.event = 'completed' AND e.at >= $1
    GROUP BY e.actor
),
worked AS (
    SELECT s.agent_id,
           sum(greatest(0, extract(epoch FROM least(coalesce(s.ended_at, now()), now())
                                               - greatest(s.started_at, $1)))) / 60 AS minutes
    FROM task_segments s
    WHERE (s.ended_at >= $1 OR s.ended_at IS NULL) AND s.started_at < now()
      AND s.agent_id IN (SELECT agent_id FROM done)
    GROUP BY s.agent_id
)
SELECT d.agent_id, coalesce(a.name, d.agent_id) AS name, d.completed,
       coalesce(w.minutes, 0) AS minutes
FROM done d
LEFT JOIN worked w ON w.agent_id = d.agent_id
LEFT JOIN agents a ON a.agent_id = d.agent_id
ORDER BY d.completed DESC, minutes DESC, name
LIMIT $2;
