-- The supervisors' console looks tasks up too: its lookups are audited like the API's and Slack's.
ALTER TABLE task_lookups DROP CONSTRAINT task_lookups_surface_check;
ALTER TABLE task_lookups ADD CONSTRAINT task_lookups_surface_check
    CHECK (surface IN ('api', 'slack', 'console'));
