-- The one catalogue table: what a cart can hold. price is in minor units of
-- currency_code (Vendure's Money). A SKU is unique among live variants.
CREATE TABLE product_variant (
    id            bigserial   PRIMARY KEY,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    sku           text        NOT NULL,
    name          text        NOT NULL,
    price         bigint      NOT NULL CHECK (price >= 0),
    currency_code text        NOT NULL
);

--bun:split

CREATE UNIQUE INDEX product_variant_sku_key ON product_variant (sku) WHERE deleted_at IS NULL;
