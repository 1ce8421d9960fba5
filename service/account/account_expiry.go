package account

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/session"
)

// expireBatch is how many expired registrations one transaction of
// ExpireRegistrations removes.
const expireBatch = 500

// ExpireRegistrations removes the customer accounts whose registration
// was never verified and whose verification token expired more than
// VerificationTokenDuration ago (so refreshCustomerVerification has as
// long again to send a new one, as Vendure's expired-token message
// suggests). The user, its password, roles and tokens go; its customer
// profile goes back to being a guest customer, so the orders it holds
// stay as guest orders; its sessions (there are none while verification is
// required) end through the session owner. The address is then free, and
// a registration that nobody verified holds nothing of the owner's.
// Accounts created unverified without a token (by an administrator) are
// left alone. It returns how many it removed.
func (s *Service) ExpireRegistrations(ctx context.Context) (int, error) {
	removed := 0
	for {
		var ids []entity.ID
		err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
			ids = ids[:0]
			if err := t.NewRaw(`SELECT u.id FROM "user" AS u
JOIN customer_token AS ct ON ct.user_id = u.id AND ct.kind = ?
WHERE NOT u.verified AND u.deleted_at IS NULL AND ct.expires < ?
ORDER BY u.id LIMIT ?`, entity.TokenVerification, s.now().UTC().Add(-s.verificationTTL), expireBatch).Scan(ctx, &ids); err != nil {
				return fmt.Errorf("find expired registrations: %w", err)
			}
			for _, id := range ids {
				if err := s.auth.sessions.DeleteByUser(ctx, t, id, session.RevokeUserDeleted); err != nil {
					return err
				}
			}
			if len(ids) == 0 {
				return nil
			}
			if _, err := t.NewUpdate().Model((*entity.Customer)(nil)).Set("user_id = NULL").Set("updated_at = ?", s.now().UTC()).
				Where("user_id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("release customers of expired registrations: %w", err)
			}
			for _, m := range []any{(*entity.CustomerToken)(nil), (*entity.AuthenticationMethod)(nil), (*entity.UserRole)(nil)} {
				if _, err := t.NewDelete().Model(m).Where("user_id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
					return fmt.Errorf("remove expired registrations: %w", err)
				}
			}
			if _, err := t.NewDelete().Model((*entity.User)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("remove expired registrations: %w", err)
			}
			return nil
		})
		if err != nil {
			return removed, err
		}
		removed += len(ids)
		if len(ids) < expireBatch {
			return removed, nil
		}
	}
}
