ALTER TABLE channel DROP COLUMN IF EXISTS default_shipping_zone_id;

--bun:split

ALTER TABLE channel DROP COLUMN IF EXISTS default_tax_zone_id;

--bun:split

DROP TABLE IF EXISTS zone;
