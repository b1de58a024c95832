-- Reports read the agents' state reports and the blending switch's history by time.
CREATE INDEX telephony_events_states_by_time ON telephony_events (at)
    WHERE type = 'agent_state';
CREATE INDEX task_segments_by_start ON task_segments (started_at);
