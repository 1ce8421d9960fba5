package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// NativeStrategyName is the name of the username/password strategy
// (Vendure's NATIVE_AUTH_STRATEGY_NAME), which is also the type of the
// authentication method row it checks.
const NativeStrategyName = entity.AuthMethodNative

// AuthConfig configures an AuthService.
type AuthConfig struct {
	// DB is the database. Required.
	DB *bun.DB
	// Sessions creates and deletes the sessions of logins and logouts.
	// Required.
	Sessions *session.Service
	// Hasher checks (and, when their cost is outdated, renews) password
	// hashes. Required.
	Hasher password.Hasher
	// Logger logs failed logins and skipped rehashes. Defaults to
	// discarding them.
	Logger *slog.Logger
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
	// RequireVerification refuses login to unverified users. Defaults to
	// false here; the server passes the configured value (true by default).
	RequireVerification bool
	// LogoutCurrentSessionOnly makes logout end only the session whose token
	// was sent, instead of every authenticated session of the user. Defaults
	// to false (Vendure's behaviour).
	LogoutCurrentSessionOnly bool
	// Orders merges a guest cart into the customer's at login, in the
	// login's transaction (order.Service). Defaults to none: the guest's
	// active order then passes to the new session unchanged.
	Orders Carts
	// Throttle limits failed logins, and the account flows' tokens and
	// mails (Service uses this one). Defaults to none: no limits.
	Throttle *ratelimit.Throttle
	// Metrics receives the result of each login attempt. Defaults to
	// none.
	Metrics LoginRecorder
	// Notifier queues the new-sign-in notice (NotifyNewSignIn). Defaults
	// to none: no notice.
	Notifier Notifier
	// NotifyNewSignIn sends a customer the new-sign-in notice after each
	// login with its password on the Shop API (not the logins that a
	// verification or a password reset makes), queued in the login's
	// transaction. Defaults to false (NOTIFY_NEW_SIGN_IN).
	NotifyNewSignIn bool
}

// AuthService logs users in and out (Vendure's AuthService with the native
// authentication strategy).
type AuthService struct {
	db                  *bun.DB
	sessions            *session.Service
	hasher              password.Hasher
	log                 *slog.Logger
	now                 func() time.Time
	requireVerification bool
	logoutSessionOnly   bool
	orders              Carts
	dummyHash           string
	throttle            *ratelimit.Throttle
	metrics             LoginRecorder // nil: none
	notifier            Notifier
	newSignIn           bool
}

// NewAuthService returns an AuthService. It hashes a dummy password once, so
// that a login for an unknown user costs one hash comparison at the
// configured cost too. A missing required field is an error.
func NewAuthService(cfg AuthConfig) (*AuthService, error) {
	if err := setup.Required("auth service",
		setup.Field{Name: "DB", Unset: cfg.DB == nil},
		setup.Field{Name: "Sessions", Unset: cfg.Sessions == nil},
		setup.Field{Name: "Hasher", Unset: cfg.Hasher == nil},
	); err != nil {
		return nil, err
	}
	cfg.Logger = setup.Logger(cfg.Logger)
	cfg.NowFunc = setup.Now(cfg.NowFunc)
	dummy, err := cfg.Hasher.Hash(context.Background(), "dummy-password-for-timing")
	if err != nil {
		return nil, fmt.Errorf("auth service: %w", err)
	}
	return &AuthService{
		db: cfg.DB, sessions: cfg.Sessions, hasher: cfg.Hasher, log: cfg.Logger, now: cfg.NowFunc,
		requireVerification: cfg.RequireVerification, logoutSessionOnly: cfg.LogoutCurrentSessionOnly,
		orders: cfg.Orders, dummyHash: dummy, throttle: cfg.Throttle, metrics: cfg.Metrics,
		notifier: cfg.Notifier, newSignIn: cfg.NotifyNewSignIn && cfg.Notifier != nil,
	}, nil
}

// Credentials is a login attempt with the native strategy.
type Credentials struct {
	Username string
	Password string
}

// LoginRequest is everything Authenticate needs from the request.
type LoginRequest struct {
	API auth.APIType
	// Method is the strategy name: the first key of AuthenticationInput.
	Method string
	Native *Credentials
	// Current is the session the request carried, if any. Its active order
	// passes to the new session, and sessions sharing that order are deleted.
	Current *sessioncache.CachedSession
	// ChannelID is the request's channel; it becomes the session's active channel.
	ChannelID entity.ID
	// ClientAddress is the client's IP address as the connection shows it
	// (no proxy header is trusted). It is only logged, with failed logins.
	ClientAddress string
}

