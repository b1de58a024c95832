-- Sites: a place with its own clock. A site has a time zone (an IANA name, checked by the
-- service before it is written) and the queues and agents that work to it. An agent or a queue
-- without a site belongs to the default site, whose clock is the BLENDBOT_TIMEZONE setting, so
-- a center that configures no site behaves as one site in that zone.
CREATE TABLE sites (
    site_id text PRIMARY KEY,
    name text NOT NULL,
    time_zone text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE agents ADD COLUMN site_id text REFERENCES sites (site_id);
CREATE INDEX agents_by_site ON agents (site_id) WHERE site_id IS NOT NULL;

-- A call queue's site; a queue with no row here is the default site's. Queues have no table of
-- their own (they are the names the telephony feeds use), so the row may come before the
-- queue's first call.
CREATE TABLE queue_sites (
    queue text PRIMARY KEY,
    site_id text NOT NULL REFERENCES sites (site_id)
);

-- Every change of a site or of who belongs to it, who made it and why.
CREATE TABLE site_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    site_id text,
    action text NOT NULL CHECK (action IN ('created', 'replaced', 'agent', 'queue')),
    subject text,
    author text NOT NULL,
    reason text,
    change jsonb NOT NULL
);
CREATE INDEX site_changes_by_site ON site_changes (site_id, id);
