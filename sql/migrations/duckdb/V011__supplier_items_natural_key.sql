-- supplier_items is keyed by what identifies a row: (tenant_id, supplier_key, sku). Its surrogate
-- id was never read, yet a price list inserts one supplier_items row per sku, and the index that
-- id needed was a third of that insert's cost (see postgres/V011). DuckDB cannot drop a primary
-- key or a column with indexes on its table: the table is rebuilt under its own name.
CREATE TABLE supplier_items_v011 (
    tenant_id     VARCHAR     NOT NULL,
    supplier_key  VARCHAR     NOT NULL,
    sku           VARCHAR     NOT NULL,
    ingredient_id BIGINT      NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, supplier_key, sku)
);
INSERT INTO supplier_items_v011 (tenant_id, supplier_key, sku, ingredient_id, created_at)
SELECT tenant_id, supplier_key, sku, ingredient_id, created_at FROM supplier_items;
DROP TABLE supplier_items;
ALTER TABLE supplier_items_v011 RENAME TO supplier_items;
