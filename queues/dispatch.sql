-- name: offer_next
-- Agent $1's ask for work in one round trip (migrations/0030_one_call_dispatch.sql): lock the
-- agent, give back what they hold at the limit, else estimate their fitting groups, pick the
-- best task with FOR UPDATE SKIP LOCKED and offer it with its event row. One row: the outcome,
-- the offer's reasons and the task's columns (held or offered; NULL without one).
SELECT o.outcome, o.why, (o.task).*
FROM offer_next($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) o;
