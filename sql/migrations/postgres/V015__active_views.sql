-- Active-row views: soft delete said once. A read of what is live goes through active_<table>;
-- a read that must see deleted rows (restore, include_deleted, sanity) names the base table
-- and says so (tests/test_sql_rules.py checks both). Same columns as the tables.
-- security_invoker (PostgreSQL 15): a view otherwise reads its tables with its owner's rights,
-- and the owner is not held to row-level security; with it, mo_app's tenant policies apply to
-- every read through the view as to the table (tests/test_tenant_walls.py).
CREATE VIEW active_ingredients WITH (security_invoker = true) AS
    SELECT * FROM ingredients WHERE deleted_at IS NULL;
CREATE VIEW active_ingredient_names WITH (security_invoker = true) AS
    SELECT * FROM ingredient_names WHERE deleted_at IS NULL;
CREATE VIEW active_recipes WITH (security_invoker = true) AS
    SELECT * FROM recipes WHERE deleted_at IS NULL;
GRANT SELECT ON active_ingredients, active_ingredient_names, active_recipes TO mo_app;
