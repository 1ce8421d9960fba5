package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/sessioncache"
)

// NativeStrategyName is the name of the username/password strategy.
const NativeStrategyName = "native"

// AuthConfig configures an AuthService.
type AuthConfig struct {
	DB       *bun.DB
	Sessions *SessionService
	Hasher   password.Hasher
	Logger   *slog.Logger
	NowFunc  func() time.Time
	// RequireVerification refuses login to unverified users. Defaults to
	// false here; the server passes the configured value (true by default).
	RequireVerification bool
	// LogoutCurrentSessionOnly makes logout end only the session whose token
	// was sent, instead of every authenticated session of the user.
	LogoutCurrentSessionOnly bool
}

// AuthService logs users in and out (Vendure's AuthService with the native
// authentication strategy).
type AuthService struct {
	db                  *bun.DB
	sessions            *SessionService
	hasher              password.Hasher
	log                 *slog.Logger
	now                 func() time.Time
	requireVerification bool
	logoutSessionOnly   bool
	dummyHash           string
}

// NewAuthService returns an AuthService. It hashes a dummy password once, so
// that a login for an unknown user costs one hash comparison too.
func NewAuthService(cfg AuthConfig) (*AuthService, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	dummy, err := cfg.Hasher.Hash("dummy-password-for-timing")
	if err != nil {
		return nil, fmt.Errorf("auth service: %w", err)
	}
	return &AuthService{
		db: cfg.DB, sessions: cfg.Sessions, hasher: cfg.Hasher, log: cfg.Logger, now: cfg.NowFunc,
		requireVerification: cfg.RequireVerification, logoutSessionOnly: cfg.LogoutCurrentSessionOnly,
		dummyHash: dummy,
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
}

// Authenticate checks credentials and creates an authenticated session. Expected
// failures are *InvalidCredentialsError, *NotVerifiedError and
// *NativeAuthStrategyError.
func (s *AuthService) Authenticate(ctx context.Context, req LoginRequest) (*sessioncache.CachedSession, error) {
	if req.Method != NativeStrategyName || req.Native == nil {
		return nil, &InvalidCredentialsError{}
	}
	user, err := s.authenticateNative(ctx, req.API, *req.Native)
	if err != nil {
		return nil, err
	}
	return s.createAuthenticatedSessionForUser(ctx, user, req)
}

// nativeUser is a user found by the native strategy.
type nativeUser struct {
	ID           entity.ID `bun:"id"`
	Verified     bool      `bun:"verified"`
	PasswordHash *string   `bun:"password_hash"`
	HasExternal  bool      `bun:"has_external"`
}

// authenticateNative finds a non-deleted administrator (Admin API) or
// customer (Shop API) user by identifier and checks the password.
func (s *AuthService) authenticateNative(ctx context.Context, api auth.APIType, c Credentials) (*nativeUser, error) {
	profile := "customer"
	if api == auth.AdminAPI {
		profile = "administrator"
	}
	identifier := NormalizeIdentifier(c.Username)
	// Both forms go through the index on lower(identifier); identifiers that
	// are not e-mail addresses must also match exactly.
	match, args := "LOWER(u.identifier) = ?", []any{strings.ToLower(identifier)}
	if !strings.Contains(identifier, "@") {
		match, args = match+" AND u.identifier = ?", append(args, identifier)
	}
	var users []nativeUser
	err := s.db.NewRaw(`SELECT u.id, u.verified, am.password_hash,
	EXISTS (SELECT 1 FROM authentication_method AS ext WHERE ext.user_id = u.id AND ext.type = ?) AS has_external
FROM "user" AS u
JOIN `+profile+` AS p ON p.user_id = u.id AND p.deleted_at IS NULL
LEFT JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
WHERE u.deleted_at IS NULL AND `+match+`
ORDER BY u.id DESC LIMIT 1`, append([]any{entity.AuthMethodExternal, entity.AuthMethodNative}, args...)...).Scan(ctx, &users)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find user: %w", err)
	}
	if len(users) == 0 {
		s.hasher.Check(s.dummyHash, c.Password) // same cost as a real check
		return nil, &InvalidCredentialsError{}
	}
	u := &users[0]
	if u.PasswordHash == nil || *u.PasswordHash == "" {
		s.hasher.Check(s.dummyHash, c.Password)
		return nil, &InvalidCredentialsError{}
	}
	if !s.hasher.Check(*u.PasswordHash, c.Password) {
		return nil, &InvalidCredentialsError{}
	}
	return u, nil
}

// createAuthenticatedSessionForUser applies the verification rule, deletes
// the sessions that hold the request's active order, records the login and
// creates the session, all in one transaction.
func (s *AuthService) createAuthenticatedSessionForUser(ctx context.Context, u *nativeUser, req LoginRequest) (*sessioncache.CachedSession, error) {
	if s.requireVerification && !u.Verified && !u.HasExternal {
		return nil, &NotVerifiedError{}
	}
	var cs *sessioncache.CachedSession
	err := runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		var activeOrderID *entity.ID
		if req.Current != nil && req.Current.ActiveOrderID != nil {
			activeOrderID = req.Current.ActiveOrderID
			if err := s.sessions.deleteSessionsWhere(ctx, t, "active_order_id = ?", *activeOrderID); err != nil {
				return err
			}
		}
		now := s.now().UTC()
		if _, err := t.NewUpdate().Model((*entity.User)(nil)).Set("last_login = ?", now).Set("updated_at = ?", now).
			Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		channelID := req.ChannelID
		var err error
		cs, err = s.sessions.createNewAuthenticatedSession(ctx, t, NewAuthenticatedSession{
			UserID:                 u.ID,
			AuthenticationStrategy: NativeStrategyName,
			// Orders are not part of this server yet: the guest's active order
			// passes to the new session unchanged. Merging arrives with orders.
			ActiveOrderID:   activeOrderID,
			ActiveChannelID: &channelID,
		})
		return err
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
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	var row entity.Session
	err := s.db.NewSelect().Model(&row).Column("id", "user_id").
		Where("token_hash = ? AND type = ?", HashToken(token), entity.SessionAuthenticated).Scan(ctx)
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
		return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
			return s.sessions.deleteSessionsWhere(ctx, t, "id = ?", row.ID)
		})
	}
	return s.sessions.DeleteSessionsByUser(ctx, *row.UserID)
}