// Authenticate checks credentials and creates an authenticated session. Expected
// failures are *outcome.InvalidCredentialsError and *outcome.NotVerifiedError, and
// *outcome.TooManyRequestsError when the Throttle refuses the attempt: then before
// the user's lookup and any hash. Each attempt's LoginResult goes to
// AuthConfig.Metrics, if any.
func (s *AuthService) Authenticate(ctx context.Context, req LoginRequest) (*sessioncache.CachedSession, error) {
	cs, err := s.authenticate(ctx, req)
	if s.metrics != nil {
		s.metrics.LoginAttempt(req.API, loginResultOf(err))
	}
	return cs, err
}

func (s *AuthService) authenticate(ctx context.Context, req LoginRequest) (*sessioncache.CachedSession, error) {
	if req.Method != NativeStrategyName || req.Native == nil {
		return nil, &outcome.InvalidCredentialsError{}
	}
	if err := s.throttle.CheckLogin(ctx, req.API, req.Native.Username); err != nil {
		return nil, err
	}
	if tooLong(*req.Native) {
		// No account has such an identifier or password (registration
		// refuses them): refused before any read or hash, so a megabyte of
		// password costs nothing. The answer does not depend on the
		// account, so it tells nothing about it.
		s.logLoginFailure(ctx, req, reasonTooLong)
		return nil, &outcome.InvalidCredentialsError{}
	}
	user, err := s.authenticateNative(ctx, req)
	s.throttle.LoginDone(ctx, req.API, req.Native.Username, err)
	if err != nil {
		return nil, err
	}
	var notice *notify.Message
	if s.newSignIn && req.API == auth.ShopAPI {
		m := newMessage(s.now(), notify.NewSignIn, user.Identifier, user.ID)
		client := clientinfo.From(ctx)
		m.ClientAddress, m.UserAgent = client.Address, client.UserAgent
		notice = &m
	}
	return s.createAuthenticatedSessionForUser(ctx, user, req, notice)
}

// nativeUser is a user found by the native strategy.
type nativeUser struct {
	ID           entity.ID `bun:"id"`
	Identifier   string    `bun:"identifier"`
	Verified     bool      `bun:"verified"`
	PasswordHash *string   `bun:"password_hash"`
	// PendingHash is the password of an unverified registration, kept
	// with its unexpired verification token: it never logs in, it only
	// tells its owner that the address waits for verification.
	PendingHash *string `bun:"pending_hash"`
	HasExternal bool    `bun:"has_external"`
}

