package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// requireInvalidCredentials checks a failed native login.
func requireInvalidCredentials(t *testing.T, cs *sessioncache.CachedSession, err error, msgAndArgs ...any) {
	t.Helper()
	require.Nil(t, cs, msgAndArgs...)
	var invalid *outcome.InvalidCredentialsError
	require.ErrorAs(t, err, &invalid, msgAndArgs...)
	require.Empty(t, invalid.AuthenticationError, msgAndArgs...)
	require.Equal(t, "The provided credentials are invalid", err.Error())
}

func TestAuthService_Authenticate(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	t.Run("SuperadminOnAdminAPI", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()
			cs, err := b.authenticate(auth.AdminAPI, superadminLogin, superadminPassword, nil)
			require.NoError(t, err)
			require.Regexp(t, `^[0-9a-f]{64}$`, cs.Token)
			require.Equal(t, account.NativeStrategyName, cs.AuthenticationStrategy)
			require.Equal(t, superadminLogin, cs.User.Identifier)
			require.Equal(t, b.superadminUserID, cs.User.ID)
			require.True(t, cs.User.IsAdministrator)
			require.Equal(t, idPtr(b.defaultChannel.ID), cs.ActiveChannelID)
			require.Nil(t, cs.ActiveOrderID)
			requireTimeEqual(t, now.Add(time.Hour), cs.Expires)

			// One cache entry, written once (Vendure e2e session-management 1).
			require.Equal(t, sessioncachetest.Calls{Sets: 1}, b.cache.Calls())
			require.Equal(t, 1, b.mem.Len())
			row := b.sessionRow(t, cs.Token)
			require.Equal(t, entity.SessionAuthenticated, row.Type)
			require.Equal(t, "native", *row.AuthenticationStrategy)

			// The lookup that follows is served by the cache (e2e 2).
			b.cache.Reset()
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, sessioncachetest.Calls{Gets: 1}, b.cache.Calls())
		})
	})

	t.Run("NonEmailIdentifierIsExact", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			for _, name := range []string{"SuperAdmin", "SUPERADMIN", "superadmi", "superadmin2"} {
				cs, err := b.authenticate(auth.AdminAPI, name, superadminPassword, nil)
				requireInvalidCredentials(t, cs, err, name)
			}
			require.Zero(t, b.countSessions(t))
			require.Zero(t, b.cache.Calls().Sets)
		})
	})

	t.Run("WrongAPI", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createCustomer(t, "customer@example.com", "secret", true)

			cs, err := b.authenticate(auth.AdminAPI, "customer@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err, "customer on the Admin API")
			cs, err = b.authenticate(auth.ShopAPI, superadminLogin, superadminPassword, nil)
			requireInvalidCredentials(t, cs, err, "superadmin on the Shop API")
			require.Zero(t, b.countSessions(t))
			require.Zero(t, b.cache.Calls().Sets)
		})
	})

	t.Run("SameEmailAdministratorAndCustomer", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			const email = "shared@example.com"
			role := b.createRole(t, "reader", []auth.Permission{"ReadCatalog"})
			adminID := b.createAdmin(t, email, "password-A", role)
			customerID := b.createCustomer(t, email, "password-C", true)
			require.NotEqual(t, adminID, customerID)

			admin, err := b.authenticate(auth.AdminAPI, email, "password-A", nil)
			require.NoError(t, err)
			require.Equal(t, adminID, admin.User.ID)
			require.Equal(t, email, admin.User.Identifier)
			require.True(t, admin.User.IsAdministrator)

			shop, err := b.authenticate(auth.ShopAPI, email, "password-C", nil)
			require.NoError(t, err)
			require.Equal(t, customerID, shop.User.ID)
			require.False(t, shop.User.IsAdministrator)

			cs, err := b.authenticate(auth.AdminAPI, email, "password-C", nil)
			requireInvalidCredentials(t, cs, err, "admin with the customer's password")
			cs, err = b.authenticate(auth.ShopAPI, email, "password-A", nil)
			requireInvalidCredentials(t, cs, err, "shop with the admin's password")
		})
	})

	t.Run("EmailComparedLowerCased", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "Mixed.Case@Example.COM", "secret", true)
			require.Equal(t, "mixed.case@example.com", b.userRow(t, uid).Identifier)

			for _, name := range []string{"MIXED.CASE@EXAMPLE.COM", "mixed.case@example.com", "Mixed.Case@Example.COM", "  Mixed.Case@example.com "} {
				cs, err := b.authenticate(auth.ShopAPI, name, "secret", nil)
				require.NoError(t, err, name)
				require.Equal(t, uid, cs.User.ID)
				require.Equal(t, "mixed.case@example.com", cs.User.Identifier)
			}

			// A legacy row stored with capitals still matches.
			_, err := b.db.NewUpdate().Model((*entity.User)(nil)).Set("identifier = ?", "Legacy.User@Example.com").
				Where("id = ?", uid).Exec(b.ctx)
			require.NoError(t, err)
			cs, err := b.authenticate(auth.ShopAPI, "legacy.user@EXAMPLE.com", "secret", nil)
			require.NoError(t, err)
			require.Equal(t, uid, cs.User.ID)
		})
	})

	t.Run("Verification", func(t *testing.T) {
		eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
			b.createCustomer(t, "new@example.com", "secret", false)
			b.createCustomer(t, "verified@example.com", "secret", true)
			externalID := b.createCustomer(t, "sso@example.com", "secret", false)
			strategy := "test_sso"
			_, err := b.db.NewInsert().Model(&entity.AuthenticationMethod{
				CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now(), UserID: externalID,
				Type: entity.AuthMethodExternal, Strategy: &strategy,
			}).Exec(b.ctx)
			require.NoError(t, err)

			cs, err := b.authenticate(auth.ShopAPI, "new@example.com", "secret", nil)
			require.Nil(t, cs)
			var notVerified *outcome.NotVerifiedError
			require.ErrorAs(t, err, &notVerified)
			require.Equal(t, "Please verify this email address before logging in", err.Error())
			require.Zero(t, b.countSessions(t))

			// A wrong password is still InvalidCredentials, not NotVerified.
			cs, err = b.authenticate(auth.ShopAPI, "new@example.com", "wrong", nil)
			requireInvalidCredentials(t, cs, err)

			_, err = b.authenticate(auth.ShopAPI, "verified@example.com", "secret", nil)
			require.NoError(t, err)
			// A user with an external authentication method is exempt.
			_, err = b.authenticate(auth.ShopAPI, "sso@example.com", "secret", nil)
			require.NoError(t, err)
		})
	})

	t.Run("UnverifiedAllowedWithoutRequireVerification", func(t *testing.T) {
		eachDB(t, bundleOpts{RequireVerification: false}, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "new@example.com", "secret", false)
			cs, err := b.authenticate(auth.ShopAPI, "new@example.com", "secret", nil)
			require.NoError(t, err)
			require.Equal(t, uid, cs.User.ID)
			require.False(t, cs.User.Verified)
		})
	})

	t.Run("CustomerWithoutPassword", func(t *testing.T) {
		// Deferred-password registration: INVALID_CREDENTIALS, even when
		// verification is required and the user is unverified.
		eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
			b.createCustomer(t, "nopass@example.com", "", false)
			b.createCustomer(t, "nopass.verified@example.com", "", true)
			for _, name := range []string{"nopass@example.com", "nopass.verified@example.com"} {
				for _, pw := range []string{"", "secret"} {
					cs, err := b.authenticate(auth.ShopAPI, name, pw, nil)
					requireInvalidCredentials(t, cs, err, name, pw)
				}
			}
		})
	})

	t.Run("WrongPasswordUnknownUserOrMethod", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createCustomer(t, "c@example.com", "secret", true)

			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "Secret", nil)
			requireInvalidCredentials(t, cs, err, "wrong password")
			cs, err = b.authenticate(auth.AdminAPI, superadminLogin, "wrong", nil)
			requireInvalidCredentials(t, cs, err, "wrong superadmin password")
			cs, err = b.authenticate(auth.ShopAPI, "nobody@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err, "unknown user")

			cs, err = b.auth.Authenticate(b.ctx, account.LoginRequest{
				API: auth.ShopAPI, Method: "other", ChannelID: b.defaultChannel.ID,
				Native: &account.Credentials{Username: "c@example.com", Password: "secret"},
			})
			requireInvalidCredentials(t, cs, err, "unknown method")
			cs, err = b.auth.Authenticate(b.ctx, account.LoginRequest{
				API: auth.ShopAPI, Method: account.NativeStrategyName, ChannelID: b.defaultChannel.ID,
			})
			requireInvalidCredentials(t, cs, err, "no native input")

			require.Zero(t, b.countSessions(t))
			require.Zero(t, b.cache.Calls().Sets)
		})
	})

	t.Run("SoftDeletedProfileCannotLogIn", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			_, err := b.db.NewUpdate().Model((*entity.Customer)(nil)).Set("deleted_at = ?", b.clock.Now()).
				Where("user_id = ?", uid).Exec(b.ctx)
			require.NoError(t, err)
			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err)
		})
	})

	t.Run("RecordsLastLogin", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			require.Nil(t, b.userRow(t, uid).LastLogin)

			// A failed login records nothing.
			b.clock.Advance(time.Minute)
			_, err := b.authenticate(auth.ShopAPI, "c@example.com", "wrong", nil)
			require.Error(t, err)
			require.Nil(t, b.userRow(t, uid).LastLogin)

			b.clock.Advance(time.Minute)
			b.login(t, auth.ShopAPI, "c@example.com", "secret")
			u := b.userRow(t, uid)
			require.NotNil(t, u.LastLogin)
			requireTimeEqual(t, b.clock.Now(), *u.LastLogin)

			b.clock.Advance(time.Hour)
			b.login(t, auth.ShopAPI, "c@example.com", "secret")
			requireTimeEqual(t, b.clock.Now(), *b.userRow(t, uid).LastLogin)
		})
	})

	t.Run("ActiveOrderPassesToNewSession", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			guest, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 55)
			require.NoError(t, err)
			// Another session of the user that holds the same order (a
			// previous login).
			sameOrder, err := b.sessions.SetActiveOrder(b.ctx, b.newSession(t, uid), 55)
			require.NoError(t, err)
			// Another account's session pointing at it is not the login's
			// to end (Vendure ends it too).
			foreign, err := b.sessions.SetActiveOrder(b.ctx, b.newSession(t, b.superadminUserID), 55)
			require.NoError(t, err)
			otherOrder, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 56)
			require.NoError(t, err)
			b.cache.Reset()

			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "secret", guest)
			require.NoError(t, err)
			require.Equal(t, idPtr(55), cs.ActiveOrderID)
			row := b.sessionRow(t, cs.Token)
			require.Equal(t, idPtr(55), row.ActiveOrderID)

			require.Nil(t, b.sessionRow(t, guest.Token))
			require.Nil(t, b.sessionRow(t, sameOrder.Token))
			require.NotNil(t, b.sessionRow(t, otherOrder.Token))
			require.NotNil(t, b.sessionRow(t, foreign.Token))
			require.ElementsMatch(t, []string{session.HashToken(guest.Token), session.HashToken(sameOrder.Token)},
				b.cache.DeleteKeys())
			require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(guest.Token)))
			require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(otherOrder.Token)))
			require.Equal(t, []string{session.HashToken(cs.Token)}, b.cache.SetKeys())

			// The old guest token is dead.
			_, err = b.sessions.GetSessionFromToken(b.ctx, guest.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("CurrentSessionWithoutOrderIsKept", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			guest := b.anonymous(t)
			b.cache.Reset()
			cs, err := b.authenticate(auth.AdminAPI, superadminLogin, superadminPassword, guest)
			require.NoError(t, err)
			require.Nil(t, cs.ActiveOrderID)
			require.NotNil(t, b.sessionRow(t, guest.Token))
			require.Zero(t, b.cache.Calls().Deletes)
		})
	})

	t.Run("FailedLoginKeepsGuestSession", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			guest, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 55)
			require.NoError(t, err)
			_, err = b.authenticate(auth.AdminAPI, superadminLogin, "wrong", guest)
			require.Error(t, err)
			require.NotNil(t, b.sessionRow(t, guest.Token))
		})
	})
}

