-- Recipes, their lines and their current computed cost.
CREATE TABLE recipes (
    tenant_id   TEXT         NOT NULL,
    id          BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    name        TEXT         NOT NULL,
    name_key    TEXT         NOT NULL,
    yield_qty   NUMERIC(38, 12) NOT NULL,
    yield_unit  TEXT         NOT NULL,
    yield_family TEXT        NOT NULL,
    yield_base  TEXT         NOT NULL,
    yield_base_qty NUMERIC(38, 12) NOT NULL,
    menu_price  NUMERIC(38, 12),
    created_at  TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    updated_at  TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    deleted_at  TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX recipes_active_key
    ON recipes (tenant_id, name_key) WHERE deleted_at IS NULL;

CREATE TABLE recipe_lines (
    tenant_id     TEXT         NOT NULL,
    id            BIGINT          NOT NULL DEFAULT nextval('mo_id_seq'),
    recipe_id     BIGINT          NOT NULL,
    position      INTEGER         NOT NULL,
    ingredient_id BIGINT,
    sub_recipe_id BIGINT,
    qty           NUMERIC(38, 12) NOT NULL,
    unit          TEXT         NOT NULL,
    family        TEXT         NOT NULL,
    base_unit     TEXT         NOT NULL,
    qty_base      NUMERIC(38, 12) NOT NULL,
    waste_pct     NUMERIC(38, 12) NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX recipe_lines_recipe ON recipe_lines (tenant_id, recipe_id);

CREATE TABLE recipe_costs (
    tenant_id     TEXT         NOT NULL,
    recipe_id     BIGINT          NOT NULL,
    total_cost    NUMERIC(38, 12) NOT NULL,
    unit_cost     NUMERIC(38, 12) NOT NULL,
    food_cost_pct NUMERIC(38, 12),
    complete      BOOLEAN         NOT NULL,
    missing       JSONB            NOT NULL,
    computed_at   TIMESTAMPTZ     NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant_id, recipe_id)
);
