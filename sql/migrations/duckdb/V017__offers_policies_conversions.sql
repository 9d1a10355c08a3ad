-- Several suppliers per ingredient, and per-ingredient conversions.
--
-- ingredient_conversions: "1 each = 120 g" for one ingredient, as two exact amounts in their
-- base units (from_qty of from_base = to_qty of to_base). One active conversion per ingredient
-- and pair of bases (pair_key: the two bases sorted, joined by '|'); saving again soft-deletes
-- the previous one. ingredient_cost_policies: how an ingredient's cost is chosen among its
-- offers ('latest', 'preferred' + supplier, 'lowest'); no row means 'latest'.
--
-- cost_offers(tenant, as_of, ids): the chosen-cost rule, said once per dialect, for the
-- ingredients in the list ids (NULL: all; a caller costing a few passes them, so the windows
-- below sort their cost rows only). An offer is each
-- supplier's latest cost effective at as_of (supplier compared case-insensitively; a cost
-- without supplier is the "manual" offer). Exactly one offer per ingredient is chosen:
--   latest    the newest offer (ties: highest id), as before policies existed;
--   preferred the preferred supplier's offer; without one, the newest (fallback = true);
--   lowest    the lowest unit cost among offers effective within 30 days of the ingredient's
--             newest offer (so a forgotten cheap offer cannot win forever); ties: the newest.

CREATE TABLE ingredient_conversions (
    tenant_id     VARCHAR        NOT NULL,
    id            BIGINT         NOT NULL DEFAULT nextval('mo_id_seq'),
    ingredient_id BIGINT         NOT NULL,
    pair_key      VARCHAR        NOT NULL,
    from_text     VARCHAR        NOT NULL,
    from_base     VARCHAR        NOT NULL,
    from_qty      DECIMAL(38, 12) NOT NULL,
    to_text       VARCHAR        NOT NULL,
    to_base       VARCHAR        NOT NULL,
    to_qty        DECIMAL(38, 12) NOT NULL,
    created_at    TIMESTAMPTZ    NOT NULL DEFAULT current_timestamp,
    deleted_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
-- DuckDB has no partial indexes: see ingredients_active_key (V002).
CREATE UNIQUE INDEX ingredient_conversions_active_key ON ingredient_conversions
    (tenant_id, ingredient_id, (CASE WHEN deleted_at IS NULL THEN pair_key END));
CREATE VIEW active_ingredient_conversions AS
    SELECT * FROM ingredient_conversions WHERE deleted_at IS NULL;

CREATE TABLE ingredient_cost_policies (
    tenant_id     VARCHAR     NOT NULL,
    ingredient_id BIGINT      NOT NULL,
    policy        VARCHAR     NOT NULL,
    supplier      VARCHAR,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, ingredient_id)
);

CREATE MACRO cost_offers(tenant, as_of, ids) AS TABLE
    WITH newest_each AS (
        -- each supplier's latest cost effective at the instant (no supplier: the manual offer)
        SELECT c.ingredient_id, c.id AS cost_id, c.supplier, c.price, c.pack, c.pack_qty,
               c.unit_cost, c.effective_at, c.source, c.batch_id,
               row_number() OVER (PARTITION BY c.ingredient_id, lower(coalesce(c.supplier, ''))
                                  ORDER BY c.effective_at DESC, c.id DESC) AS rank_in_supplier
        FROM ingredient_costs c
        WHERE c.tenant_id = tenant AND c.effective_at <= as_of
          AND (ids IS NULL OR c.ingredient_id IN (SELECT unnest(ids)))
    ),
    offer AS (
        SELECT o.*, coalesce(p.policy, 'latest') AS policy, p.supplier AS policy_supplier,
               max(o.effective_at) OVER (PARTITION BY o.ingredient_id) AS newest_at,
               coalesce(bool_or(p.policy = 'preferred' AND lower(o.supplier) = lower(p.supplier))
                        OVER (PARTITION BY o.ingredient_id), FALSE) AS preferred_offers
        FROM newest_each o
        LEFT JOIN ingredient_cost_policies p ON p.tenant_id = tenant
                                            AND p.ingredient_id = o.ingredient_id
        WHERE o.rank_in_supplier = 1
    ),
    ranked AS (
        SELECT o.*, row_number() OVER (PARTITION BY o.ingredient_id ORDER BY
                   CASE WHEN o.policy = 'preferred' AND lower(o.supplier) = lower(o.policy_supplier)
                        THEN 0 ELSE 1 END,
                   CASE WHEN o.policy = 'lowest'
                             AND o.effective_at >= o.newest_at - INTERVAL '30 days'
                        THEN o.unit_cost END ASC NULLS LAST,
                   o.effective_at DESC, o.cost_id DESC) AS pick
        FROM offer o
    )
    SELECT r.ingredient_id, r.cost_id, r.supplier, r.price, r.pack, r.pack_qty, r.unit_cost,
           r.effective_at, r.source, r.batch_id, r.policy, r.policy_supplier,
           r.pick = 1 AS chosen,
           r.policy = 'preferred' AND NOT r.preferred_offers AS fallback
    FROM ranked r;