func TestAuthService_DestroyAuthenticatedSession(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	t.Run("DeletesEverySessionOfTheUser", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createCustomer(t, "c@example.com", "secret", true)
			laptop := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			phone := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			other := b.login(t, auth.ShopAPI, "c@example.com", "secret")
			anon := b.anonymous(t)
			b.cache.Reset()

			require.NoError(t, b.auth.DestroyAuthenticatedSession(b.ctx, laptop.Token))

			for _, cs := range []*sessioncache.CachedSession{laptop, phone} {
				require.Nil(t, b.sessionRow(t, cs.Token))
				require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.ErrorIs(t, err, outcome.ErrNotFound)
			}
			require.ElementsMatch(t, []string{session.HashToken(laptop.Token), session.HashToken(phone.Token)},
				b.cache.DeleteKeys())
			for _, cs := range []*sessioncache.CachedSession{other, anon} {
				require.NotNil(t, b.sessionRow(t, cs.Token))
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.NoError(t, err)
			}
		})
	})

	t.Run("AnonymousUnknownOrEmptyTokenDeletesNothing", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			anon := b.anonymous(t)
			admin := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			b.cache.Reset()

			for _, tok := range []string{anon.Token, randomToken(t), "", "short", string(make([]byte, 4096))} {
				require.NoError(t, b.auth.DestroyAuthenticatedSession(b.ctx, tok))
			}
			require.NotNil(t, b.sessionRow(t, anon.Token))
			require.NotNil(t, b.sessionRow(t, admin.Token))
			require.Equal(t, 2, b.countSessions(t))
			require.Zero(t, b.cache.Calls().Deletes)
		})
	})
}

