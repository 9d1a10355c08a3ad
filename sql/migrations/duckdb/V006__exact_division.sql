-- exact_div(a, b): a ÷ b truncated to 12 decimal places, computed exactly.
-- DuckDB's DECIMAL division returns DOUBLE, which must never touch money. Both operands are
-- scaled to integers (HUGEINT) and divided with integer division, so the quotient is exact and
-- truncated; the PostgreSQL migration defines the same function with div(), so both backends
-- give bit-identical results. Operands are positive amounts; the numerator must stay below
-- about 1.7e14 (HUGEINT range), the same bound DuckDB's DECIMAL(38,24) products already have.
CREATE MACRO exact_div(a, b) AS
    CAST(
        CAST(
            CAST(CAST(a AS DECIMAL(38, 12)) * 1000000000000 AS HUGEINT) * 1000000000000
            // CAST(CAST(b AS DECIMAL(38, 12)) * 1000000000000 AS HUGEINT)
        AS DECIMAL(38, 0)) * CAST(0.000000000001 AS DECIMAL(38, 12))
    AS DECIMAL(38, 12));
