-- A new tick leader re-ranked every open task once, whatever the leader before it had done: a
-- million open tasks took 76 s, and the leader's other jobs waited behind it. The rules of the
-- last complete ranking are kept here, so a new leader ranks again only what the rules or the
-- time call for (the tasks not ranked yet, as every round does). A leader that stopped halfway
-- through a ranking never wrote its rules, so the next one ranks everything again.
CREATE TABLE ranking_state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    change_id bigint NOT NULL,
    rules text[] NOT NULL,
    ranked_at timestamptz NOT NULL
);
