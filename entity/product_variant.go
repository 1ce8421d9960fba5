package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// ProductVariant is the one catalogue entity the server keeps: something a
// cart can hold. Price is in minor units of CurrencyCode (cents for USD),
// as Vendure's Money scalar; there is no tax engine, so a price with tax
// equals the net price.
type ProductVariant struct {
	bun.BaseModel `bun:"table:product_variant,alias:pv"`

	ID           ID           `bun:"id,pk,autoincrement"`
	CreatedAt    time.Time    `bun:"created_at,notnull"`
	UpdatedAt    time.Time    `bun:"updated_at,notnull"`
	DeletedAt    *time.Time   `bun:"deleted_at"`
	SKU          string       `bun:"sku,notnull"`
	Name         string       `bun:"name,notnull"`
	Price        int64        `bun:"price,notnull"`
	CurrencyCode CurrencyCode `bun:"currency_code,notnull"`
}
