-- Partial imports keep their rejected rows with the batch; suppliers keep how their files read;
-- supplier_items keep the supplier's own text for an item, which may change while its sku stays.
CREATE TABLE import_rejections (
    tenant_id   TEXT   NOT NULL,
    batch_id    BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    row_no      BIGINT NOT NULL,
    column_name TEXT   NOT NULL,
    value       TEXT,
    problem     TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, batch_id, seq)
);

-- One active format per supplier name; saving again soft-deletes the previous one, so the
-- history stays.
CREATE TABLE suppliers (
    tenant_id    TEXT        NOT NULL,
    id           BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    name         TEXT        NOT NULL,
    name_key     TEXT        NOT NULL,
    column_map   TEXT,
    decimal_mark TEXT        NOT NULL,
    price_per    TEXT,
    sheet        TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    deleted_at   TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX suppliers_active_key ON suppliers (tenant_id, name_key)
    WHERE deleted_at IS NULL;

ALTER TABLE supplier_items ADD COLUMN description TEXT;

-- The tenant wall of V008, for the two new tables.
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE import_rejections, suppliers TO mo_app;
ALTER TABLE import_rejections ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_rejections FORCE ROW LEVEL SECURITY;
CREATE POLICY mo_tenant_isolation ON import_rejections FOR ALL
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), ''));
ALTER TABLE suppliers ENABLE ROW LEVEL SECURITY;
ALTER TABLE suppliers FORCE ROW LEVEL SECURITY;
CREATE POLICY mo_tenant_isolation ON suppliers FOR ALL
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), ''));
