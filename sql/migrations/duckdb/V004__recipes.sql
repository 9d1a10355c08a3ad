-- Recipes, their lines and their current computed cost.
CREATE TABLE recipes (
    tenant_id   VARCHAR         NOT NULL,
    id          BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    name        VARCHAR         NOT NULL,
    name_key    VARCHAR         NOT NULL,
    yield_qty   DECIMAL(38, 12) NOT NULL,
    yield_unit  VARCHAR         NOT NULL,
    yield_family VARCHAR        NOT NULL,
    yield_base  VARCHAR         NOT NULL,
    yield_base_qty DECIMAL(38, 12) NOT NULL,
    menu_price  DECIMAL(38, 12),
    created_at  TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    updated_at  TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    deleted_at  TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX recipes_active_key
    ON recipes (tenant_id, (CASE WHEN deleted_at IS NULL THEN name_key END));

CREATE TABLE recipe_lines (
    tenant_id     VARCHAR         NOT NULL,
    id            BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    recipe_id     BIGINT          NOT NULL,
    position      INTEGER         NOT NULL,
    ingredient_id BIGINT,
    sub_recipe_id BIGINT,
    qty           DECIMAL(38, 12) NOT NULL,
    unit          VARCHAR         NOT NULL,
    family        VARCHAR         NOT NULL,
    base_unit     VARCHAR         NOT NULL,
    qty_base      DECIMAL(38, 12) NOT NULL,
    waste_pct     DECIMAL(38, 12) NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX recipe_lines_recipe ON recipe_lines (tenant_id, recipe_id);

CREATE TABLE recipe_costs (
    tenant_id     VARCHAR         NOT NULL,
    recipe_id     BIGINT          NOT NULL,
    total_cost    DECIMAL(38, 12) NOT NULL,
    unit_cost     DECIMAL(38, 12) NOT NULL,
    food_cost_pct DECIMAL(38, 12),
    complete      BOOLEAN         NOT NULL,
    missing       JSON            NOT NULL,
    computed_at   TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, recipe_id)
);
