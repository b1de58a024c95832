-- Task types name the payload fields a lookup may show; the outbox carries file uploads.

-- Top-level payload keys that /blend task may show to any agent answering a customer; every
-- other payload field stays hidden. Shown in this order.
ALTER TABLE task_types ADD COLUMN shareable_fields text[] NOT NULL DEFAULT '{}';

-- A file row holds the bytes to upload and, once Slack has them, the file's id: a retry then
-- only shares that file (or finds it shared already), so a chart is never posted twice.
ALTER TABLE slack_outbox
    DROP CONSTRAINT slack_outbox_kind_check,
    ADD CONSTRAINT slack_outbox_kind_check
        CHECK (kind IN ('card', 'ephemeral', 'home', 'file')),
    ADD COLUMN data bytea,
    ADD COLUMN file_id text,
    ADD CONSTRAINT slack_outbox_file_data
        CHECK (kind <> 'file' OR data IS NOT NULL OR sent_at IS NOT NULL);
