-- Partial imports keep their rejected rows with the batch; suppliers keep how their files read;
-- supplier_items keep the supplier's own text for an item, which may change while its sku stays.
CREATE TABLE import_rejections (
    tenant_id   VARCHAR NOT NULL,
    batch_id    BIGINT  NOT NULL,
    seq         BIGINT  NOT NULL,
    row_no      BIGINT  NOT NULL,
    column_name VARCHAR NOT NULL,
    value       VARCHAR,
    problem     VARCHAR NOT NULL,
    PRIMARY KEY (tenant_id, batch_id, seq)
);

-- One active format per supplier name; saving again soft-deletes the previous one, so the
-- history stays. DuckDB has no partial indexes: see ingredients_active_key (V002).
CREATE TABLE suppliers (
    tenant_id    VARCHAR     NOT NULL,
    id           BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    name         VARCHAR     NOT NULL,
    name_key     VARCHAR     NOT NULL,
    column_map   VARCHAR,
    decimal_mark VARCHAR     NOT NULL,
    price_per    VARCHAR,
    sheet        VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    deleted_at   TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX suppliers_active_key
    ON suppliers (tenant_id, (CASE WHEN deleted_at IS NULL THEN name_key END));

ALTER TABLE supplier_items ADD COLUMN description VARCHAR;
