package outcome

import "fmt"

// The expected outcomes of order operations. Their Error texts are
// Vendure's English messages, verbatim; the Shop API sends them as
// ErrorResult members of the result unions.

// NoActiveOrderError: the session has no active order to work on.
type NoActiveOrderError struct{}

func (*NoActiveOrderError) Error() string {
	return "There is no active Order associated with the current session"
}

func (*NoActiveOrderError) ErrorCode() string { return "NO_ACTIVE_ORDER_ERROR" }

// OrderModificationError: lines may only change in AddingItems.
type OrderModificationError struct{}

func (*OrderModificationError) Error() string {
	return `Order contents may only be modified when in the "AddingItems" state`
}

func (*OrderModificationError) ErrorCode() string { return "ORDER_MODIFICATION_ERROR" }

// NegativeQuantityError: a quantity below zero.
type NegativeQuantityError struct{}

func (*NegativeQuantityError) Error() string {
	return "The quantity for an OrderItem cannot be negative"
}

func (*NegativeQuantityError) ErrorCode() string { return "NEGATIVE_QUANTITY_ERROR" }

// OrderLimitError: the order or the line would exceed MaxItems.
type OrderLimitError struct{ MaxItems int }

func (e *OrderLimitError) Error() string {
	return fmt.Sprintf("Cannot add items. An order may consist of a maximum of %d items", e.MaxItems)
}

func (*OrderLimitError) ErrorCode() string { return "ORDER_LIMIT_ERROR" }

// OrderStateTransitionError: a refused transition. TransitionError is the
// reason (the process's message, or the generic one for a transition the
// state machine does not have).
type OrderStateTransitionError struct {
	FromState, ToState, TransitionError string
}

func (e *OrderStateTransitionError) Error() string {
	return fmt.Sprintf("Cannot transition Order from %q to %q", e.FromState, e.ToState)
}

func (*OrderStateTransitionError) ErrorCode() string { return "ORDER_STATE_TRANSITION_ERROR" }

// OrderPaymentStateError: a payment added outside ArrangingPayment.
type OrderPaymentStateError struct{}

func (*OrderPaymentStateError) Error() string {
	return `A Payment may only be added when Order is in "ArrangingPayment" state`
}

func (*OrderPaymentStateError) ErrorCode() string { return "ORDER_PAYMENT_STATE_ERROR" }

// IneligiblePaymentMethodError: no payment method with that code is
// eligible for the order. Vendure has no English text for it and sends the
// code itself as the message.
type IneligiblePaymentMethodError struct{ EligibilityCheckerMessage *string }

func (*IneligiblePaymentMethodError) Error() string { return "INELIGIBLE_PAYMENT_METHOD_ERROR" }

func (*IneligiblePaymentMethodError) ErrorCode() string { return "INELIGIBLE_PAYMENT_METHOD_ERROR" }

// AlreadyLoggedInError: setCustomerForOrder by a logged-in customer.
type AlreadyLoggedInError struct{}

func (*AlreadyLoggedInError) Error() string {
	return "Cannot set a Customer for the Order when already logged in"
}

func (*AlreadyLoggedInError) ErrorCode() string { return "ALREADY_LOGGED_IN_ERROR" }
