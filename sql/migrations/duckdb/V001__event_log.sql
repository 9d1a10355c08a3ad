-- The event log: every change mo makes, written in the transaction that makes it.
CREATE SEQUENCE event_log_id_seq;
CREATE TABLE event_log (
    tenant_id       VARCHAR     NOT NULL,
    id              BIGINT      NOT NULL DEFAULT nextval('event_log_id_seq'),
    event_id        UUID        NOT NULL DEFAULT uuid(),
    event_type      VARCHAR     NOT NULL,
    aggregate_type  VARCHAR     NOT NULL,
    aggregate_id    VARCHAR     NOT NULL,
    payload         JSON        NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    idempotency_key VARCHAR,
    batch_id        BIGINT
);
-- No primary key here: ids come from a sequence, and an ART key would slow bulk appends.
-- DuckDB zone maps serve time-range scans; these indexes keep the contract of both backends.
CREATE INDEX event_log_tenant_time ON event_log (tenant_id, occurred_at);
CREATE INDEX event_log_tenant_type_time ON event_log (tenant_id, event_type, occurred_at);
