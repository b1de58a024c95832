-- Lookups as customers ask (by id, customer_ref or a source's external_id; by holder and due
-- date), every lookup audited, and the tasks the supervisors were warned would miss their SLA.

-- A source's external_id (APP-1042) without its source: the unique (source, external_id)
-- index cannot serve that.
CREATE INDEX tasks_by_external_id ON tasks (external_id);
-- Due-date filters of GET /api/v1/tasks, and the SLA watch's open tasks due soon.
CREATE INDEX tasks_by_due ON tasks (due_at, id);
-- The recent pace of a step, which the ETA of a queued task reads: completions by time.
CREATE INDEX task_events_completions ON task_events (at)
    WHERE event IN ('completed', 'step_completed');

-- Every task lookup, from the API or Slack: who asked, what, whether they were allowed, what
-- was found. `actor` is the Slack user id, or `token:<fingerprint>` for an API token.
CREATE TABLE task_lookups (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    surface text NOT NULL CHECK (surface IN ('api', 'slack')),
    actor text NOT NULL,
    query jsonb NOT NULL,
    allowed boolean NOT NULL,
    found bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX task_lookups_by_actor ON task_lookups (actor, id);
CREATE INDEX task_lookups_by_time ON task_lookups (at);

-- Tasks whose ETA passed their due time, with what was said: each is warned once.
CREATE TABLE eta_warnings (
    task_id bigint PRIMARY KEY REFERENCES tasks (id),
    warned_at timestamptz NOT NULL DEFAULT now(),
    due_at timestamptz NOT NULL,
    eta timestamptz NOT NULL,
    basis text NOT NULL
);
