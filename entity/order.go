package entity

import (
	"errors"
	"fmt"
	"math"
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

// MaxMoney is the largest amount, in minor units, that the server computes:
// 2^53−1, the largest integer a JavaScript client (every Vendure
// storefront) reads exactly from JSON. A line price or an order total beyond
// it is an error (ErrOutOfRange), never a wrapped or rounded number.
const MaxMoney = 1<<53 - 1

// ErrOutOfRange is the error of an order whose figures do not fit: a line
// price or a total beyond MaxMoney, or a total quantity beyond a GraphQL
// Int. Rows written before prices were bounded can hold such figures.
var ErrOutOfRange = errors.New("out of range")

// TotalQuantity is the number of items in the order. A total beyond a
// 32-bit GraphQL Int is ErrOutOfRange.
func (o *Order) TotalQuantity() (int, error) {
	var n int64
	for _, l := range o.Lines {
		if l.Quantity < 0 {
			return 0, fmt.Errorf("%w: a line has a negative quantity", ErrOutOfRange)
		}
		if n += int64(l.Quantity); n > math.MaxInt32 {
			return 0, fmt.Errorf("%w: the order holds more than %d items", ErrOutOfRange, math.MaxInt32)
		}
	}
	return int(n), nil
}

// SubTotal is the sum of the line prices. With no tax, shipping or
// promotions it is also the total, with and without tax. A sum beyond
// MaxMoney is ErrOutOfRange: each line price is within ±MaxMoney, so no
// partial sum can overflow before it is checked.
func (o *Order) SubTotal() (int64, error) {
	var sum int64
	for _, l := range o.Lines {
		p, err := l.LinePrice()
		if err != nil {
			return 0, err
		}
		if sum += p; sum > MaxMoney || sum < -MaxMoney {
			return 0, fmt.Errorf("%w: the order total is beyond %d minor units", ErrOutOfRange, int64(MaxMoney))
		}
	}
	return sum, nil
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

// LinePrice is UnitPrice times Quantity, or ErrOutOfRange when the product
// is beyond ±MaxMoney (checked before multiplying, so it cannot wrap) or
// the quantity is negative.
func (l *OrderLine) LinePrice() (int64, error) {
	q := int64(l.Quantity)
	switch {
	case q < 0:
		return 0, fmt.Errorf("%w: a line has a negative quantity", ErrOutOfRange)
	case q == 0:
		return 0, nil
	case l.UnitPrice > MaxMoney/q || l.UnitPrice < -MaxMoney/q:
		return 0, fmt.Errorf("%w: a line price is beyond %d minor units", ErrOutOfRange, int64(MaxMoney))
	}
	return l.UnitPrice * q, nil
}

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
