package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// Verification and password reset tokens are session-like secrets: 32
// random bytes as 64 hex characters (generateToken), of which only the
// SHA-256 is stored (HashToken), one per user and kind in customer_token.
// Issuing a token replaces the user's previous one of that kind; using one
// deletes it in the transaction that applies it, so it works once even
// when two requests race with it.

// pendingPassword is what a new verification token does with the password
// of the registration it is sent for (entity.CustomerToken.PasswordHash):
// with set, the token carries hash (nil: none was chosen); without, a
// token that replaces another keeps its password (a refresh sends the same
// registration again, as Vendure's refreshCustomerVerification does, even
// after the old token expired), and a new one starts without.
type pendingPassword struct {
	set  bool
	hash *string
}

// issueToken stores a new token of a kind for an account, replacing its
// previous one of that kind, and queues its message in t (Notifier), so a
// rolled-back transaction sends nothing. Beyond the Throttle's mails per
// e-mail address it does nothing, silently: the account's previous token
// (and the password it carries) stays valid, so that a stranger's requests
// cannot void the one its owner received, and the caller's answer stays
// the same.
func (s *Service) issueToken(ctx context.Context, t *session.Tx, acct *account, kind string, pw pendingPassword) error {
	send := s.auth.throttle.TakeMail(ctx, acct.Identifier)
	if !send && !pw.set {
		// Over the address's mail cap: a refresh or a reset request sends
		// nothing and the previous token stays valid.
		return nil
	}
	// A registration over the cap still replaces the pending one (its
	// password and token), unsent: the links already in the mailbox must
	// not verify a password that an earlier registration chose.
	token, err := session.GenerateToken()
	if err != nil {
		return err
	}
	ttl := s.verificationTTL
	if kind == entity.TokenPasswordReset {
		ttl = s.resetTTL
	}
	now := s.now().UTC()
	deliveryID := notify.NewDeliveryID()
	row := &entity.CustomerToken{
		CreatedAt: now, UserID: acct.UserID, Kind: kind, TokenHash: session.HashToken(token), Expires: now.Add(ttl),
		DeliveryID: &deliveryID,
	}
	q := t.NewInsert().Model(row).
		On("CONFLICT (user_id, kind) DO UPDATE").
		Set("created_at = EXCLUDED.created_at").
		Set("token_hash = EXCLUDED.token_hash").
		Set("expires = EXCLUDED.expires").
		Set("delivery_id = EXCLUDED.delivery_id")
	if pw.set {
		row.PasswordHash = pw.hash
		q = q.Set("password_hash = EXCLUDED.password_hash")
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("store %s token: %w", kind, err)
	}
	if !send {
		return nil
	}
	m := newMessage(now, tokenTypes[kind], acct.Identifier, acct.UserID)
	m.Token, m.DeliveryID = token, deliveryID
	if err := s.notifier.Notify(ctx, t, m); err != nil {
		return fmt.Errorf("queue %s message: %w", kind, err)
	}
	return nil
}

// tokenOwner is the account a token belongs to.
type tokenOwner struct {
	TokenID      entity.ID `bun:"token_id"`
	Expires      time.Time `bun:"expires"`
	UserID       entity.ID `bun:"user_id"`
	Identifier   string    `bun:"identifier"`
	Verified     bool      `bun:"verified"`
	PasswordHash *string   `bun:"password_hash"`
	// PendingHash is the password of the registration a verification
	// token was sent for (nil: none).
	PendingHash *string `bun:"pending_hash"`
}

// hasPassword reports whether the account has a native password, or its
// verification token carries the registration's.
func (o *tokenOwner) hasPassword() bool {
	return (o.PasswordHash != nil && *o.PasswordHash != "") || o.pending() != ""
}

// pending returns the registration's password hash a verification token
// carries, or "".
func (o *tokenOwner) pending() string {
	if o.PendingHash == nil {
		return ""
	}
	return *o.PendingHash
}

// tokenErrors are the invalid and expired errors of each kind.
var tokenErrors = map[string]struct{ invalid, expired error }{
	entity.TokenVerification:  {&outcome.VerificationTokenInvalidError{}, &outcome.VerificationTokenExpiredError{}},
	entity.TokenPasswordReset: {&outcome.PasswordResetTokenInvalidError{}, &outcome.PasswordResetTokenExpiredError{}},
}

