-- Idempotency records, supplier items, the cost chronicle and import batches.
CREATE TABLE idempotency_keys (
    tenant_id       VARCHAR     NOT NULL,
    idempotency_key VARCHAR     NOT NULL,
    operation       VARCHAR     NOT NULL,
    request_hash    VARCHAR     NOT NULL,
    result          JSON        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, idempotency_key)
);

CREATE TABLE supplier_items (
    tenant_id     VARCHAR     NOT NULL,
    id            BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    supplier_key  VARCHAR     NOT NULL,
    sku           VARCHAR     NOT NULL,
    ingredient_id BIGINT      NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, supplier_key, sku)
);

CREATE TABLE ingredient_costs (
    tenant_id       VARCHAR         NOT NULL,
    id              BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    ingredient_id   BIGINT          NOT NULL,
    price           DECIMAL(38, 12) NOT NULL,
    pack            VARCHAR         NOT NULL,
    pack_qty        DECIMAL(38, 12) NOT NULL,
    unit_cost       DECIMAL(38, 12) NOT NULL,
    effective_at    TIMESTAMPTZ     NOT NULL,
    source          VARCHAR         NOT NULL,
    supplier        VARCHAR,
    note            VARCHAR,
    batch_id        BIGINT,
    idempotency_key VARCHAR,
    created_at      TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX ingredient_costs_current ON ingredient_costs (tenant_id, ingredient_id, effective_at);

CREATE TABLE import_batches (
    tenant_id       VARCHAR     NOT NULL,
    id              BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    kind            VARCHAR     NOT NULL,
    idempotency_key VARCHAR     NOT NULL,
    supplier        VARCHAR,
    supplier_key    VARCHAR,
    content_hash    VARCHAR     NOT NULL,
    status          VARCHAR     NOT NULL,
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
