-- Tenants and ingredients. Names and aliases share one namespace per tenant among active rows.
CREATE SEQUENCE mo_id_seq;

CREATE TABLE tenants (
    id         VARCHAR     PRIMARY KEY,
    slug       VARCHAR     NOT NULL UNIQUE,
    name       VARCHAR     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE ingredients (
    tenant_id    VARCHAR         NOT NULL,
    id           BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    name         VARCHAR         NOT NULL,
    name_key     VARCHAR         NOT NULL,
    family       VARCHAR         NOT NULL,
    base_unit    VARCHAR         NOT NULL,
    category     VARCHAR,
    density      DECIMAL(38, 12),
    yield_pct    DECIMAL(38, 12) NOT NULL DEFAULT 100,
    created_at   TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    deleted_at   TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);

-- One row per name or alias. DuckDB has no partial indexes: the CASE expression is NULL for
-- soft-deleted rows, and NULLs never collide, so uniqueness holds among active rows only.
CREATE TABLE ingredient_names (
    tenant_id     VARCHAR     NOT NULL,
    id            BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    ingredient_id BIGINT      NOT NULL,
    name          VARCHAR     NOT NULL,
    name_key      VARCHAR     NOT NULL,
    is_alias      BOOLEAN     NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    deleted_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX ingredient_names_active_key
    ON ingredient_names (tenant_id, (CASE WHEN deleted_at IS NULL THEN name_key END));
CREATE UNIQUE INDEX ingredients_active_key
    ON ingredients (tenant_id, (CASE WHEN deleted_at IS NULL THEN name_key END));