func TestNewAuthService(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		// Defaults for Logger and NowFunc.
		a, err := account.NewAuthService(account.AuthConfig{DB: b.db, Sessions: b.sessions, Hasher: b.hasher})
		require.NoError(t, err)
		cs, err := a.Authenticate(b.ctx, account.LoginRequest{
			API: auth.AdminAPI, Method: account.NativeStrategyName, ChannelID: b.defaultChannel.ID,
			Native: &account.Credentials{Username: superadminLogin, Password: superadminPassword},
		})
		require.NoError(t, err)
		require.NotNil(t, b.userRow(t, cs.User.ID).LastLogin)
	})
}

// ---- login hardening: failure log, timing, rehash, hashing pool ---------------

// costHasher is an instrumented password.Hasher that does no work: a hash
// is "cost$<cost>$<password>", and each check records the cost of the hash
// it compared with (0 for an unreadable one). Hashes are written at cost.
type costHasher struct {
	cost int
	// onHash, when set, runs inside each Hash.
	onHash func()
	// hold, when set, makes a check of the hash "hold" announce itself on
	// held and wait for hold to close.
	hold, held chan struct{}

	mu     sync.Mutex
	checks []int
	hashes int
}

func fakeHash(cost int, pw string) string { return fmt.Sprintf("cost$%d$%s", cost, pw) }

