-- payload_canonical: true when the stored payload text is already canonical JSON (sorted keys,
-- compact separators, ASCII with Python's escapes: mo.util.jsonutil.dumps(loads(text))), so reads
-- and exports can pass it through instead of re-serialising it. Writers that know it set it
-- (emit_event, the import statements); every other row, those written before this migration
-- included, stays false and is re-serialised as before. A wrong false costs time only; a
-- wrong true would change exported bytes, so nothing sets true without knowing.
--
-- DuckDB refuses ALTER TABLE on a table with indexes ("Cannot alter entry ... because there
-- are entries that depend on it"): drop them, add the column, create them again.
DROP INDEX event_log_tenant_time;
DROP INDEX event_log_tenant_type_time;
ALTER TABLE event_log ADD COLUMN payload_canonical BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX event_log_tenant_time ON event_log (tenant_id, occurred_at);
CREATE INDEX event_log_tenant_type_time ON event_log (tenant_id, event_type, occurred_at);