// authenticateNative finds a non-deleted administrator (Admin API) or
// customer (Shop API) user by identifier and checks the password
// (req.Native). Each failure is logged at WARN (logLoginFailure).
//
// Timing: every failure costs at least one comparison at the configured
// cost, whether the user exists or not: an unknown user or one without a
// password is compared with a dummy hash, and a wrong password against a
// weaker stored hash (a lower bcrypt cost) is followed by the dummy
// comparison too. Otherwise the time of a cheap hash (cost 4 is 256 times
// cheaper than cost 12) would tell a known user from an unknown one.
//
// A correct password whose stored hash is not at the current cost is
// rehashed (rehash) before the login goes on.
func (s *AuthService) authenticateNative(ctx context.Context, req LoginRequest) (*nativeUser, error) {
	c := *req.Native
	profile := "customer"
	if req.API == auth.AdminAPI {
		profile = "administrator"
	}
	identifier := auth.NormalizeIdentifier(c.Username)
	// Both forms go through the index on lower(identifier); identifiers that
	// are not e-mail addresses must also match exactly.
	match, args := "LOWER(u.identifier) = ?", []any{strings.ToLower(identifier)}
	if !strings.Contains(identifier, "@") {
		match, args = match+" AND u.identifier = ?", append(args, identifier)
	}
	var users []nativeUser
	err := s.db.NewRaw(`SELECT u.id, u.identifier, u.verified, am.password_hash, pt.password_hash AS pending_hash,
	EXISTS (SELECT 1 FROM authentication_method AS ext WHERE ext.user_id = u.id AND ext.type = ?) AS has_external
FROM "user" AS u
JOIN `+profile+` AS p ON p.user_id = u.id AND p.deleted_at IS NULL
LEFT JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
LEFT JOIN customer_token AS pt ON pt.user_id = u.id AND pt.kind = ? AND NOT u.verified AND pt.expires > ?
WHERE u.deleted_at IS NULL AND `+match+`
ORDER BY u.id DESC LIMIT 1`, append([]any{entity.AuthMethodExternal, entity.AuthMethodNative, entity.TokenVerification, s.now().UTC()}, args...)...).Scan(ctx, &users)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find user: %w", err)
	}
	if len(users) == 0 {
		return nil, s.failNative(ctx, req, reasonUnknownUser, s.dummyCheck(ctx, c.Password))
	}
	u := &users[0]
	if (u.PasswordHash == nil || *u.PasswordHash == "") && u.PendingHash != nil && *u.PendingHash != "" {
		// Registered, not verified: the right password is told so, as
		// Vendure does, and logs in nobody.
		ok, err := s.hasher.Check(ctx, *u.PendingHash, c.Password)
		if err != nil {
			return nil, fmt.Errorf("check password: %w", err)
		}
		if !ok {
			return nil, s.failNative(ctx, req, reasonWrongPassword, nil)
		}
		s.logLoginFailure(ctx, req, reasonNotVerified)
		return nil, &outcome.NotVerifiedError{}
	}
	if u.PasswordHash == nil || *u.PasswordHash == "" {
		return nil, s.failNative(ctx, req, reasonNoPassword, s.dummyCheck(ctx, c.Password))
	}
	ok, err := s.hasher.Check(ctx, *u.PasswordHash, c.Password)
	if err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	strength := s.hasher.Strength(*u.PasswordHash)
	if !ok {
		if strength == password.Weaker {
			return nil, s.failNative(ctx, req, reasonWrongPassword, s.dummyCheck(ctx, c.Password))
		}
		return nil, s.failNative(ctx, req, reasonWrongPassword, nil)
	}
	if s.requireVerification && !u.Verified && !u.HasExternal {
		s.logLoginFailure(ctx, req, reasonNotVerified)
		return nil, &outcome.NotVerifiedError{}
	}
	if strength != password.Current {
		s.rehash(ctx, u.ID, *u.PasswordHash, c.Password)
	}
	return u, nil
}

// Reasons of a failed login, as logged.
const (
	reasonUnknownUser   = "unknown user"
	reasonNoPassword    = "no password"
	reasonWrongPassword = "wrong password"
	reasonNotVerified   = "not verified"
	reasonTooLong       = "identifier or password too long"
)

// tooLong reports credentials longer than any account's: an identifier of
// more than MaxFieldLength characters or a password of more than
// password.MaxLength bytes (bcrypt's limit).
func tooLong(c Credentials) bool {
	return len(c.Password) > password.MaxLength || utf8.RuneCountInString(c.Username) > MaxFieldLength
}

// dummyCheck compares password with the dummy hash: the cost of a check at
// the configured cost, for a failure that would otherwise be cheaper. Its
// error is the hasher's (the pool's wait ended).
func (s *AuthService) dummyCheck(ctx context.Context, pw string) error {
	if _, err := s.hasher.Check(ctx, s.dummyHash, pw); err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	return nil
}

// failNative ends a failed native login: a check that could not run (err,
// e.g. the hashing pool's wait ran out) is a fault, returned as is;
// otherwise the failure is logged and the client gets
// outcome.InvalidCredentialsError.
func (s *AuthService) failNative(ctx context.Context, req LoginRequest, reason string, err error) error {
	if err != nil {
		return err
	}
	s.logLoginFailure(ctx, req, reason)
	return &outcome.InvalidCredentialsError{}
}

// logLoginFailure logs a failed login at WARN, with the identifier masked:
// enough to correlate attempts, not enough to harvest identifiers from the
// log. The password is never logged.
func (s *AuthService) logLoginFailure(ctx context.Context, req LoginRequest, reason string) {
	identifier := ""
	if req.Native != nil {
		identifier = auth.MaskIdentifier(auth.NormalizeIdentifier(req.Native.Username))
	}
	s.log.WarnContext(ctx, "login failed",
		"api", string(req.API),
		"identifier", identifier,
		"client", req.ClientAddress,
		"reason", reason)
}

