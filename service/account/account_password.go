package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// VerifyCustomerAccount verifies the account that holds a verification
// token, sets its password (the one its registration chose, kept with the
// token, or pw when it chose none), voids its other one-time tokens, and logs
// it in as a login would (req: the request's session, whose guest order
// passes to the new one, and channel). Expected failures, in Vendure's
// order: *outcome.VerificationTokenInvalidError, *outcome.VerificationTokenExpiredError,
// *outcome.MissingPasswordError (no password was set and pw is ""),
// *outcome.PasswordAlreadySetError (one was, and pw is not ""),
// *outcome.PasswordValidationError. A refused token stays usable (an expired one
// stays expired); a verification that succeeds uses it up.
//
// The token is checked before the password is hashed, so that an unknown
// token costs no hash. The verification commits before the session is
// created: if that fails, the account is verified and can log in.
func (s *Service) VerifyCustomerAccount(ctx context.Context, token, pw string, req LoginRequest) (*sessioncache.CachedSession, error) {
	if err := s.auth.throttle.CheckToken(ctx); err != nil {
		return nil, err
	}
	const kind = entity.TokenVerification
	o, err := lookupToken(ctx, s.db, kind, token)
	if err != nil {
		s.auth.throttle.TokenDone(ctx, err)
		return nil, err
	}
	if err := s.checkExpiry(o, kind); err != nil {
		return nil, err
	}
	if err := verifyPasswordRule(o.hasPassword(), pw); err != nil {
		return nil, err
	}
	var hash string
	if pw != "" {
		if hash, err = s.hasher.Hash(ctx, pw); err != nil {
			return nil, err
		}
	}
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if o, err = s.redeemToken(ctx, t, kind, token); err != nil {
			return err
		}
		// Checked again in the transaction: the state may have changed
		// since the lookup.
		if err := verifyPasswordRule(o.hasPassword(), pw); err != nil {
			return err
		}
		// The registration's password, kept with the token, becomes the
		// account's; otherwise the one given here (the rule above allows
		// one of them at most).
		if pending := o.pending(); pending != "" {
			hash = pending
		}
		if hash != "" {
			if err := s.setPassword(ctx, t, o.UserID, hash); err != nil {
				return err
			}
		}
		if err := s.markVerified(ctx, t, o); err != nil {
			return err
		}
		// Vendure assigns the customer to the channel it verifies on.
		return access.AddUserToChannel(ctx, t, o.UserID, req.ChannelID)
	})
	if err != nil {
		return nil, err
	}
	return s.auth.LoginVerifiedUser(ctx, o.UserID, req)
}

// verifyPasswordRule is Vendure's rule for verifyCustomerAccount's
// password: required when registration set none, refused when it set one,
// and then subject to the password rules.
func verifyPasswordRule(hasPassword bool, pw string) error {
	switch {
	case pw == "" && !hasPassword:
		return &outcome.MissingPasswordError{}
	case pw != "" && hasPassword:
		return &outcome.PasswordAlreadySetError{}
	case pw != "":
		return validatePassword(pw)
	}
	return nil
}

// ResetPassword sets a new password for the account that holds a reset
// token, marks it verified (the token proves the address, as a
// verification does: Vendure #1659), and logs it in as a login would.
// Expected failures, in Vendure's order: *outcome.PasswordResetTokenInvalidError,
// *outcome.PasswordValidationError, *outcome.PasswordResetTokenExpiredError. The token
// works once. Unlike Vendure, it ends every other session of the account
// (revoked as a logout is): a reset is what a customer does when someone
// else may know the old password, and that someone must not stay logged in.
// The address gets the password-changed notice (Notifier).
func (s *Service) ResetPassword(ctx context.Context, token, pw string, req LoginRequest) (*sessioncache.CachedSession, error) {
	if err := s.auth.throttle.CheckToken(ctx); err != nil {
		return nil, err
	}
	const kind = entity.TokenPasswordReset
	o, err := lookupToken(ctx, s.db, kind, token)
	if err != nil {
		s.auth.throttle.TokenDone(ctx, err)
		return nil, err
	}
	if err := validatePassword(pw); err != nil {
		return nil, err
	}
	if err := s.checkExpiry(o, kind); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if o, err = s.redeemToken(ctx, t, kind, token); err != nil {
			return err
		}
		if err := s.setPassword(ctx, t, o.UserID, hash); err != nil {
			return err
		}
		if err := s.auth.sessions.DeleteByUser(ctx, t, o.UserID, session.RevokePasswordReset); err != nil {
			return err
		}
		if err := s.markVerified(ctx, t, o); err != nil {
			return err
		}
		return s.notifyPasswordChanged(ctx, t, o.UserID, o.Identifier)
	})
	if err != nil {
		return nil, err
	}
	return s.auth.LoginVerifiedUser(ctx, o.UserID, req)
}

