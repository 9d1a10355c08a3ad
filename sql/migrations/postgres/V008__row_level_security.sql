-- Row-level security: a second tenant wall under the services' `WHERE tenant_id = :tenant_id`.
--
-- Every tenant table (every table of this schema with a tenant_id column; `tenants` is the
-- directory itself, and mo_schema_history is not tenant data) gets RLS, FORCEd so the table
-- owner is held to it too, and a policy letting a row be read or written only by the tenant
-- named in app.tenant_id. PostgresStore sets app.tenant_id (set_config(..., true)) and then
-- switches to the role mo_app for the rest of every tenant transaction, so the policies apply
-- even when the server is reached as a superuser (superusers and BYPASSRLS roles skip RLS).
-- After set_config in a session the setting reads back as '' rather than NULL: hence nullif.
--
-- mo_app is NOLOGIN, NOBYPASSRLS and owns nothing. Roles are cluster-wide while schemas are
-- not (the test suite migrates many schemas, possibly at once), so it is created only when
-- missing, under a lock, tolerating a concurrent creator in another database.
--
-- Transactions without a tenant keep the connecting role: migrations, creating and listing
-- tenants, and authentication. An API key is looked up by its hash before any tenant is known,
-- so api_keys has one more policy: reads are allowed while app.tenant_id is unset (a tenant
-- transaction always sets it first, so inside one only the tenant's own keys are visible).
-- Tables added by later migrations need their own ENABLE/FORCE/POLICY and GRANTs
-- (tests/test_tenant_walls.py checks that every tenant table has them).
DO $$
DECLARE
    tenant_table TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('mo.role.mo_app'));
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mo_app') THEN
        BEGIN
            CREATE ROLE mo_app NOLOGIN NOBYPASSRLS NOSUPERUSER;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database
        END;
    END IF;
    -- SET ROLE needs membership unless the migrating (= connecting) role is a superuser.
    IF NOT pg_has_role(current_user, 'mo_app', 'MEMBER') THEN
        EXECUTE format('GRANT mo_app TO %I', current_user);
    END IF;
    -- PUBLIC holds TEMPORARY by default; grant it only where a DBA revoked it (the services
    -- stage work in temp tables), so concurrent migrations rarely update pg_database at all.
    IF NOT has_database_privilege('mo_app', current_database(), 'TEMPORARY') THEN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO mo_app', current_database());
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA %I TO mo_app', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO mo_app', current_schema());
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO mo_app', current_schema());
    EXECUTE format('GRANT SELECT ON TABLE %I.tenants TO mo_app', current_schema());

    FOR tenant_table IN
        SELECT c.relname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I TO mo_app', tenant_table);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format(
            'CREATE POLICY mo_tenant_isolation ON %I FOR ALL'
            ' USING (tenant_id = nullif(current_setting(''app.tenant_id'', true), ''''))'
            ' WITH CHECK (tenant_id = nullif(current_setting(''app.tenant_id'', true), ''''))',
            tenant_table);
    END LOOP;
END
$$;

CREATE POLICY mo_api_key_lookup ON api_keys FOR SELECT
    USING (nullif(current_setting('app.tenant_id', true), '') IS NULL);