func parseFakeHash(hash string) (cost int, pw string, ok bool) {
	parts := strings.SplitN(hash, "$", 3)
	if len(parts) != 3 || parts[0] != "cost" {
		return 0, "", false
	}
	cost, err := strconv.Atoi(parts[1])
	return cost, parts[2], err == nil
}

func (h *costHasher) Hash(_ context.Context, pw string) (string, error) {
	if err := password.Validate(pw); err != nil {
		return "", err
	}
	h.mu.Lock()
	h.hashes++
	h.mu.Unlock()
	if h.onHash != nil {
		h.onHash()
	}
	return fakeHash(h.cost, pw), nil
}

func (h *costHasher) Check(_ context.Context, hash, pw string) (bool, error) {
	if hash == "hold" {
		h.held <- struct{}{}
		<-h.hold
		return false, nil
	}
	cost, stored, ok := parseFakeHash(hash)
	h.mu.Lock()
	h.checks = append(h.checks, cost)
	h.mu.Unlock()
	return ok && stored == pw, nil
}

func (h *costHasher) Strength(hash string) password.Strength {
	cost, _, ok := parseFakeHash(hash)
	switch {
	case !ok || cost < h.cost:
		return password.Weaker
	case cost > h.cost:
		return password.Stronger
	default:
		return password.Current
	}
}

// take returns the costs of the checks and the number of hashes since the
// last take.
func (h *costHasher) take() (checks []int, hashes int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	checks, hashes = h.checks, h.hashes
	h.checks, h.hashes = nil, 0
	return checks, hashes
}

// logBuffer collects log output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the lines written since the last take.
func (l *logBuffer) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	l.buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// hardenedAuth is an AuthService over b's database with its own hasher and
// a text logger at the server's default level (info).
func hardenedAuth(t *testing.T, b *testBundle, h password.Hasher, requireVerification bool) (*account.AuthService, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	a, err := account.NewAuthService(account.AuthConfig{
		DB: b.db, Sessions: b.sessions, Hasher: h, NowFunc: b.clock.Now,
		Logger:              slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		RequireVerification: requireVerification,
	})
	require.NoError(t, err)
	return a, logs
}

