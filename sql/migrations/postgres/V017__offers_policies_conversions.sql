-- Several suppliers per ingredient, and per-ingredient conversions.
--
-- ingredient_conversions: "1 each = 120 g" for one ingredient, as two exact amounts in their
-- base units (from_qty of from_base = to_qty of to_base). One active conversion per ingredient
-- and pair of bases (pair_key: the two bases sorted, joined by '|'); saving again soft-deletes
-- the previous one. ingredient_cost_policies: how an ingredient's cost is chosen among its
-- offers ('latest', 'preferred' + supplier, 'lowest'); no row means 'latest'.
--
-- cost_offers(tenant, as_of, ids): the chosen-cost rule, said once per dialect, for the
-- ingredients in the array ids (NULL: all; a caller costing a few passes them, so the windows
-- below sort their cost rows only). An offer is each
-- supplier's latest cost effective at as_of (supplier compared case-insensitively; a cost
-- without supplier is the "manual" offer). Exactly one offer per ingredient is chosen:
--   latest    the newest offer (ties: highest id), as before policies existed;
--   preferred the preferred supplier's offer; without one, the newest (fallback = true);
--   lowest    the lowest unit cost among offers effective within 30 days of the ingredient's
--             newest offer (so a forgotten cheap offer cannot win forever); ties: the newest.

CREATE TABLE ingredient_conversions (
    tenant_id     TEXT            NOT NULL,
    id            BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    ingredient_id BIGINT          NOT NULL,
    pair_key      TEXT            NOT NULL,
    from_text     TEXT            NOT NULL,
    from_base     TEXT            NOT NULL,
    from_qty      NUMERIC(38, 12) NOT NULL,
    to_text       TEXT            NOT NULL,
    to_base       TEXT            NOT NULL,
    to_qty        NUMERIC(38, 12) NOT NULL,
    created_at    TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    deleted_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX ingredient_conversions_active_key ON ingredient_conversions
    (tenant_id, ingredient_id, pair_key) WHERE deleted_at IS NULL;
CREATE VIEW active_ingredient_conversions WITH (security_invoker = true) AS
    SELECT * FROM ingredient_conversions WHERE deleted_at IS NULL;

CREATE TABLE ingredient_cost_policies (
    tenant_id     TEXT        NOT NULL,
    ingredient_id BIGINT      NOT NULL,
    policy        TEXT        NOT NULL,
    supplier      TEXT,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, ingredient_id)
);

-- The tenant wall of V008 for the two new tables; the view keeps it as V015's do.
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ingredient_conversions, ingredient_cost_policies
    TO mo_app;
GRANT SELECT ON active_ingredient_conversions TO mo_app;
ALTER TABLE ingredient_conversions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingredient_conversions FORCE ROW LEVEL SECURITY;
CREATE POLICY mo_tenant_isolation ON ingredient_conversions FOR ALL
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), ''));
ALTER TABLE ingredient_cost_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingredient_cost_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY mo_tenant_isolation ON ingredient_cost_policies FOR ALL
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), ''));

-- LANGUAGE sql, STABLE, not STRICT, no SET, one SELECT: the planner inlines it into the calling
-- query (EXPLAIN shows the scans of ingredient_costs, no Function Scan), so a caller's filter on
-- ingredient_id reaches the index. It runs with the caller's rights: row-level security holds.
CREATE FUNCTION cost_offers(tenant TEXT, as_of TIMESTAMPTZ, ids BIGINT[])
RETURNS TABLE (ingredient_id BIGINT, cost_id BIGINT, supplier TEXT, price NUMERIC(38, 12),
               pack TEXT, pack_qty NUMERIC(38, 12), unit_cost NUMERIC(38, 12),
               effective_at TIMESTAMPTZ, source TEXT, batch_id BIGINT, policy TEXT,
               policy_supplier TEXT, chosen BOOLEAN, fallback BOOLEAN)
LANGUAGE sql STABLE AS $$
    WITH newest_each AS (
        -- each supplier's latest cost effective at the instant (no supplier: the manual offer)
        SELECT c.ingredient_id, c.id AS cost_id, c.supplier, c.price, c.pack, c.pack_qty,
               c.unit_cost, c.effective_at, c.source, c.batch_id,
               row_number() OVER (PARTITION BY c.ingredient_id, lower(coalesce(c.supplier, ''))
                                  ORDER BY c.effective_at DESC, c.id DESC) AS rank_in_supplier
        FROM ingredient_costs c
        WHERE c.tenant_id = cost_offers.tenant AND c.effective_at <= cost_offers.as_of
          AND (cost_offers.ids IS NULL
               OR c.ingredient_id IN (SELECT unnest(cost_offers.ids)))  -- hashed, not a scan of ids
    ),
    offer AS (
        SELECT o.*, coalesce(p.policy, 'latest') AS policy, p.supplier AS policy_supplier,
               max(o.effective_at) OVER (PARTITION BY o.ingredient_id) AS newest_at,
               coalesce(bool_or(p.policy = 'preferred' AND lower(o.supplier) = lower(p.supplier))
                        OVER (PARTITION BY o.ingredient_id), FALSE) AS preferred_offers
        FROM newest_each o
        LEFT JOIN ingredient_cost_policies p ON p.tenant_id = cost_offers.tenant
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
    FROM ranked r
$$;
GRANT EXECUTE ON FUNCTION cost_offers(TEXT, TIMESTAMPTZ, BIGINT[]) TO mo_app;
