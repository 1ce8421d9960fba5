package shopapi

import (
	"context"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/order"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// The codes of the order ErrorResults, as Vendure spells them.
const (
	codeOrderModification    gqlauth.ErrorCode = "ORDER_MODIFICATION_ERROR"
	codeOrderLimit           gqlauth.ErrorCode = "ORDER_LIMIT_ERROR"
	codeNegativeQuantity     gqlauth.ErrorCode = "NEGATIVE_QUANTITY_ERROR"
	codeOrderStateTransition gqlauth.ErrorCode = "ORDER_STATE_TRANSITION_ERROR"
	codeOrderPaymentState    gqlauth.ErrorCode = "ORDER_PAYMENT_STATE_ERROR"
	codeIneligiblePayment    gqlauth.ErrorCode = "INELIGIBLE_PAYMENT_METHOD_ERROR"
	codeAlreadyLoggedIn      gqlauth.ErrorCode = "ALREADY_LOGGED_IN_ERROR"
	codeEmailAddressConflict gqlauth.ErrorCode = "EMAIL_ADDRESS_CONFLICT_ERROR"
)

// shopper is who the request is, for the OrderService.
func shopper(ctx context.Context) order.Shopper {
	rc := requestctx.FromContext(ctx)
	return order.Shopper{Session: rc.Session(), ChannelID: rc.ChannelID()}
}

// orderCall runs an OrderService call for the request and keeps the
// session it returns as the request's (a new active order).
func orderCall(ctx context.Context, call func(order.Shopper) (*entity.Order, *sessioncache.CachedSession, error)) (*entity.Order, error) {
	o, cs, err := call(shopper(ctx))
	requestctx.FromContext(ctx).ReplaceSession(cs)
	return o, err
}

// orderResult maps an order operation's outcome to a member of union U:
// the order, or the ErrorResult an expected outcome is. Faults, and an
// outcome U has no member for, stay errors.
func orderResult[U any](o *entity.Order, err error) (U, error) {
	var zero U
	if err == nil {
		if u, ok := any(o).(U); ok {
			return u, nil
		}
		return zero, nil // a nil order: the nullable result is null
	}
	if u, ok := orderErrorResult(err).(U); ok {
		return u, nil
	}
	return zero, err
}

// orderErrorResult is the ErrorResult type of an expected outcome, or nil.
func orderErrorResult(err error) any {
	msg := err.Error()
	switch e := err.(type) {
	case *outcome.NoActiveOrderError:
		return &model.NoActiveOrderError{ErrorCode: gqlauth.ErrorCodeNoActiveOrderError, Message: msg}
	case *outcome.OrderModificationError:
		return &model.OrderModificationError{ErrorCode: codeOrderModification, Message: msg}
	case *outcome.OrderLimitError:
		return &model.OrderLimitError{ErrorCode: codeOrderLimit, Message: msg, MaxItems: e.MaxItems}
	case *outcome.NegativeQuantityError:
		return &model.NegativeQuantityError{ErrorCode: codeNegativeQuantity, Message: msg}
	case *outcome.OrderStateTransitionError:
		return &model.OrderStateTransitionError{
			ErrorCode: codeOrderStateTransition, Message: msg,
			TransitionError: e.TransitionError, FromState: e.FromState, ToState: e.ToState,
		}
	case *outcome.OrderPaymentStateError:
		return &model.OrderPaymentStateError{ErrorCode: codeOrderPaymentState, Message: msg}
	case *outcome.IneligiblePaymentMethodError:
		return &model.IneligiblePaymentMethodError{ErrorCode: codeIneligiblePayment, Message: msg, EligibilityCheckerMessage: e.EligibilityCheckerMessage}
	case *outcome.AlreadyLoggedInError:
		return &model.AlreadyLoggedInError{ErrorCode: codeAlreadyLoggedIn, Message: msg}
	case *outcome.EmailAddressConflictError:
		return &model.EmailAddressConflictError{ErrorCode: codeEmailAddressConflict, Message: msg}
	}
	return nil
}