func loginWith(ctx context.Context, a *account.AuthService, b *testBundle, api auth.APIType, username, pw string) (*sessioncache.CachedSession, error) {
	return a.Authenticate(ctx, account.LoginRequest{
		API: api, Method: account.NativeStrategyName, ChannelID: b.defaultChannel.ID,
		Native:        &account.Credentials{Username: username, Password: pw},
		ClientAddress: "203.0.113.7",
	})
}

// setNativeHash replaces a user's stored password hash.
func setNativeHash(t *testing.T, b *testBundle, userID entity.ID, hash string) {
	t.Helper()
	_, err := b.db.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).Set("password_hash = ?", hash).
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Exec(b.ctx)
	require.NoError(t, err)
}

func nativeHash(t *testing.T, b *testBundle, userID entity.ID) string {
	t.Helper()
	var am entity.AuthenticationMethod
	require.NoError(t, b.db.NewSelect().Model(&am).
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Scan(b.ctx))
	require.NotNil(t, am.PasswordHash)
	return *am.PasswordHash
}

func TestMaskIdentifier(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"superadmin":                     "su********in",
		"jane@example.com":               "j***@example.com",
		"j@example.com":                  "***@example.com",
		"@example.com":                   "***@example.com",
		"a.b@c@example.com":              "a***@example.com",
		"admin":                          "a********n",
		"abcd":                           "a********d",
		"abc":                            "********",
		"":                               "********",
		"Ünïcødé-user":                   "Ün********er",
		"é@x.org":                        "***@x.org",
		"éa@x.org":                       "é***@x.org",
		"xy@" + strings.Repeat("d", 100): "x***@" + strings.Repeat("d", 64) + "…",
	} {
		got := auth.MaskIdentifier(in)
		require.Equal(t, want, got, "%q", in)
	}
	// The mask does not tell the length.
	require.Len(t, auth.MaskIdentifier("administrator-with-a-long-name"), len("ad********me"))
}

// TestLoginFailureLog: every failed login writes one WARN line with the
// reason, the API, the client address and a masked identifier; never the
// password, never the whole identifier.
func TestLoginFailureLog(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		b.createCustomer(t, "jane.doe@example.com", "customer-secret", true)
		b.createCustomer(t, "new.customer@example.com", "unverified-secret", false)
		b.createCustomer(t, "no.password@example.com", "", true)
		a, logs := hardenedAuth(t, b, newHasher(t), true)
		require.Empty(t, logs.take(), "nothing logged at start")

		for _, c := range []struct {
			api                auth.APIType
			username, password string
			reason, masked     string
			notVerified        bool
		}{
			{auth.AdminAPI, "superadmin", "wrong-password-1", "wrong password", "su********in", false},
			{auth.AdminAPI, "nobody-at-all", "wrong-password-2", "unknown user", "no********ll", false},
			{auth.ShopAPI, "jane.doe@example.com", "wrong-password-3", "wrong password", "j***@example.com", false},
			{auth.ShopAPI, "Jane.Doe@Example.com", "wrong-password-4", "wrong password", "j***@example.com", false},
			{auth.ShopAPI, "ghost@example.com", "wrong-password-5", "unknown user", "g***@example.com", false},
			{auth.ShopAPI, "no.password@example.com", "wrong-password-6", "no password", "n***@example.com", false},
			{auth.ShopAPI, "new.customer@example.com", "unverified-secret", "not verified", "n***@example.com", true},
			// The customer is not an administrator: unknown on the Admin API.
			{auth.AdminAPI, "jane.doe@example.com", "customer-secret", "unknown user", "j***@example.com", false},
		} {
			cs, err := loginWith(b.ctx, a, b, c.api, c.username, c.password)
			if c.notVerified {
				require.Nil(t, cs)
				var nv *outcome.NotVerifiedError
				require.ErrorAs(t, err, &nv)
			} else {
				requireInvalidCredentials(t, cs, err, c.username)
			}
			lines := logs.take()
			require.Len(t, lines, 1, "%s: one line per failure", c.username)
			line := lines[0]
			require.Contains(t, line, `level=WARN msg="login failed"`)
			require.Contains(t, line, "api="+string(c.api))
			require.Contains(t, line, "identifier="+c.masked)
			require.Contains(t, line, "client=203.0.113.7")
			require.Contains(t, line, fmt.Sprintf("reason=%q", c.reason))
			require.NotContains(t, line, c.password, "never the password")
			require.NotContains(t, strings.ToLower(line), strings.ToLower(c.username), "never the whole identifier")
			local, _, _ := strings.Cut(strings.ToLower(c.username), "@")
			require.NotContains(t, strings.ToLower(line), local)
		}

		// A successful login logs nothing.
		_, err := loginWith(b.ctx, a, b, auth.ShopAPI, "jane.doe@example.com", "customer-secret")
		require.NoError(t, err)
		require.Empty(t, logs.take())
	})
}

