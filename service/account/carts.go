package account

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/session"
)

// Carts is what the account flows need of the orders, which sit above
// them (order.Service implements it): both run in the caller's
// transaction.
type Carts interface {
	// MergeOnLogin is Vendure's mergeOrders at login: it returns the
	// order the new session of userID holds (nil for none), given the
	// active order of the session the login came with.
	MergeOnLogin(ctx context.Context, t *session.Tx, userID, channelID entity.ID, guestOrderID *entity.ID) (*entity.ID, error)
	// LinkPlacedGuestOrders links to an account's customer the placed
	// guest orders of its address, once verification proves the address.
	LinkPlacedGuestOrders(ctx context.Context, db bun.IDB, accountCustomerID entity.ID, email string) error
}
