-- The figures behind each blending decision: every lend the engine makes (an offer in a
-- window: 'lend_offered', with the task), every change of a group's guard and every recall
-- carries what the engine saw (blending/figures.py), for the API and the supervisors' Home.
ALTER TABLE blending_events ADD COLUMN figures jsonb, ADD COLUMN task_id bigint;
ALTER TABLE blending_events DROP CONSTRAINT blending_events_event_check;
ALTER TABLE blending_events ADD CONSTRAINT blending_events_event_check
    CHECK (event IN ('recalled', 'recall_cleared', 'guard', 'lent', 'lend_ended',
                     'interrupted', 'drift', 'lend_offered'));
-- The decisions are read newest first, by group or event (by agent: blending_events_by_agent).
CREATE INDEX blending_events_by_group ON blending_events (grp, id);
CREATE INDEX blending_events_by_event ON blending_events (event, id);
