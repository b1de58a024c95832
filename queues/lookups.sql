-- The audit log of task lookups, from every surface.

-- name: record
INSERT INTO task_lookups (surface, actor, query, allowed, found)
VALUES ($1, $2, $3, $4, $5::bigint[]);

-- name: recent
SELECT at, surface, actor, query, allowed, found FROM task_lookups
WHERE ($1::text IS NULL OR actor = $1)
ORDER BY id DESC
LIMIT $2;