// TestLoginTiming counts the comparisons each outcome costs, with their
// bcrypt costs: every failure costs at least one comparison at the
// configured cost, so the time of an answer does not tell whether the user
// exists, whatever the cost of the stored hash.
func TestLoginTiming(t *testing.T) {
	const cost = 12
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		h := &costHasher{cost: cost}
		a, _ := hardenedAuth(t, b, h, true)
		_, hashes := h.take()
		require.Equal(t, 1, hashes, "the dummy hash, at the configured cost")

		user := b.createCustomer(t, "user@example.com", "any-password", true)
		unverified := b.createCustomer(t, "unverified@example.com", "any-password", false)
		b.createCustomer(t, "nopass@example.com", "", true)

		for _, c := range []struct {
			name        string
			username    string
			stored      string // the user's stored hash, "" to leave it
			password    string
			ok          bool
			wantChecks  []int
			wantRehash  bool
			notVerified bool
		}{
			{name: "UnknownUser", username: "nobody@example.com", password: "pw-1", wantChecks: []int{cost}},
			{name: "NoPassword", username: "nopass@example.com", password: "pw-1", wantChecks: []int{cost}},
			{name: "WrongCurrent", username: "user@example.com", stored: fakeHash(cost, "right-pw"), password: "pw-1", wantChecks: []int{cost}},
			{name: "WrongWeaker", username: "user@example.com", stored: fakeHash(4, "right-pw"), password: "pw-1", wantChecks: []int{4, cost}},
			{name: "WrongUnreadable", username: "user@example.com", stored: "$2a$garbage", password: "pw-1", wantChecks: []int{0, cost}},
			{name: "WrongStronger", username: "user@example.com", stored: fakeHash(13, "right-pw"), password: "pw-1", wantChecks: []int{13}},
			{name: "RightCurrent", username: "user@example.com", stored: fakeHash(cost, "right-pw"), password: "right-pw", ok: true, wantChecks: []int{cost}},
			{name: "RightWeaker", username: "user@example.com", stored: fakeHash(4, "right-pw"), password: "right-pw", ok: true, wantChecks: []int{4}, wantRehash: true},
			{name: "RightStronger", username: "user@example.com", stored: fakeHash(14, "right-pw"), password: "right-pw", ok: true, wantChecks: []int{14}, wantRehash: true},
			{name: "RightButNotVerified", username: "unverified@example.com", stored: fakeHash(4, "right-pw"), password: "right-pw", wantChecks: []int{4}, notVerified: true},
		} {
			id := user
			if c.username == "unverified@example.com" {
				id = unverified
			}
			if c.stored != "" {
				setNativeHash(t, b, id, c.stored)
			}
			cs, err := loginWith(b.ctx, a, b, auth.ShopAPI, c.username, c.password)
			switch {
			case c.ok:
				require.NoError(t, err, c.name)
				require.Equal(t, id, cs.User.ID, c.name)
			case c.notVerified:
				var nv *outcome.NotVerifiedError
				require.ErrorAs(t, err, &nv, c.name)
			default:
				requireInvalidCredentials(t, cs, err, c.name)
			}
			checks, hashes := h.take()
			require.Equal(t, c.wantChecks, checks, c.name)
			if c.wantRehash {
				require.Equal(t, 1, hashes, c.name)
				require.Equal(t, fakeHash(cost, c.password), nativeHash(t, b, id), "%s: rehashed at the configured cost", c.name)
			} else {
				require.Zero(t, hashes, c.name)
				if c.stored != "" {
					require.Equal(t, c.stored, nativeHash(t, b, id), "%s: hash kept", c.name)
				}
			}
		}
	})
}

