-- Retention: the elected instance deletes what is only kept for a while (raw feed events,
-- Slack's delivery ids, messages sent long ago) in small batches, oldest first; these
-- indexes let each batch find its rows without reading the whole table.
CREATE INDEX telephony_events_by_received ON telephony_events (received_at);
CREATE INDEX slack_events_seen_by_at ON slack_events_seen (at);
CREATE INDEX slack_outbox_sent ON slack_outbox (sent_at) WHERE sent_at IS NOT NULL;
