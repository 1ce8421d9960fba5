package shopapi

import (
	"context"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/order"
	"github.com/shopsession/sessionserver/sessioncache"
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
// the order, or the ErrorResult an expected outcome is (errorResult).
// Faults, and an outcome U has no member for, stay errors.
func orderResult[U any](o *entity.Order, err error) (U, error) {
	if err == nil {
		u, _ := any(o).(U) // a nil order: the nullable result is null
		return u, nil
	}
	return member[U](err)
}
