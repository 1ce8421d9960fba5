-- Zones, as far as a Channel names them: Vendure's Channel has a default tax
-- zone and a default shipping zone. A zone's members (countries, provinces)
-- are not kept: nothing here taxes or ships.
CREATE TABLE zone (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    name       text        NOT NULL,
    CONSTRAINT zone_name_key UNIQUE (name)
);

--bun:split

ALTER TABLE channel ADD COLUMN default_tax_zone_id bigint REFERENCES zone (id) ON DELETE SET NULL;

--bun:split

ALTER TABLE channel ADD COLUMN default_shipping_zone_id bigint REFERENCES zone (id) ON DELETE SET NULL;
