DROP TABLE order_line;

--bun:split

DROP TABLE "order";