// lookupToken finds the live customer account that holds a token of a kind,
// or returns the kind's invalid error. It does not check expiry (checkExpiry).
func lookupToken(ctx context.Context, db bun.IDB, kind, token string) (*tokenOwner, error) {
	if token == "" || len(token) > session.MaxTokenLength {
		return nil, tokenErrors[kind].invalid
	}
	var rows []tokenOwner
	err := db.NewRaw(`SELECT ct.id AS token_id, ct.expires, ct.password_hash AS pending_hash,
	u.id AS user_id, u.identifier, u.verified, am.password_hash
FROM customer_token AS ct
JOIN "user" AS u ON u.id = ct.user_id AND u.deleted_at IS NULL
JOIN customer AS c ON c.user_id = u.id AND c.deleted_at IS NULL
JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
WHERE ct.token_hash = ? AND ct.kind = ?
LIMIT 1`, entity.AuthMethodNative, session.HashToken(token), kind).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find %s token: %w", kind, err)
	}
	if len(rows) == 0 {
		return nil, tokenErrors[kind].invalid
	}
	return &rows[0], nil
}

// checkExpiry returns the kind's expired error once the token's lifetime
// has passed.
func (s *Service) checkExpiry(o *tokenOwner, kind string) error {
	if !s.now().Before(o.Expires) {
		return tokenErrors[kind].expired
	}
	return nil
}

// redeemToken finds a token's account in t, checks expiry, and deletes the
// token: of two transactions using one token, the second finds nothing to
// delete (PostgreSQL's row lock makes it wait for the first) and gets the
// invalid error. An error rolls t back, so an expired token stays expired,
// and a token refused for another reason (a missing password) can be used
// again.
func (s *Service) redeemToken(ctx context.Context, t *session.Tx, kind, token string) (*tokenOwner, error) {
	o, err := lookupToken(ctx, t, kind, token)
	if err != nil {
		return nil, err
	}
	if err := s.checkExpiry(o, kind); err != nil {
		return nil, err
	}
	res, err := t.NewDelete().Model((*entity.CustomerToken)(nil)).Where("id = ?", o.TokenID).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("use %s token: %w", kind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, tokenErrors[kind].invalid
	}
	return o, nil
}

// setPassword replaces an account's native password hash and voids every
// one-time token the account still holds (verification, password reset,
// and any other kind): a token sent before the password changed must not
// work after it.
func (s *Service) setPassword(ctx context.Context, t *session.Tx, userID entity.ID, hash string) error {
	if _, err := t.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).
		Set("password_hash = ?", hash).Set("updated_at = ?", s.now().UTC()).
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Exec(ctx); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return voidTokens(ctx, t, userID)
}

// voidTokens deletes every one-time token of a user.
func voidTokens(ctx context.Context, t *session.Tx, userID entity.ID) error {
	if _, err := t.NewDelete().Model((*entity.CustomerToken)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("void tokens: %w", err)
	}
	return nil
}

// markVerified marks a token's account verified and drops its verification
// token, which has nothing left to prove. The account's cached sessions
// (it may have some when verification is not required) are evicted, so
// they carry the new state.
func (s *Service) markVerified(ctx context.Context, t *session.Tx, o *tokenOwner) error {
	if o.Verified {
		return nil
	}
	now := s.now().UTC()
	if _, err := t.NewUpdate().Model((*entity.User)(nil)).Set("verified = ?", true).Set("updated_at = ?", now).
		Where("id = ?", o.UserID).Exec(ctx); err != nil {
		return fmt.Errorf("verify user: %w", err)
	}
	if _, err := t.NewDelete().Model((*entity.CustomerToken)(nil)).
		Where("user_id = ? AND kind = ?", o.UserID, entity.TokenVerification).Exec(ctx); err != nil {
		return fmt.Errorf("drop verification token: %w", err)
	}
	if s.auth.orders != nil {
		// The address is proven now: the placed guest orders with it join
		// the account.
		var c entity.Customer
		err := t.NewSelect().Model(&c).Column("id", "email_address").
			Where("user_id = ? AND deleted_at IS NULL", o.UserID).Scan(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find verified customer: %w", err)
		}
		if err == nil {
			if err := s.auth.orders.LinkPlacedGuestOrders(ctx, t, c.ID, c.EmailAddress); err != nil {
				return err
			}
		}
	}
	return s.auth.sessions.EvictUserOnCommit(ctx, t, o.UserID)
}
