-- payload_canonical (see duckdb/V010): true when the stored payload text is already canonical
-- JSON. JSONB re-serialises payloads with its own key order and spacing, so on PostgreSQL no
-- writer sets it and every payload is re-serialised on read, as before. The column keeps the
-- two schemas, and the shared read queries, alike.
ALTER TABLE event_log ADD COLUMN payload_canonical BOOLEAN NOT NULL DEFAULT false;
