package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// Order states this server uses: Vendure's default order process, cut to
// what a cart without shipping needs.
const (
	OrderAddingItems      = "AddingItems"
	OrderArrangingPayment = "ArrangingPayment"
	OrderPaymentSettled   = "PaymentSettled"
	OrderCancelled        = "Cancelled"
)

// Order is a cart until its payment settles; then it stops being active.
// Money is in minor units of CurrencyCode. Lines and Customer are loaded by
// the OrderService's reads.
type Order struct {
	bun.BaseModel `bun:"table:order,alias:o"`

	ID            ID           `bun:"id,pk,autoincrement"`
	CreatedAt     time.Time    `bun:"created_at,notnull"`
	UpdatedAt     time.Time    `bun:"updated_at,notnull"`
	Code          string       `bun:"code,notnull"`
	State         string       `bun:"state,notnull"`
	Active        bool         `bun:"active,notnull"`
	OrderPlacedAt *time.Time   `bun:"order_placed_at"`
	CustomerID    *ID          `bun:"customer_id"`
	Customer      *Customer    `bun:"rel:belongs-to,join:customer_id=id"`
	ChannelID     ID           `bun:"channel_id,notnull"`
	CurrencyCode  CurrencyCode `bun:"currency_code,notnull"`
	Lines         []*OrderLine `bun:"rel:has-many,join:id=order_id"`

	// AccountCustomerID is set on a placed guest order whose guest
	// customer's address is a verified account's: the order is in that
	// account's order history. Customer stays the guest customer.
	AccountCustomerID *ID `bun:"account_customer_id"`
}

// TotalQuantity is the number of items in the order.
func (o *Order) TotalQuantity() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// SubTotal is the sum of the line prices. With no tax, shipping or
// promotions it is also the total, with and without tax.
func (o *Order) SubTotal() int64 {
	var sum int64
	for _, l := range o.Lines {
		sum += l.LinePrice()
	}
	return sum
}

// OrderLine is a quantity of one product variant in an order, at the unit
// price the variant had when the line was created.
type OrderLine struct {
	bun.BaseModel `bun:"table:order_line,alias:ol"`

	ID               ID              `bun:"id,pk,autoincrement"`
	CreatedAt        time.Time       `bun:"created_at,notnull"`
	UpdatedAt        time.Time       `bun:"updated_at,notnull"`
	OrderID          ID              `bun:"order_id,notnull"`
	ProductVariantID ID              `bun:"product_variant_id,notnull"`
	ProductVariant   *ProductVariant `bun:"rel:belongs-to,join:product_variant_id=id"`
	Quantity         int             `bun:"quantity,notnull"`
	UnitPrice        int64           `bun:"unit_price,notnull"`
}

// LinePrice is UnitPrice times Quantity.
func (l *OrderLine) LinePrice() int64 { return l.UnitPrice * int64(l.Quantity) }

// The Shop API's result unions that have Order as a member: gqlgen
// generates each union as an interface of its Is<Union> method, and binds
// Order to this type, so an *Order is returned as any of them.

// IsUpdateOrderItemsResult makes Order a member of that union.
func (*Order) IsUpdateOrderItemsResult() {}

// IsRemoveOrderItemsResult makes Order a member of that union.
func (*Order) IsRemoveOrderItemsResult() {}

// IsActiveOrderResult makes Order a member of that union.
func (*Order) IsActiveOrderResult() {}

// IsTransitionOrderToStateResult makes Order a member of that union.
func (*Order) IsTransitionOrderToStateResult() {}

// IsAddPaymentToOrderResult makes Order a member of that union.
func (*Order) IsAddPaymentToOrderResult() {}

// IsSetCustomerForOrderResult makes Order a member of that union.
func (*Order) IsSetCustomerForOrderResult() {}
