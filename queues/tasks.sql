-- name: insert_tasks
-- Insert the tasks whose key is new; a key that exists, or whose type is unknown, is skipped
-- and reported by the caller. Each new task gets its 'created' event in the same statement.
WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::float8[], $8::jsonb[], $9::timestamptz[], $10::text[])
         AS i (source, external_id, type, title, customer_ref, customer_tier,
               value, payload, due_at, request_hash)
),
ins AS (
    INSERT INTO tasks (source, external_id, type, title, customer_ref, customer_tier,
                       value, payload, due_at, request_hash)
    SELECT i.source, i.external_id, i.type, i.title, i.customer_ref, i.customer_tier,
           i.value, i.payload,
           coalesce(i.due_at, now() + make_interval(mins => tt.sla_minutes)),
           i.request_hash
    FROM input i
    JOIN task_types tt ON tt.name = i.type
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING *
),
ev AS (
    INSERT INTO task_events (task_id, event, to_status, actor)
    SELECT id, 'created', status, $11 FROM ins
)
SELECT * FROM ins;

-- name: insert_tasks_keys
-- As insert_tasks, returning only what a bulk import needs.
WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::float8[], $8::jsonb[], $9::timestamptz[], $10::text[])
         AS i (source, external_id, type, title, customer_ref, customer_tier,
               value, payload, due_at, request_hash)
),
ins AS (
    INSERT INTO tasks (source, external_id, type, title, customer_ref, customer_tier,
                       value, payload, due_at, request_hash)
    SELECT i.source, i.external_id, i.type, i.title, i.customer_ref, i.customer_tier,
           i.value, i.payload,
           coalesce(i.due_at, now() + make_interval(mins => tt.sla_minutes)),
           i.request_hash
    FROM input i
    JOIN task_types tt ON tt.name = i.type
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING *
),
ev AS (
    INSERT INTO task_events (task_id, event, to_status, actor)
    SELECT id, 'created', status, $11 FROM ins
)
SELECT id, source, external_id, request_hash FROM ins;

-- name: find_by_keys
SELECT t.*
FROM tasks t
JOIN unnest($1::text[], $2::text[]) AS k (source, external_id)
  ON t.source = k.source AND t.external_id = k.external_id;

-- name: get_task
SELECT * FROM tasks WHERE id = $1;

-- name: timeline
SELECT at, event, from_status, to_status, actor, reason, data
FROM task_events
WHERE task_id = $1
ORDER BY id;

-- name: transition
-- Move a task from one of the allowed states to a new one, with its event row, atomically.
-- No row comes back when the task is missing or in a state the transition does not allow.
WITH old AS (
    SELECT id, status, holder FROM tasks WHERE id = $1 AND status = ANY ($2::text[]) FOR UPDATE
),
upd AS (
    UPDATE tasks t
    SET status = $3, holder = $4, updated_at = now()
    FROM old
    WHERE t.id = old.id
    RETURNING t.*
),
ev AS (
    INSERT INTO task_events (task_id, event, from_status, to_status, actor, reason, data)
    SELECT upd.id, $5, old.status, upd.status, $6, $7, $8
    FROM upd JOIN old ON old.id = upd.id
)
SELECT * FROM upd;
