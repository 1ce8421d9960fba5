package account

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/session"
)

// Notifier queues the messages of the account flows (notify.Message: the
// one-time tokens, and the notices of a password change, an e-mail
// address change and a new sign-in) for their recipients. Vendure
// publishes AccountRegistrationEvent and PasswordResetEvent for its
// EmailPlugin; here the services call Notify in the transaction that
// writes what the message tells of, so a rolled-back write sends nothing.
// An error rolls that transaction back.
//
// Notify must return quickly and must not deliver: it runs only for
// addresses that have an account, so a slow one (an SMTP round trip)
// would tell a caller by the response time whether an address is
// registered. The server's Notifier inserts a River job in the
// transaction (app, jobs), which delivers it later and retries.
type Notifier interface {
	Notify(ctx context.Context, t *session.Tx, m notify.Message) error
}

// SendAfterCommit is a Notifier that hands each message to Sender once its
// transaction commits, in the committing goroutine, and logs a failure
// (the address masked, never the token). Nothing retries a failed
// delivery. A Service built without a Notifier uses one with a notify.Log
// that shows tokens (development); app uses one for app.Options.Notifier
// (tests). The server's configured notifiers go through River instead.
type SendAfterCommit struct {
	Sender notify.Sender
	// Logger logs failed deliveries. Defaults to discarding them.
	Logger *slog.Logger
}

// Notify queues m for Sender after commit.
func (n SendAfterCommit) Notify(_ context.Context, t *session.Tx, m notify.Message) error {
	t.OnCommit(func(ctx context.Context) {
		if err := n.Sender.Send(ctx, m); err != nil {
			setup.Logger(n.Logger).WarnContext(ctx, "notification delivery failed",
				"type", string(m.Type), "emailAddress", auth.MaskIdentifier(m.EmailAddress), "err", err)
		}
	})
	return nil
}

// newMessage is a message of a type to a user's address about what
// happened at now.
func newMessage(now time.Time, typ notify.Type, email string, userID entity.ID) notify.Message {
	return notify.Message{ID: notify.NewID(), Type: typ, EmailAddress: email, UserID: userID, OccurredAt: now.UTC()}
}

// tokenKinds maps the token messages to the kinds of customer_token.
var tokenKinds = map[notify.Type]string{
	notify.Verification:  entity.TokenVerification,
	notify.PasswordReset: entity.TokenPasswordReset,
}

// tokenTypes maps the kinds of customer_token to their messages.
var tokenTypes = map[string]notify.Type{
	entity.TokenVerification:  notify.Verification,
	entity.TokenPasswordReset: notify.PasswordReset,
}

// RenewDeliveryToken gives the issuance of a one-time token that a queued
// delivery names (typ, the token's message type; deliveryID, the
// customer_token row's delivery_id) a fresh token, and returns it for the
// delivery to send. The raw token the request issued is never stored: the
// job carries the delivery id, and this token exists only in the delivery
// from here on. ok is false, and nothing changes, when the issuance is
// gone (used, replaced by a newer one, voided by a password change, or
// expired): the delivery then has nothing to send. Each call replaces the
// token of the call before, so a retried delivery sends a token that
// works and the one of a failed attempt stops working.
func (s *Service) RenewDeliveryToken(ctx context.Context, userID entity.ID, typ notify.Type, deliveryID string) (token string, ok bool, err error) {
	kind, known := tokenKinds[typ]
	if !known || deliveryID == "" {
		return "", false, nil
	}
	token, err = session.GenerateToken()
	if err != nil {
		return "", false, err
	}
	res, err := s.db.NewUpdate().Model((*entity.CustomerToken)(nil)).
		Set("token_hash = ?", session.HashToken(token)).
		Where("user_id = ? AND kind = ? AND delivery_id = ? AND expires > ?", userID, kind, deliveryID, s.now().UTC()).
		Exec(ctx)
	if err != nil {
		return "", false, fmt.Errorf("renew %s token: %w", kind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", false, nil
	}
	return token, true, nil
}
