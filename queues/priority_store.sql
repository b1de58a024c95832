-- name: upsert_rule
INSERT INTO priority_rules AS r (name, expression, boost, author, reason, until)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (name) DO UPDATE
SET expression = excluded.expression, boost = excluded.boost, author = excluded.author,
    reason = excluded.reason, until = excluded.until, updated_at = now()
RETURNING r.*, (xmax = 0) AS inserted;

-- name: record_change
INSERT INTO priority_rule_changes (name, action, author, reason, rule)
VALUES ($1, $2, $3, $4, $5);

-- name: delete_rule
DELETE FROM priority_rules WHERE name = $1 RETURNING *;

-- name: get_rule
SELECT * FROM priority_rules WHERE name = $1;

-- name: list_rules
SELECT * FROM priority_rules ORDER BY name;

-- name: changes
SELECT at, name, action, author, reason, rule FROM priority_rule_changes
WHERE ($1::text IS NULL OR name = $1)
ORDER BY id DESC
LIMIT $2;

-- name: active_rules
SELECT name, expression, boost, until FROM priority_rules
WHERE until IS NULL OR until > $1
ORDER BY name;

-- name: rules_fingerprint
-- Changes whenever a rule is added, changed or removed.
SELECT coalesce(max(id), 0) FROM priority_rule_changes;

-- name: open_tasks
SELECT id, type, step, source, title, customer_ref, customer_tier, value, status,
       created_at, due_at, CASE WHEN $4 THEN payload END AS payload, rule_boost, rule_reasons,
       ranked_at
FROM tasks
WHERE status IN ('queued', 'offered', 'in_progress', 'paused', 'escalated')
  AND ($1 OR ranked_at IS NULL)
  AND id > $2
ORDER BY id
LIMIT $3;

-- name: write_ranks
UPDATE tasks t
SET rule_boost = r.boost,
    rule_reasons = ARRAY(SELECT jsonb_array_elements_text(r.reasons::jsonb)),
    ranked_at = $4
FROM unnest($1::bigint[], $2::int[], $3::text[]) AS r (id, boost, reasons)
WHERE t.id = r.id;

-- name: last_ranking
-- The rules every open task was last ranked with, by whichever leader ranked them.
SELECT change_id, rules, ranked_at FROM ranking_state;

-- name: save_ranking
INSERT INTO ranking_state (change_id, rules, ranked_at) VALUES ($1, $2, $3)
ON CONFLICT (one) DO UPDATE
SET change_id = EXCLUDED.change_id, rules = EXCLUDED.rules, ranked_at = EXCLUDED.ranked_at;
