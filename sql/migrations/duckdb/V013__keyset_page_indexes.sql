-- PostgreSQL only (postgres/V013__keyset_page_indexes.sql). DuckDB pages read zone-map-pruned
-- scans and would never use an ART index here (see V012): this no-op keeps the versions of
-- both dialects in step.
SELECT 1;
