-- Zones, as far as a Channel names them: Vendure's Channel has a default tax
-- zone and a default shipping zone. A zone's members (countries, provinces)
-- are not kept: nothing here taxes or ships.
CREATE TABLE zone (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    name       TEXT      NOT NULL,
    CONSTRAINT zone_name_key UNIQUE (name)
);

--bun:split

ALTER TABLE channel ADD COLUMN default_tax_zone_id INTEGER REFERENCES zone (id) ON DELETE SET NULL;

--bun:split

ALTER TABLE channel ADD COLUMN default_shipping_zone_id INTEGER REFERENCES zone (id) ON DELETE SET NULL;
