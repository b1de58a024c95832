-- A completion is stamped on a day already rolled up only by an imported history: the
-- importer rolls those days up again itself (queues/history.sql, roll_up_again), in its own
-- transaction, so no transition of the live path pays for a statement trigger any more.
DROP TRIGGER task_events_work ON task_events;
DROP FUNCTION task_events_work();
