-- DuckDB's recompute: the statements that use what only DuckDB has (CREATE OR REPLACE, list()
-- and unnest(recursive := true), arg_max, TRY(), USING KEY recursion, the V014 macros). The
-- base file holds the statements both engines run; see it for the work tables and the plan.

-- name: scope_walk
-- The usual path: the seed recipes, the recipes using a seed ingredient and every recipe above
-- them, in one statement that also reads what the writes need of the active ones into rc_scope.
-- d is the walk's step (every row of one step has the same d), so a recipe's largest d, its
-- longest walk down to a seed, is larger than its in-scope subs'; ranking it densely gives levels
-- without gaps, every parent above its subs: the order compute needs. Each step probes the
-- sub-recipe edges with the previous step's ids (a semi join: the small side is the hashed one).
-- The walk passes through deleted recipes (a deleted seed's parents must be recomputed too); only
-- the active ones are kept. Nothing is kept when the walk reaches the maximum depth (a cycle, or
-- absurd nesting) or finds nothing active: the exact path then decides.
-- The walked ids are gathered into one list and unnested again: the planner then knows they are
-- few, and hashes them to probe recipes and recipe_costs (with the walk's own result it guesses
-- millions, and hashes all of recipes instead).
INSERT INTO rc_scope (recipe_id, lvl, name, yield_qty, menu_price, updated_at, old_total,
                      old_complete, old_missing, old_at)
WITH RECURSIVE graph(parent, child) AS MATERIALIZED (
    SELECT recipe_id, sub_recipe_id FROM recipe_lines
    WHERE tenant_id = :tenant_id AND sub_recipe_id IS NOT NULL
),
up(id, d) AS (
    SELECT id, 0 FROM rc_seed
    UNION
    SELECT l.recipe_id, 0 FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)
    UNION
    SELECT g.parent, (SELECT MAX(d) + 1 FROM up) FROM graph g
    WHERE g.child IN (SELECT id FROM up) AND (SELECT MAX(d) FROM up) < :max_depth
),
walked AS (
    SELECT unnest(found, recursive := true)
    FROM (SELECT list({'id': id, 'd': d}) AS found, MAX(d) AS deepest
          FROM (SELECT id, MAX(d) AS d FROM up GROUP BY id))
    WHERE deepest < :max_depth
)
SELECT r.id, CAST(DENSE_RANK() OVER (ORDER BY w.d) - 1 AS INTEGER), r.name, r.yield_qty,
       r.menu_price, r.updated_at, c.total_cost, c.complete, c.missing, c.computed_at
FROM walked w
JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = w.id
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = w.id

-- name: scope_lines
-- The one read of recipe_lines for the costing itself; everything below works on rc_lines. A
-- sub-recipe line also gets what costing it needs: the sub's name, the line's share (qty ÷ the
-- sub's yield, kept on the line by the recipe services; NULL when the line cannot be costed: the
-- sub is deleted or no longer yields in the line's unit, and it is then listed as missing with
-- why: sub_deleted, sub_base, its yield base) and, for a sub outside the scope, its stored total
-- and missing items (it keeps its cost). sub_name
-- is NULL on ingredient lines (and would be on a line whose sub has no row at all: it is then
-- ignored, as an inner join would).
INSERT INTO rc_lines (recipe_id, lvl, ingredient_id, sub_recipe_id, family, base_unit, qty_base,
                      waste_pct, share, sub_name, sub_base, sub_deleted, outside, stored,
                      stored_missing)
SELECT l.recipe_id, s.lvl, l.ingredient_id, l.sub_recipe_id, l.family, l.base_unit, l.qty_base,
       l.waste_pct,
       CASE WHEN r.id IS NULL OR r.deleted_at IS NOT NULL OR r.yield_base <> l.base_unit THEN NULL
            WHEN l.share IS NOT NULL THEN l.share
            ELSE exact_div(l.qty_base, r.yield_base_qty) END,
       r.name, r.yield_base, r.deleted_at IS NOT NULL, i.recipe_id IS NULL,
       CASE WHEN i.recipe_id IS NULL THEN c.total_cost END,
       CASE WHEN i.recipe_id IS NULL AND NOT c.complete THEN CAST(c.missing AS VARCHAR[]) END