// rehash replaces a stored hash that is not at the current cost with a new
// hash of the password that just matched it. It is best effort: the login
// goes on when it fails, and the next login tries again. The update only
// applies while the stored hash is still the one checked, so a password
// changed meanwhile is never overwritten.
func (s *AuthService) rehash(ctx context.Context, userID entity.ID, old, pw string) {
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		// ErrInvalid: a password Vendure accepted that we would not (its
		// error names no password); or the pool's wait ended.
		s.log.WarnContext(ctx, "password rehash skipped", "user", userID, "err", err)
		return
	}
	if _, err := s.db.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).
		Set("password_hash = ?", h).Set("updated_at = ?", s.now().UTC()).
		Where("user_id = ? AND type = ? AND password_hash = ?", userID, entity.AuthMethodNative, old).
		Exec(ctx); err != nil {
		s.log.WarnContext(ctx, "password rehash failed", "user", userID, "err", err)
	}
}

// createAuthenticatedSessionForUser deletes the guest sessions (and the
// user's own) that hold the request's active order, records the login, merges that order with the
// customer's active order (order.Service, Vendure's mergeOrders) and creates
// the session holding the result, all in one transaction: concurrent logins
// with one guest cart cannot lose or duplicate its lines (vendure#4481).
// The verification rule was applied (and a refusal logged) by
// authenticateNative. A notice, when not nil, is queued in the same
// transaction.
func (s *AuthService) createAuthenticatedSessionForUser(ctx context.Context, u *nativeUser, req LoginRequest, notice *notify.Message) (*sessioncache.CachedSession, error) {
	var cs *sessioncache.CachedSession
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		var activeOrderID *entity.ID
		if req.Current != nil && req.Current.ActiveOrderID != nil {
			activeOrderID = req.Current.ActiveOrderID
			if err := s.sessions.DeleteOrderHolders(ctx, t, *activeOrderID, u.ID); err != nil {
				return err
			}
		}
		now := s.now().UTC()
		if _, err := t.NewUpdate().Model((*entity.User)(nil)).Set("last_login = ?", now).Set("updated_at = ?", now).
			Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		if s.orders != nil {
			var err error
			if activeOrderID, err = s.orders.MergeOnLogin(ctx, t, u.ID, req.ChannelID, activeOrderID); err != nil {
				return err
			}
		}
		channelID := req.ChannelID
		var err error
		cs, err = s.sessions.CreateAuthenticatedInTx(ctx, t, session.NewAuthenticatedSession{
			UserID:                 u.ID,
			AuthenticationStrategy: NativeStrategyName,
			ActiveOrderID:          activeOrderID,
			ActiveChannelID:        &channelID,
		})
		if err != nil || notice == nil {
			return err
		}
		if err := s.notifier.Notify(ctx, t, *notice); err != nil {
			return fmt.Errorf("queue %s message: %w", notice.Type, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// DestroyAuthenticatedSession logs out: when token belongs to an
// authenticated session, every authenticated session of its user is deleted
// (Vendure's behaviour: logout ends the user's sessions on all devices), or
// with LogoutCurrentSessionOnly just that session. An anonymous or unknown
// token deletes nothing.
func (s *AuthService) DestroyAuthenticatedSession(ctx context.Context, token string) error {
	if token == "" || len(token) > session.MaxTokenLength {
		return nil
	}
	var row entity.Session
	err := s.db.NewSelect().Model(&row).Column("id", "user_id").
		Where("token_hash = ? AND type = ?", session.HashToken(token), entity.SessionAuthenticated).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find session: %w", err)
	}
	if row.UserID == nil {
		return nil
	}
	if s.logoutSessionOnly {
		return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
			return s.sessions.DeleteByIDs(ctx, t, session.RevokeLogout, row.ID)
		})
	}
	return s.sessions.DeleteSessionsByUser(ctx, *row.UserID)
}

// LoginVerifiedUser logs in a customer whose identity a one-time token
// proved (verifyCustomerAccount, resetPassword; Service), exactly as
// a successful login does from there on (createAuthenticatedSessionForUser):
// the request's guest order passes to the new session.
func (s *AuthService) LoginVerifiedUser(ctx context.Context, userID entity.ID, req LoginRequest) (*sessioncache.CachedSession, error) {
	return s.createAuthenticatedSessionForUser(ctx, &nativeUser{ID: userID, Verified: true}, req, nil)
}
