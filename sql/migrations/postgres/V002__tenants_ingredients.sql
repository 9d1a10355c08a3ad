-- Tenants and ingredients. Names and aliases share one namespace per tenant among active rows.
CREATE SEQUENCE mo_id_seq;

CREATE TABLE tenants (
    id         TEXT     PRIMARY KEY,
    slug       TEXT     NOT NULL UNIQUE,
    name       TEXT     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE ingredients (
    tenant_id    TEXT         NOT NULL,
    id           BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    name         TEXT         NOT NULL,
    name_key     TEXT         NOT NULL,
    family       TEXT         NOT NULL,
    base_unit    TEXT         NOT NULL,
    category     TEXT,
    density      NUMERIC(38, 12),
    yield_pct    NUMERIC(38, 12) NOT NULL DEFAULT 100,
    created_at   TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    deleted_at   TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);

-- One row per name or alias; partial unique indexes keep uniqueness among active rows only.
CREATE TABLE ingredient_names (
    tenant_id     TEXT     NOT NULL,
    id            BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    ingredient_id BIGINT      NOT NULL,
    name          TEXT     NOT NULL,
    name_key      TEXT     NOT NULL,
    is_alias      BOOLEAN     NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    deleted_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX ingredient_names_active_key
    ON ingredient_names (tenant_id, name_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX ingredients_active_key
    ON ingredients (tenant_id, name_key) WHERE deleted_at IS NULL;