FROM recipe_lines l
JOIN rc_scope s ON s.recipe_id = l.recipe_id
LEFT JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
LEFT JOIN rc_scope i ON i.recipe_id = l.sub_recipe_id
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = l.sub_recipe_id
WHERE l.tenant_id = :tenant_id

-- name: compute
-- Cost every scoped recipe and list what it misses, in one statement (PostgreSQL's override runs
-- a DO block instead, over rates its scope_lines stored).
--
-- rate: the cost of one line base unit of an ingredient, for each way the scope's lines use it:
-- chosen unit cost (see cur) ÷ (yield_pct/100), × density for a volume line of a mass ingredient,
-- ÷ (1 − waste_pct/100). A mass line of a volume ingredient keeps the density as `divisor`: its
-- qty is divided by it exactly (92 g of oil at 0.92 g/ml is exactly 100 ml). rate is NULL when
-- the ingredient is deleted, has no current cost or no conversion, and also when a step of it
-- does not fit DECIMAL(38,12) (too_large: the line then lacks "cost too large"). Computed once
-- per distinct use, and split there into its whole part rh and fraction rl, so the per-line work
-- is two multiplications (V014: whole_part, frac_part).
--
-- Amounts too large to store (issue #14): every product and quotient is computed so that it
-- fails only when its result does not fit DECIMAL(38,12) (V014), inside TRY(), which makes it
-- NULL instead of failing the statement. A recipe whose total or unit cost does not fit (or
-- whose food-cost % does not) is written with those amounts as 0 (the % as NULL) and lacks
-- "cost too large", as does every recipe above it; a recipe above one whose total does not fit
-- counts only its other lines. Sums keep three parts (lo12 and hi12 of the 12-place parts, the
-- 24-place fractions) so no SUM can overflow; joined12 adds them up and rounds once.
--
-- sub.lack: why a sub-recipe line cannot be costed, in the ingredients' form: `<sub>: deleted`,
-- `<sub>: no g→each conversion` (the line's base → the base the sub yields in; a recipe has no
-- conversions), `<sub>: not costed` (outside the scope with no stored cost).
--
-- lacks: what each scoped recipe lacks, to any depth: its own ingredients without a cost or a
-- conversion, its unusable or uncosted sub-recipe lines (sub.lack), the stored missing items of
-- sub-recipes outside the scope, and, transitively, everything its usable sub-recipes lack.
--
-- tot: the totals, level by level: a recipe's total is its ingredient lines' exact sum of
-- qty × rate (any level: they need no sub) plus, per usable sub-recipe line, share × the sub's
-- total, rounded once. DuckDB's USING KEY recursion keeps every total computed so far
-- (recurring.tot), so each step costs the next level from all lower ones and from the stored
-- totals of subs outside the scope (seeded at level -1, NULL when there is none). Levels have no
-- gaps (levels, scope_walk), and a level-L recipe always has a sub below it, in the scope or outside
-- it, so the inner joins of the step find it. The step reads `edges`, each sub-recipe line above
-- level 0 with its recipe's ingredient sum, prepared once: every operator inside the recursion
-- runs again for each level, and even a tiny hash join or scan costs DuckDB a fraction of a
-- millisecond. UNION ALL: USING KEY keeps one row per recipe anyway (a sub used by several lines
-- is seeded several times with the same stored total), so there is nothing to deduplicate. Each
-- total carries its split (th, tl) for the level above, and big: "cost too large" here or below.
INSERT INTO rc_work (recipe_id, total, unit_cost, food_cost_pct, names)
WITH RECURSIVE sub AS MATERIALIZED (
    SELECT recipe_id, lvl, sub_recipe_id AS sub_id, sub_name AS name, share, outside, stored,
           stored_missing,
           CASE WHEN sub_deleted THEN sub_name || ': deleted'
                WHEN share IS NULL
                    THEN sub_name || ': no ' || base_unit || '→' || sub_base || ' conversion'
                WHEN outside AND stored IS NULL THEN sub_name || ': not costed'
           END AS lack,
           TRY(whole_part(share, trunc(stored), stored - trunc(stored))) AS wp,
           frac_part(share, stored - trunc(stored)) AS fp
    FROM rc_lines
    WHERE sub_recipe_id IS NOT NULL AND sub_name IS NOT NULL
),
uses AS (
    SELECT DISTINCT ingredient_id, family, base_unit, waste_pct
    FROM rc_lines
    WHERE ingredient_id IS NOT NULL
),
cur AS (
    -- The cost chosen for each ingredient: rc_cost_override's, if it names one (a what-if),
    -- else the offer its cost policy chooses at :as_of (NULL: the transaction's clock, as in
    -- costs.now): cost_offers (V017), the one chosen-cost rule, for the ingredients used (an
    -- empty list when none is: NULL would mean every ingredient of the tenant).
    SELECT ingredient_id, unit_cost FROM rc_cost_override
    UNION ALL
    SELECT o.ingredient_id, o.unit_cost
    FROM cost_offers(:tenant_id, COALESCE(CAST(:as_of AS TIMESTAMPTZ), current_timestamp),
                     COALESCE((SELECT array_agg(ingredient_id) FROM uses),
                              CAST([] AS BIGINT[]))) o
    WHERE o.chosen
      AND o.ingredient_id NOT IN (SELECT ingredient_id FROM rc_cost_override)
),
own AS (
    SELECT i.id AS ingredient_id, i.name, i.base_unit AS own_unit, i.density,
           i.deleted_at IS NOT NULL AS deleted, i.yield_pct
    FROM ingredients i
    WHERE i.tenant_id = :tenant_id AND i.id IN (SELECT ingredient_id FROM uses)
),
own_conv AS (
    SELECT c.ingredient_id, c.pair_key, c.from_base, c.from_qty, c.to_base, c.to_qty
    FROM active_ingredient_conversions c
    WHERE c.tenant_id = :tenant_id
      AND c.ingredient_id IN (SELECT u.ingredient_id FROM uses u JOIN own o
                              ON o.ingredient_id = u.ingredient_id AND o.own_unit <> u.base_unit)
),
edge AS (
    -- The conversions of ingredients some line measures in another base, both ways: 1 a =
    -- num/den b. The density is the ml→g edge unless the ingredient has its own g↔ml one.
    SELECT ingredient_id, from_base AS a, to_base AS b, to_qty AS num, from_qty AS den
    FROM own_conv
    UNION ALL
    SELECT ingredient_id, to_base, from_base, from_qty, to_qty FROM own_conv
    UNION ALL
    SELECT o.ingredient_id, x.a, x.b, x.num, x.den
    FROM own o
    CROSS JOIN LATERAL (SELECT 'ml' AS a, 'g' AS b, o.density AS num, CAST(1 AS DECIMAL(38, 12)) AS den
                        UNION ALL
                        SELECT 'g', 'ml', CAST(1 AS DECIMAL(38, 12)), o.density) x
    WHERE o.density IS NOT NULL
      AND o.ingredient_id NOT IN (SELECT ingredient_id FROM own_conv WHERE pair_key = 'g|ml')
),
factor AS (
    -- How many of the ingredient's base units one line base unit is, as num/den: one edge, or
    -- two through a third base (each → g → ml); the shorter path first.
    SELECT ingredient_id, src, dst, arg_min({'num': num, 'den': den}, {'h': hops, 'v': via}) AS f
    FROM (
        SELECT ingredient_id, a AS src, b AS dst, num, den, 1 AS hops, '' AS via FROM edge
        UNION ALL
        SELECT e1.ingredient_id, e1.a, e2.b, TRY(exact_mul(e1.num, e2.num)),
               TRY(exact_mul(e1.den, e2.den)), 2, e1.b
        FROM edge e1
        JOIN edge e2 ON e2.ingredient_id = e1.ingredient_id AND e2.a = e1.b AND e2.b <> e1.a
    ) p
    GROUP BY ingredient_id, src, dst
),
converted AS (
    -- A line in the ingredient's base costs its cost; another base costs cost × num, its qty
    -- divided by den (exactly, once per line: 92 g of oil at 0.92 g/ml is exactly 100 ml).
    SELECT ingredient_id, base_unit, waste_pct, reason,
           CASE WHEN den <> 1 THEN den END AS divisor,
           CASE WHEN num = 1 THEN cost ELSE TRY(exact_mul(cost, num)) END AS cost
    FROM (
        SELECT u.ingredient_id, u.base_unit, u.waste_pct,
               CASE WHEN u.base_unit = o.own_unit THEN 1 ELSE f.f.num END AS num,
               CASE WHEN u.base_unit = o.own_unit THEN 1 ELSE f.f.den END AS den,
               CASE WHEN o.deleted THEN o.name || ': deleted'
                    WHEN cur.unit_cost IS NULL THEN o.name || ': no cost'
                    WHEN u.base_unit <> o.own_unit AND f.f IS NULL
                        THEN o.name || ': no ' || u.base_unit || '→' || o.own_unit || ' conversion'
               END AS reason,
               CASE WHEN o.deleted THEN NULL
                    WHEN o.yield_pct = 100 THEN cur.unit_cost
                    ELSE TRY(exact_div(cur.unit_cost * 100, o.yield_pct))
               END AS cost
        FROM uses u
        JOIN own o ON o.ingredient_id = u.ingredient_id
        LEFT JOIN cur ON cur.ingredient_id = u.ingredient_id
        LEFT JOIN factor f ON f.ingredient_id = u.ingredient_id AND f.src = u.base_unit
                          AND f.dst = o.own_unit
    ) edible
),
rate AS (
    SELECT ingredient_id, base_unit, waste_pct, divisor, rate, trunc(rate) AS rh,
           rate - trunc(rate) AS rl,
           CASE WHEN rate IS NOT NULL THEN NULL
                ELSE COALESCE(reason, 'cost too large') END AS lack
    FROM (
        SELECT *, CASE WHEN waste_pct = 0 THEN cost
                       ELSE TRY(exact_div(cost * 100, 100 - waste_pct)) END AS rate
        FROM converted
    ) r
),
costed AS MATERIALIZED (
    -- Macros are expanded in place, so q is a column of an inner query, not an alias (which
    -- would expand exact_div into every use of q, and planning time with it).
    SELECT recipe_id, lack, wp, fp, rate IS NOT NULL AND wp IS NULL AS over
    FROM (
        SELECT recipe_id, lack, rate, TRY(whole_part(q, rh, rl)) AS wp, frac_part(q, rl) AS fp
        FROM (
            SELECT l.recipe_id, rt.lack, rt.rate, rt.rh, rt.rl,
                   CASE WHEN rt.divisor IS NULL THEN l.qty_base
                        ELSE TRY(exact_div(l.qty_base, rt.divisor)) END AS q
            FROM rc_lines l
            JOIN rate rt ON rt.ingredient_id = l.ingredient_id AND rt.base_unit = l.base_unit
                        AND rt.waste_pct = l.waste_pct
        ) lined
    ) parted
),
lacks(recipe_id, name) AS (
    SELECT recipe_id, lack FROM costed WHERE lack IS NOT NULL
    UNION
    SELECT recipe_id, lack FROM sub WHERE lack IS NOT NULL
    UNION
    SELECT recipe_id, unnest(stored_missing) FROM sub
    WHERE share IS NOT NULL AND stored_missing IS NOT NULL
    UNION
    SELECT s.recipe_id, lacks.name FROM lacks
    JOIN sub s ON s.sub_id = lacks.recipe_id AND s.share IS NOT NULL
),
ingsum AS MATERIALIZED (
    SELECT recipe_id, SUM(lo12(wp)) AS lo, SUM(hi12(wp)) AS hi, SUM(fp) AS fr,
           bool_or(over) AS over
    FROM costed
    GROUP BY recipe_id
),
edges AS MATERIALIZED (
    SELECT b.recipe_id, b.lvl, b.sub_id, b.share, i.lo, i.hi, i.fr, i.over
    FROM sub b
    LEFT JOIN ingsum i ON i.recipe_id = b.recipe_id
    WHERE b.lvl > 0
),
tot(recipe_id, lvl, total, th, tl, big) USING KEY (recipe_id) AS (
    SELECT sub_id, -1, stored, trunc(stored), stored - trunc(stored), false FROM sub WHERE outside
    UNION ALL
    SELECT recipe_id, 0, total, trunc(total), total - trunc(total), total IS NULL
    FROM (
        SELECT s.recipe_id,
               CASE WHEN NOT COALESCE(i.over, false) AND NOT COALESCE(o.over, false)
                    THEN TRY(joined12(COALESCE(i.lo, 0) + COALESCE(o.lo, 0),
                                      COALESCE(i.hi, 0) + COALESCE(o.hi, 0),
                                      COALESCE(i.fr, 0) + COALESCE(o.fr, 0)))
               END AS total
        FROM rc_scope s
        LEFT JOIN ingsum i ON i.recipe_id = s.recipe_id
        LEFT JOIN (
            SELECT recipe_id, SUM(lo12(wp)) AS lo, SUM(hi12(wp)) AS hi, SUM(fp) AS fr,
                   bool_or(share IS NOT NULL AND stored IS NOT NULL AND wp IS NULL) AS over
            FROM sub WHERE lvl = 0
            GROUP BY recipe_id
        ) o ON o.recipe_id = s.recipe_id
        WHERE s.lvl = 0
    ) t0
    UNION ALL
    SELECT recipe_id, lvl, total, trunc(total), total - trunc(total), big OR total IS NULL
    FROM (
        SELECT recipe_id, lvl, big,
               CASE WHEN NOT over THEN TRY(joined12(lo, hi, fr)) END AS total
        FROM (
            SELECT e.recipe_id, e.lvl,
                   COALESCE(MAX(e.lo), 0) + COALESCE(SUM(lo12(e.wp)), 0) AS lo,
                   COALESCE(MAX(e.hi), 0) + COALESCE(SUM(hi12(e.wp)), 0) AS hi,
                   COALESCE(MAX(e.fr), 0) + COALESCE(SUM(e.fp), 0) AS fr,
                   COALESCE(bool_or(e.over), false)
                       OR bool_or(e.share IS NOT NULL AND e.sub_total IS NOT NULL AND e.wp IS NULL)
                           AS over,
                   bool_or(e.share IS NOT NULL AND e.sub_big) AS big
            FROM (
                SELECT e.recipe_id, e.lvl, e.lo, e.hi, e.fr, e.over, e.share,
                       t.total AS sub_total, t.big AS sub_big,
                       TRY(whole_part(e.share, t.th, t.tl)) AS wp,
                       frac_part(e.share, t.tl) AS fp
                FROM edges e
                JOIN recurring.tot t ON t.recipe_id = e.sub_id
                WHERE e.lvl = (SELECT MAX(lvl) + 1 FROM tot)
            ) e
            GROUP BY e.recipe_id, e.lvl
        ) a
    ) b
),
fin AS (
    SELECT recipe_id, total, big, unit_cost, menu_price,
           CASE WHEN menu_price IS NOT NULL
                THEN TRY(exact_div(unit_cost * 100, menu_price)) END AS food_cost_pct
    FROM (
        SELECT t.recipe_id, t.total, t.big, s.menu_price,
               CASE WHEN s.yield_qty = 1 THEN t.total
                    ELSE TRY(exact_div(t.total, s.yield_qty)) END AS unit_cost
        FROM tot t
        JOIN rc_scope s ON s.recipe_id = t.recipe_id
        WHERE t.lvl >= 0
    ) unit
),
missing AS (
    SELECT recipe_id, array_agg(name ORDER BY name) AS names
    FROM (SELECT * FROM lacks
          UNION
          SELECT recipe_id, 'cost too large' FROM fin
          WHERE big OR unit_cost IS NULL OR (menu_price IS NOT NULL AND food_cost_pct IS NULL))
    GROUP BY recipe_id
)
SELECT f.recipe_id, COALESCE(f.total, 0), COALESCE(f.unit_cost, 0), f.food_cost_pct, m.names
FROM fin f
LEFT JOIN missing m ON m.recipe_id = f.recipe_id

-- name: emit_changes
-- One recipe.recomputed event per scoped recipe whose total or completeness changed (a first
-- costing counts as a change). The payload is mo.services.events.recipe_recomputed_payload's
-- (tests/test_event_payloads.py compares them); amounts are plain decimal text. The old
-- figures are the ones rc_scope read before anything was written; a recipe is complete when
-- compute found nothing missing (names NULL). Keys in sorted order and
-- payload_canonical as in imports.sql's created_events: when the name and the cause are
-- printable ASCII the text is already what the export would write, and it skips re-serialising.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       payload_canonical)
SELECT :tenant_id, 'recipe.recomputed', 'recipe', CAST(s.recipe_id AS VARCHAR),
       json_object(
           'cause', CAST(:cause AS VARCHAR),
           'complete', w.names IS NULL,
           'new_total', rtrim(rtrim(CAST(w.total AS VARCHAR), '0'), '.'),
           'old_total', rtrim(rtrim(CAST(s.old_total AS VARCHAR), '0'), '.'),
           'recipe', s.name),
       regexp_full_match(s.name || CAST(:cause AS VARCHAR), '[ -~]*')
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> w.total OR s.old_complete <> (w.names IS NULL)

