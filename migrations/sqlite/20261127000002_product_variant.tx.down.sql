DROP TABLE IF EXISTS product_variant;
