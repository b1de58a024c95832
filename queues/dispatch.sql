-- name: dispatch_next
-- Agent $2's ask for work in one round trip (migrations/0030_one_call_dispatch.sql,
-- 0041_take_next.sql): lock the agent, give back what they hold at the limit, else estimate
-- their fitting groups, pick the best task with FOR UPDATE SKIP LOCKED and offer it (or, with
-- $1, claim it for them: a take) with its event row. One row: the outcome, the reasons of the
-- pick and the task's columns (held, offered or claimed; NULL without one).
SELECT o.outcome, o.why, (o.task).*
FROM dispatch_next($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) o;
