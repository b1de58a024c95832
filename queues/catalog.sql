-- name: upsert_task_type
INSERT INTO task_types AS t (name, skills, sla_minutes, handle_minutes, pausable,
                             base_priority, steps, shareable_fields)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (name) DO UPDATE
SET skills = excluded.skills,
    sla_minutes = excluded.sla_minutes,
    handle_minutes = excluded.handle_minutes,
    pausable = excluded.pausable,
    base_priority = excluded.base_priority,
    steps = excluded.steps,
    shareable_fields = excluded.shareable_fields,
    updated_at = now()
RETURNING t.*, (xmax = 0) AS inserted;

-- name: get_task_type
SELECT * FROM task_types WHERE name = $1;

-- name: list_task_types
SELECT * FROM task_types ORDER BY name;
