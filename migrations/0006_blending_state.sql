-- Blending on or off: one row with the current state, and every change with who and why.

CREATE TABLE blending_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    blending_on boolean NOT NULL,
    changed_by text,
    changed_at timestamptz NOT NULL DEFAULT now(),
    reason text
);
INSERT INTO blending_state (blending_on) VALUES (true);

CREATE TABLE blending_state_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    blending_on boolean NOT NULL,
    changed_by text NOT NULL,
    reason text
);
