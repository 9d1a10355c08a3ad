-- The migration history, Flyway style. Not a tenant table.

-- name: create_history
CREATE TABLE IF NOT EXISTS mo_schema_history (
    version      INTEGER     PRIMARY KEY,
    description  VARCHAR     NOT NULL,
    script       VARCHAR     NOT NULL,
    checksum     VARCHAR     NOT NULL,
    installed_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    execution_ms BIGINT      NOT NULL,
    success      BOOLEAN     NOT NULL
)

-- name: applied
SELECT version, description, script, checksum, installed_at, execution_ms, success
FROM mo_schema_history
ORDER BY version

-- name: record
INSERT INTO mo_schema_history (version, description, script, checksum, execution_ms, success)
VALUES (:version, :description, :script, :checksum, :execution_ms, TRUE)