// UpdateCustomerPassword changes the password of a customer user (0:
// nobody is logged in) after checking the current one. Expected failures
// are *outcome.PasswordValidationError (checked first, as Vendure) and
// *outcome.InvalidCredentialsError; a user without a live customer profile gets
// outcome.ErrForbidden. The user's outstanding one-time tokens (a password reset
// requested before) are voided, and every session of the user but keep (the
// session that changed it; 0 keeps none) ends: someone who knew the old
// password is signed out everywhere else. Vendure leaves them all. The
// address gets the password-changed notice (Notifier).
func (s *Service) UpdateCustomerPassword(ctx context.Context, userID, keep entity.ID, current, newPassword string) error {
	if err := validatePassword(newPassword); err != nil {
		return err
	}
	if len(current) > password.MaxLength {
		// No stored password is longer: refused without a hash or a read.
		return &outcome.InvalidCredentialsError{}
	}
	var rows []struct {
		Identifier   string  `bun:"identifier"`
		PasswordHash *string `bun:"password_hash"`
	}
	err := s.db.NewRaw(`SELECT u.identifier, am.password_hash
FROM "user" AS u
JOIN customer AS c ON c.user_id = u.id AND c.deleted_at IS NULL
LEFT JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
WHERE u.id = ? AND u.deleted_at IS NULL
LIMIT 1`, entity.AuthMethodNative, userID).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find password: %w", err)
	}
	if len(rows) == 0 {
		return outcome.ErrForbidden
	}
	old := rows[0].PasswordHash
	if old == nil || *old == "" {
		// No password: a check against the login's dummy hash, so that
		// this costs what a wrong password does.
		if _, err := s.hasher.Check(ctx, s.auth.dummyHash, current); err != nil {
			return fmt.Errorf("check password: %w", err)
		}
		return &outcome.InvalidCredentialsError{}
	}
	ok, err := s.hasher.Check(ctx, *old, current)
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	if !ok {
		return &outcome.InvalidCredentialsError{}
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	// Only while the hash is still the one checked: of two changes at once
	// with the same current password, one wins and the other is refused.
	// Tokens sent before the change stop working with it.
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		res, err := t.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).
			Set("password_hash = ?", hash).Set("updated_at = ?", s.now().UTC()).
			Where("user_id = ? AND type = ? AND password_hash = ?", userID, entity.AuthMethodNative, *old).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &outcome.InvalidCredentialsError{}
		}
		if err := voidTokens(ctx, t, userID); err != nil {
			return err
		}
		if err := s.auth.sessions.DeleteByUserExcept(ctx, t, userID, keep); err != nil {
			return err
		}
		return s.notifyPasswordChanged(ctx, t, userID, rows[0].Identifier)
	})
}

// notifyPasswordChanged queues the notice that a customer's password was
// changed, to its address, in t: whoever did not change it learns of it
// from a message the change itself cannot suppress.
func (s *Service) notifyPasswordChanged(ctx context.Context, t *session.Tx, userID entity.ID, email string) error {
	if err := s.notifier.Notify(ctx, t, newMessage(s.now(), notify.PasswordChanged, email, userID)); err != nil {
		return fmt.Errorf("queue password-changed message: %w", err)
	}
	return nil
}
