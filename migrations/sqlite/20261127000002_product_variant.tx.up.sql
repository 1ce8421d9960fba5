-- The one catalogue table: what a cart can hold. price is in minor units of
-- currency_code (Vendure's Money). A SKU is unique among live variants.
CREATE TABLE product_variant (
    id            INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    deleted_at    TIMESTAMP,
    sku           TEXT      NOT NULL,
    name          TEXT      NOT NULL,
    price         INTEGER   NOT NULL CHECK (price >= 0),
    currency_code TEXT      NOT NULL
);

--bun:split

CREATE UNIQUE INDEX product_variant_sku_key ON product_variant (sku) WHERE deleted_at IS NULL;
