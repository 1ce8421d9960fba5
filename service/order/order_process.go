package order

import (
	"fmt"
	"slices"

	"github.com/shopsession/sessionserver/entity"
)

// orderTransitions is Vendure's default order process for the states this
// server has (no PaymentAuthorized, shipping or modification states).
var orderTransitions = map[string][]string{
	entity.OrderAddingItems:      {entity.OrderArrangingPayment, entity.OrderCancelled},
	entity.OrderArrangingPayment: {entity.OrderPaymentSettled, entity.OrderAddingItems, entity.OrderCancelled},
	entity.OrderPaymentSettled:   {entity.OrderCancelled},
	entity.OrderCancelled:        {},
}

// transitionRefusal returns why o may not move to state ("" if it may),
// in Vendure's words.
func transitionRefusal(o *entity.Order, state string) string {
	if !slices.Contains(orderTransitions[o.State], state) {
		return fmt.Sprintf("Cannot transition Order from %q to %q", o.State, state)
	}
	if o.State == entity.OrderAddingItems && state != entity.OrderCancelled {
		for _, l := range o.Lines {
			if l.ProductVariant == nil || l.ProductVariant.DeletedAt != nil {
				return fmt.Sprintf("Cannot transition to %q because the Order contains ProductVariants which are no longer available", state)
			}
		}
	}
	if state != entity.OrderCancelled {
		if _, err := o.SubTotal(); err != nil {
			return fmt.Sprintf("Cannot transition Order to %q because its total is beyond %d minor units, the largest amount this server computes",
				state, int64(entity.MaxMoney))
		}
	}
	switch state {
	case entity.OrderArrangingPayment:
		if len(o.Lines) == 0 {
			// Vendure's process returns this message key, which its English
			// messages lack, so clients receive the key itself.
			return "message.cannot-transition-to-payment-when-order-is-empty"
		}
		if o.CustomerID == nil {
			return `Cannot transition Order to the "ArrangingPayment" state without Customer details`
		}
	case entity.OrderPaymentSettled:
		// Only addPaymentToOrder settles: no payment is recorded otherwise.
		return `Cannot transition Order to the "PaymentSettled" state when the total is not covered by settled Payments`
	}
	return ""
}