-- name: write_costs
-- Write the stored cost of each scoped recipe that has none yet, whose figures changed (total,
-- completeness, missing items) or that was edited since it was last costed, in one upsert.
-- Unchanged rows are left alone, computed_at included: rewriting 100k identical rows costs more
-- than the costing itself. compute worked out every figure (the unit cost and food-cost % too).
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT :tenant_id, recipe_id, total, unit_cost, food_cost_pct, complete, missing,
       current_timestamp
FROM (
    SELECT s.recipe_id, w.total, w.unit_cost, w.food_cost_pct, w.names IS NULL AS complete,
           COALESCE(to_json(w.names), CAST('[]' AS JSON)) AS missing,
           s.old_total, s.old_complete, s.old_missing, s.updated_at, s.old_at
    FROM rc_scope s
    JOIN rc_work w ON w.recipe_id = s.recipe_id
) f
WHERE old_total IS NULL OR old_total <> total OR old_complete <> complete
   OR CAST(old_missing AS VARCHAR) <> CAST(missing AS VARCHAR)
   OR updated_at > old_at
ON CONFLICT (tenant_id, recipe_id) DO UPDATE
SET total_cost = excluded.total_cost, unit_cost = excluded.unit_cost,
    food_cost_pct = excluded.food_cost_pct, complete = excluded.complete,
    missing = excluded.missing, computed_at = excluded.computed_at
