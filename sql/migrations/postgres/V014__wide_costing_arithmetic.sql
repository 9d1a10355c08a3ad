-- fits12(x): x as NUMERIC(38,12) (rounded, as a cast rounds) when that fits, else NULL.
-- PostgreSQL's NUMERIC arithmetic is exact at any size, so only storing can overflow; costing
-- marks a recipe whose amount does not fit "cost too large" (duckdb/V014 has the DuckDB side).
CREATE FUNCTION fits12(x NUMERIC) RETURNS NUMERIC
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN abs(round(x, 12)) < 100000000000000000000000000
                  THEN CAST(x AS NUMERIC(38, 12)) END $$;

-- try_div(a, b): exact_div(a, b) when a (rounded to 12 places, as exact_div reads it) and the
-- quotient fit NUMERIC(38,12), else NULL: DuckDB's TRY(exact_div(a, b)).
CREATE FUNCTION try_div(a NUMERIC, b NUMERIC) RETURNS NUMERIC
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN round(a, 12) < 100000000000000000000000000
                   AND round(a, 12) < 100000000000000000000000000 * b
                  THEN exact_div(a, b) END $$;