// TestLoginRehash: with real bcrypt, a hash of another cost is replaced at
// the next successful login, and only then.
func TestLoginRehash(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) { // seeded at cost 4
		h5, err := password.NewBcrypt(5)
		require.NoError(t, err)
		a, logs := hardenedAuth(t, b, h5, false)
		seeded := nativeHash(t, b, b.superadminUserID)
		require.Equal(t, password.Weaker, h5.Strength(seeded))

		_, err = loginWith(b.ctx, a, b, auth.AdminAPI, superadminLogin, "not-the-password")
		requireInvalidCredentials(t, nil, err)
		require.Equal(t, seeded, nativeHash(t, b, b.superadminUserID), "a failed login rehashes nothing")
		require.Len(t, logs.take(), 1)

		_, err = loginWith(b.ctx, a, b, auth.AdminAPI, superadminLogin, superadminPassword)
		require.NoError(t, err)
		rehashed := nativeHash(t, b, b.superadminUserID)
		require.Equal(t, password.Current, h5.Strength(rehashed))
		require.True(t, strings.HasPrefix(rehashed, "$2a$05$"), rehashed)

		_, err = loginWith(b.ctx, a, b, auth.AdminAPI, superadminLogin, superadminPassword)
		require.NoError(t, err)
		require.Equal(t, rehashed, nativeHash(t, b, b.superadminUserID), "a current hash is kept")

		require.Empty(t, logs.take(), "a rehash that works logs nothing")

		// The cost-4 service still logs in with the cost-5 hash.
		b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
	})
}

// TestLoginRehashKeepsANewerPassword: a password changed between the check
// and the rehash is not overwritten by the rehash.
func TestLoginRehashKeepsANewerPassword(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		uid := b.createCustomer(t, "c@example.com", "any-password", true)
		setNativeHash(t, b, uid, fakeHash(4, "old-password"))
		h := &costHasher{cost: 12}
		a, _ := hardenedAuth(t, b, h, false)
		h.onHash = func() { setNativeHash(t, b, uid, fakeHash(12, "changed-meanwhile")) }

		_, err := loginWith(b.ctx, a, b, auth.ShopAPI, "c@example.com", "old-password")
		require.NoError(t, err)
		_, hashes := h.take()
		require.Equal(t, 2, hashes, "the dummy and the rehash")
		require.Equal(t, fakeHash(12, "changed-meanwhile"), nativeHash(t, b, uid))
	})
}

// TestLoginWaitsForTheHashingPool: a login waits for a hashing slot only as
// long as its context lives, then fails with a fault (not invalid
// credentials), logs no failed login and creates no session.
func TestLoginWaitsForTheHashingPool(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		uid := b.createCustomer(t, "c@example.com", "any-password", true)
		setNativeHash(t, b, uid, fakeHash(12, "right-pw"))
		h := &costHasher{cost: 12, hold: make(chan struct{}), held: make(chan struct{})}
		pool := password.NewPool(h, 1)
		a, logs := hardenedAuth(t, b, pool, false)

		// Another login holds the only slot.
		holding := make(chan error, 1)
		go func() {
			_, err := pool.Check(b.ctx, "hold", "x")
			holding <- err
		}()
		<-h.held

		for _, c := range []struct{ username, password string }{
			{"c@example.com", "right-pw"},
			{"c@example.com", "wrong-pw"},
			{"nobody@example.com", "wrong-pw"},
		} {
			ctx, cancel := context.WithCancel(b.ctx)
			done := make(chan error, 1)
			go func() {
				cs, err := loginWith(ctx, a, b, auth.ShopAPI, c.username, c.password)
				if cs != nil {
					err = fmt.Errorf("unexpected session for %s", c.username)
				}
				done <- err
			}()
			for pool.Waiting() != 1 {
				runtime.Gosched()
			}
			cancel() // the request's deadline, or the client leaving
			err := <-done
			require.ErrorIs(t, err, password.ErrBusy, c.username)
			var invalid *outcome.InvalidCredentialsError
			require.False(t, errors.As(err, &invalid), "a fault, not a wrong password")
			require.NotContains(t, err.Error(), c.password)
		}
		require.Empty(t, logs.take(), "no failed login was decided")
		require.Zero(t, b.countSessions(t))

		close(h.hold)
		require.NoError(t, <-holding)
		cs, err := loginWith(b.ctx, a, b, auth.ShopAPI, "c@example.com", "right-pw")
		require.NoError(t, err)
		require.Equal(t, uid, cs.User.ID)
	})
}
