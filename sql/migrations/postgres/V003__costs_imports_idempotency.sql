-- Idempotency records, supplier items, the cost chronicle and import batches.
CREATE TABLE idempotency_keys (
    tenant_id       TEXT     NOT NULL,
    idempotency_key TEXT     NOT NULL,
    operation       TEXT     NOT NULL,
    request_hash    TEXT     NOT NULL,
    result          JSONB        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, idempotency_key)
);

CREATE TABLE supplier_items (
    tenant_id     TEXT     NOT NULL,
    id            BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    supplier_key  TEXT     NOT NULL,
    sku           TEXT     NOT NULL,
    ingredient_id BIGINT      NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, supplier_key, sku)
);

CREATE TABLE ingredient_costs (
    tenant_id       TEXT         NOT NULL,
    id              BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    ingredient_id   BIGINT          NOT NULL,
    price           NUMERIC(38, 12) NOT NULL,
    pack            TEXT         NOT NULL,
    pack_qty        NUMERIC(38, 12) NOT NULL,
    unit_cost       NUMERIC(38, 12) NOT NULL,
    effective_at    TIMESTAMPTZ     NOT NULL,
    source          TEXT         NOT NULL,
    supplier        TEXT,
    note            TEXT,
    batch_id        BIGINT,
    idempotency_key TEXT,
    created_at      TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX ingredient_costs_current ON ingredient_costs (tenant_id, ingredient_id, effective_at);

CREATE TABLE import_batches (
    tenant_id       TEXT     NOT NULL,
    id              BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    kind            TEXT     NOT NULL,
    idempotency_key TEXT     NOT NULL,
    supplier        TEXT,
    supplier_key    TEXT,
    content_hash    TEXT     NOT NULL,
    status          TEXT     NOT NULL,
    rows            BIGINT      NOT NULL,
    created         BIGINT      NOT NULL DEFAULT 0,
    changed         BIGINT      NOT NULL DEFAULT 0,
    unchanged       BIGINT      NOT NULL DEFAULT 0,
    recomputed      BIGINT      NOT NULL DEFAULT 0,
    duplicate_of    BIGINT,
    effective_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX import_batches_content ON import_batches (tenant_id, kind, supplier_key, content_hash);
