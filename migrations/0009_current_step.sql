-- A task type's steps, read in one place: how many there are, and the skills and expected
-- minutes of one of them. A type without steps is one step made of its own skills and handle
-- time; so is a step the type no longer has (its steps were edited while a task was on it).
-- Plain SQL, immutable and not strict, so that the planner inlines step_count and
-- step_minutes into the queries that call them (step_skills reads a subquery and is called).

CREATE FUNCTION step_count(steps jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(1, jsonb_array_length(steps))
$$;

CREATE FUNCTION step_minutes(steps jsonb, step integer, handle_minutes double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_array_length(steps) >= step
                THEN (steps -> (step - 1) ->> 'handle_minutes')::double precision
                ELSE handle_minutes END
$$;

CREATE FUNCTION step_skills(steps jsonb, step integer, skills text[])
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_array_length(steps) >= step
                THEN ARRAY(SELECT jsonb_array_elements_text(steps -> (step - 1) -> 'skills'))
                ELSE skills END
$$;
