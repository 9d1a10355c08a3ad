-- exact_div(a, b): a ÷ b truncated to 12 decimal places, computed exactly.
-- Same contract as the DuckDB macro of this version (integer division of scaled operands), so
-- both backends give bit-identical results. A plain SQL function so the planner inlines it.
CREATE FUNCTION exact_div(a NUMERIC, b NUMERIC) RETURNS NUMERIC
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CAST(div(CAST(a AS NUMERIC(38, 12)) * 1000000000000, CAST(b AS NUMERIC(38, 12)))
                 * 0.000000000001 AS NUMERIC(38, 12)) $$;
