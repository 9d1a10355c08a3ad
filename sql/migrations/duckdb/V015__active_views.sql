-- Active-row views: soft delete said once. A read of what is live goes through active_<table>;
-- a read that must see deleted rows (restore, include_deleted, sanity) names the base table
-- and says so (tests/test_sql_rules.py checks both). Same columns as the tables.
CREATE VIEW active_ingredients AS SELECT * FROM ingredients WHERE deleted_at IS NULL;
CREATE VIEW active_ingredient_names AS SELECT * FROM ingredient_names WHERE deleted_at IS NULL;
CREATE VIEW active_recipes AS SELECT * FROM recipes WHERE deleted_at IS NULL;
