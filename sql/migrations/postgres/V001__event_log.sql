-- The event log: every change mo makes, written in the transaction that makes it.
CREATE SEQUENCE event_log_id_seq;
CREATE TABLE event_log (
    tenant_id       TEXT     NOT NULL,
    id              BIGINT      NOT NULL DEFAULT nextval('event_log_id_seq'),
    event_id        UUID        NOT NULL DEFAULT gen_random_uuid(),
    event_type      TEXT     NOT NULL,
    aggregate_type  TEXT     NOT NULL,
    aggregate_id    TEXT     NOT NULL,
    payload         JSONB        NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    idempotency_key TEXT,
    batch_id        BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX event_log_tenant_time ON event_log (tenant_id, occurred_at);
CREATE INDEX event_log_tenant_type_time ON event_log (tenant_id, event_type, occurred_at);
