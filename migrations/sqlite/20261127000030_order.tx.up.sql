-- Orders and their lines. "order" is a reserved word and is always quoted.
-- Money columns are minor units of currency_code (Vendure's Money); there
-- is no tax engine, so no tax columns. session.active_order_id gets no
-- foreign key: deleting an order clears the sessions that point at it in
-- the same transaction (OrderService), and a stale reference left in a
-- cached session is treated as no order (vendure#1454).
CREATE TABLE "order" (
    id              INTEGER     PRIMARY KEY AUTOINCREMENT,
    created_at      TIMESTAMP   NOT NULL,
    updated_at      TIMESTAMP   NOT NULL,
    code            TEXT        NOT NULL,
    state           TEXT        NOT NULL,
    active          BOOLEAN     NOT NULL,
    order_placed_at TIMESTAMP,
    customer_id     INTEGER     REFERENCES customer (id) ON DELETE SET NULL,
    channel_id      INTEGER     NOT NULL REFERENCES channel (id) ON DELETE CASCADE,
    currency_code   TEXT        NOT NULL,
    CONSTRAINT order_code_key UNIQUE (code)
);

--bun:split

-- Serves "the customer's newest active order on this channel" at login.
CREATE INDEX order_customer_active_idx ON "order" (customer_id, channel_id) WHERE active = TRUE;

--bun:split

CREATE TABLE order_line (
    id                 INTEGER     PRIMARY KEY AUTOINCREMENT,
    created_at         TIMESTAMP   NOT NULL,
    updated_at         TIMESTAMP   NOT NULL,
    order_id           INTEGER     NOT NULL REFERENCES "order" (id) ON DELETE CASCADE,
    product_variant_id INTEGER     NOT NULL REFERENCES product_variant (id),
    quantity           INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price         INTEGER     NOT NULL CHECK (unit_price >= 0)
);

--bun:split

CREATE INDEX order_line_order_id_idx ON order_line (order_id);
