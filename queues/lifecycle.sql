-- name: withdrawn_from
-- The reason the task's last event gives, when that event took the offer back from agent $2.
SELECT reason FROM (
    SELECT event, reason, data FROM task_events WHERE task_id = $1 ORDER BY id DESC LIMIT 1
) last
WHERE event = 'withdrawn' AND data ->> 'agent_id' = $2;

-- name: claim_offer
-- Claim agent $2's live offer of task $1 if they have room ($3), with its event; no row when
-- anything stands in the way (the caller then finds out what).
SELECT * FROM claim_offer($1, $2, $3);
