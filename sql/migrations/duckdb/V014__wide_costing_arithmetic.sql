-- Costing arithmetic that never overflows below what mo stores (DECIMAL(38,12): under 1e26).
-- DuckDB multiplies two DECIMAL(38,12) into DECIMAL(38,24), which overflows past 1e14, and
-- V006's exact_div scaled its numerator to 24 places in a HUGEINT (past about 1.7e14). These
-- macros keep every intermediate inside 38 digits, so an operation fails only when its result
-- does not fit DECIMAL(38,12); recompute.sql wraps them in TRY() and marks such a recipe
-- "cost too large" instead of refusing the write. Operands are non-negative amounts.

-- raw12(a): a DECIMAL(38,12) as the HUGEINT a × 10^12, without a 24-place product.
CREATE MACRO raw12(a) AS
    CAST(trunc(CAST(a AS DECIMAL(38, 12))) AS HUGEINT) * 1000000000000
    + CAST((CAST(a AS DECIMAL(38, 12)) - trunc(CAST(a AS DECIMAL(38, 12)))) * 1000000000000
           AS HUGEINT);

-- exact_div(a, b): a ÷ b truncated to 12 places, as V006's (bit-identical to PostgreSQL's).
-- A long division in two steps (the whole quotient, then twelve digits from the remainder),
-- so the numerator may be any amount; exact while b stays below 1e14 (a yield, a price, a
-- density, a percentage), and above that, as V006's, while a stays below about 1.7e14. The
-- macro is expanded at each use, and DuckDB's planning time grows with it: keep it small.
CREATE OR REPLACE MACRO exact_div(a, b) AS
    CAST(CAST(
        CASE WHEN b < 100000000000000 THEN
            (raw12(a) // CAST(b * 1000000000000 AS HUGEINT)) * 1000000000000
            + (raw12(a) % CAST(b * 1000000000000 AS HUGEINT)) * 1000000000000
              // CAST(b * 1000000000000 AS HUGEINT)
        ELSE CAST(a * 1000000000000 AS HUGEINT) * 1000000000000 // raw12(b) END
    AS DECIMAL(38, 0)) * CAST(0.000000000001 AS DECIMAL(38, 12)) AS DECIMAL(38, 12));

-- A product a × b of two amounts, exactly, in two parts: whole_part(a, bh, bl), exact at 12
-- places, and frac_part(a, bl) at 24 places (below 1e9), where bh = trunc(b) and bl = b − bh
-- (callers split b once). a × bh and trunc(a) × bl are exact at 12 places; only a fraction times
-- a fraction needs 24, so no product passes 1e26 unless a × b does. Sums of the parts are
-- rounded once, as a sum of 24-place products would be.
CREATE MACRO whole_part(a, bh, bl) AS
    CAST(a AS DECIMAL(38, 12)) * bh
    + CASE WHEN a < 1000000000 THEN CAST(0 AS DECIMAL(38, 12)) ELSE trunc(a) * bl END;
CREATE MACRO frac_part(a, bl) AS
    CASE WHEN a < 1000000000 THEN CAST(a AS DECIMAL(38, 12)) ELSE a - trunc(a) END * bl;

-- exact_mul(a, b): a × b rounded to 12 places (as a CAST would round the 24-place product).
CREATE MACRO exact_mul(a, b) AS
    whole_part(a, trunc(b), b - trunc(b)) + CAST(frac_part(a, b - trunc(b)) AS DECIMAL(38, 12));

-- A sum of 12-place amounts below 1e26 each can pass DECIMAL(38)'s bound, and a SUM that does
-- raises. So amounts are summed as their whole parts (hi12: DECIMAL(38,0), whose sums reach
-- 1e38) and their fractions (lo12, below 1 each); joined12 puts them back, with a sum of
-- 24-place fractions rounded once, and fails only when the total itself does not fit.
CREATE MACRO hi12(p) AS trunc(p);
CREATE MACRO lo12(p) AS p - trunc(p);
CREATE MACRO joined12(lo, hi, frac) AS
    CAST(COALESCE(hi, 0) AS DECIMAL(38, 12)) + COALESCE(lo, 0)
    + CAST(COALESCE(frac, 0) AS DECIMAL(38, 12));
