-- Keyset pages of the HTTP API's list routes read `WHERE tenant_id = … AND key > cursor
-- ORDER BY key LIMIT n`. Without an index in key order each page of the cost history scanned
-- and sorted the tenant's whole history: 200k cost rows in pages of 10k took 13.6 s (worst
-- page 0.87 s) against 4.6 s for one unpaged read. Ingredients and recipes page along their
-- (tenant_id, name_key) unique index; import batches are few but get the same order.
CREATE INDEX ingredient_costs_history ON ingredient_costs (tenant_id, effective_at, id);
CREATE INDEX import_batches_history ON import_batches (tenant_id, created_at, id);
