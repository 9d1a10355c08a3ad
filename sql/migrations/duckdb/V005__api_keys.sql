-- API keys: only a SHA-256 hash of the key is stored; the key itself is shown once.
CREATE TABLE api_keys (
    tenant_id  VARCHAR     NOT NULL,
    id         BIGINT      NOT NULL DEFAULT nextval('mo_id_seq'),
    key_hash   VARCHAR     NOT NULL,
    prefix     VARCHAR     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    revoked_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key_hash)
);
-- Authentication looks a key up before any tenant is known: the one cross-tenant read.
CREATE INDEX api_keys_hash ON api_keys (key_hash);
