-- mo_analyze(tables): ANALYZE tables of this schema as their owner.
-- Tenant transactions run as mo_app (V008), which owns nothing, and PostgreSQL 15 lets only a
-- table's owner ANALYZE it (the MAINTAIN privilege arrives in 17): a plain ANALYZE there is
-- skipped with a warning, and the next large import is planned from statistics of before the
-- last one (nested loops: minutes instead of seconds for 100k rows). SECURITY DEFINER with a
-- pinned search_path; only tables of this schema are accepted, and ANALYZE changes nothing
-- but planner statistics.
DO $$
BEGIN
    EXECUTE format($fn$
        CREATE FUNCTION mo_analyze(tables TEXT[]) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
        AS $body$
        DECLARE
            one TEXT;
        BEGIN
            FOREACH one IN ARRAY tables LOOP
                IF NOT EXISTS (SELECT FROM pg_tables
                               WHERE schemaname = %L AND tablename = one) THEN
                    RAISE EXCEPTION 'mo_analyze: %% is not a table of this schema', one
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                EXECUTE format('ANALYZE %%I.%%I', %L, one);
            END LOOP;
        END
        $body$
    $fn$, current_schema(), current_schema(), current_schema());
    EXECUTE 'REVOKE EXECUTE ON FUNCTION mo_analyze(TEXT[]) FROM PUBLIC';
    EXECUTE 'GRANT EXECUTE ON FUNCTION mo_analyze(TEXT[]) TO mo_app';
END
$$;
