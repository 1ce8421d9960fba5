package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/session"
)

// A guest order joins a registered customer's account only as a placed
// order, never as a cart. Guest checkout with a registered address keeps
// the order's own guest customer (SetCustomerForOrder); when the order is
// placed (PaymentSettled), it is linked to the account whose address its
// guest customer names (order.account_customer_id), if that account is
// verified and the server requires verification: only a verified address
// is proven to be the account holder's, so an unverified registration,
// perhaps an attacker's, gets nothing. The link makes the order readable
// by the account (order(id), orderByCode); its customer stays the guest
// customer, so no session ever reaches the account's profile through it,
// and, being placed, it is never anyone's active order.

// linkPlacedToAccount links a guest order being placed to the verified
// account with its guest customer's address, if any.
func (s *Service) linkPlacedToAccount(ctx context.Context, t *session.Tx, o *entity.Order) error {
	if !s.requireVerification || o.Customer == nil || o.Customer.UserID != nil {
		return nil
	}
	var ids []entity.ID
	if err := t.NewRaw(`SELECT c.id FROM customer AS c
JOIN "user" AS u ON u.id = c.user_id AND u.deleted_at IS NULL AND u.verified = TRUE
WHERE c.deleted_at IS NULL AND c.user_id IS NOT NULL AND lower(c.email_address) = ?
LIMIT 1`, strings.ToLower(o.Customer.EmailAddress)).Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find account of guest order: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := t.NewUpdate().Model((*entity.Order)(nil)).Set("account_customer_id = ?", ids[0]).
		Where("id = ?", o.ID).Exec(ctx); err != nil {
		return fmt.Errorf("link order to account: %w", err)
	}
	o.AccountCustomerID = &ids[0]
	return nil
}

// LinkPlacedGuestOrders links to an account's customer every placed guest
// order whose guest customer has the account's address and that is not
// linked yet, when the server requires verification (as
// linkPlacedToAccount). Verification calls it in its transaction
// (account.Carts), so orders placed before the address was proven join the
// account then; active orders never do.
func (s *Service) LinkPlacedGuestOrders(ctx context.Context, db bun.IDB, accountCustomerID entity.ID, email string) error {
	if !s.requireVerification {
		return nil
	}
	if _, err := db.NewRaw(`UPDATE "order" SET account_customer_id = ?
WHERE account_customer_id IS NULL AND active = FALSE AND order_placed_at IS NOT NULL
AND customer_id IN (SELECT id FROM customer WHERE user_id IS NULL AND lower(email_address) = ?)`,
		accountCustomerID, strings.ToLower(email)).Exec(ctx); err != nil {
		return fmt.Errorf("link placed guest orders: %w", err)
	}
	return nil
}

// ownedBy reports whether a user may read o as their own: its customer is
// the user's, or it is a placed guest order linked to the user's account.
func (s *Service) ownedBy(ctx context.Context, o *entity.Order, userID entity.ID) (bool, error) {
	if o.Customer != nil && o.Customer.UserID != nil && *o.Customer.UserID == userID {
		return true, nil
	}
	if o.AccountCustomerID == nil {
		return false, nil
	}
	n, err := s.db.NewSelect().Model((*entity.Customer)(nil)).
		Where("id = ? AND user_id = ? AND deleted_at IS NULL", *o.AccountCustomerID, userID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("find account of order: %w", err)
	}
	return n > 0, nil
}
