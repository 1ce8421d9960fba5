package service_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/seed"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// Seed values of the Vendure e2e harness.
const (
	testChannelToken   = "e2e-default-channel"
	superadminLogin    = "superadmin"
	superadminPassword = "superadmin"
)

// oneYear is Vendure's default sessionDuration '1y' (365.25 days).
const oneYear = 8766 * time.Hour

var discardLog = slog.New(slog.DiscardHandler)

// ---- access-change hook spy -------------------------------------------------------

// hookSpy is an AccessChangeFunc that counts its calls and may run more work.
type hookSpy struct {
	mu    sync.Mutex
	calls int
	then  func(ctx context.Context)
}

func (h *hookSpy) fn(ctx context.Context) {
	h.mu.Lock()
	h.calls++
	then := h.then
	h.mu.Unlock()
	if then != nil {
		then(ctx)
	}
}

func (h *hookSpy) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func (h *hookSpy) setThen(f func(ctx context.Context)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.then = f
}

// ---- bundle -----------------------------------------------------------------------

// testBundle is a seeded database with every service wired to a fake clock
// and a spy cache: what the service tests use, nothing more.
type testBundle struct {
	ctx      context.Context
	db       *bun.DB
	clock    *testenv.Clock
	hasher   password.Hasher
	hook     *hookSpy
	sessions *session.Service
	auth     *account.AuthService
	channels *access.ChannelService
	roles    *access.RoleService
	users    *access.UserService
	// cache records every call the SessionService makes to its cache.
	cache *sessioncachetest.Spy
	// mem is the Memory cache cache wraps (nil with bundleOpts.NewCache),
	// for tests that count the entries it holds.
	mem *sessioncache.Memory

	defaultChannel   *entity.Channel
	superRoleID      entity.ID
	customerRoleID   entity.ID
	superadminUserID entity.ID
}

// bundleOpts tunes newTestBundle. The zero value is Vendure's defaults
// (1 y sessions, 300 s cache TTL) without verification.
type bundleOpts struct {
	SessionDuration     time.Duration
	CacheTTL            time.Duration
	RequireVerification bool
	// CacheSize is the size of the Memory cache behind the spy (default 100).
	CacheSize int
	// NewCache, when set, returns the strategy the spy wraps instead of a
	// Memory cache (Noop, Redis). A Prober (Redis) is passed on as the
	// SessionService's Prober, as app.New does when it wraps its cache.
	NewCache func(t *testing.T) sessioncache.Strategy
	// QueryTimeout is the SessionService's QueryTimeout (zero: its
	// default).
	QueryTimeout time.Duration
	// HookClearsCache wires the access-change hook to
	// SessionService.ClearCache, as the app does.
	HookClearsCache bool
	// LazyGuests sets session.Config.LazyGuestSessions.
	LazyGuests bool
	// AnonymousCartIdleTimeout is the SessionService's (zero: its
	// default).
	AnonymousCartIdleTimeout time.Duration
	// GuestAddressLimit, GuestAddressWindow and GuestCacheLimit are the
	// SessionService's guest limits (zero: none).
	GuestAddressLimit  int
	GuestAddressWindow time.Duration
	GuestCacheLimit    int
	// NegativeCacheSize is the SessionService's (zero: off).
	NegativeCacheSize int
	// IdleTimeout and MetadataRetention are the SessionService's (zero:
	// none, and its default).
	IdleTimeout       time.Duration
	MetadataRetention time.Duration
}

// noopCache is a bundleOpts.NewCache for tests that must read the database
// on every lookup.
func noopCache(*testing.T) sessioncache.Strategy { return sessioncache.Noop{} }

// eachDB runs f with a fresh bundle on every database (testenv.EachDB), in
// parallel with the other tests: it calls t.Parallel itself, so the test or
// subtest that calls it must not.
func eachDB(t *testing.T, opts bundleOpts, f func(t *testing.T, b *testBundle)) {
	t.Helper()
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		f(t, newTestBundle(t, db, opts))
	})
}

func newHasher(t *testing.T) *password.Bcrypt {
	t.Helper()
	h, err := password.NewBcrypt(4)
	require.NoError(t, err)
	return h
}

func seedConfig() seed.Config {
	return seed.Config{
		DefaultChannelToken:  testChannelToken,
		SuperadminIdentifier: superadminLogin,
		SuperadminPassword:   superadminPassword,
	}
}

func newTestBundle(t *testing.T, db *bun.DB, opts bundleOpts) *testBundle {
	t.Helper()
	ctx := context.Background()
	clock := testenv.NewClock()
	hasher := newHasher(t)
	require.NoError(t, seed.Seed(ctx, db, hasher, clock.Now(), seedConfig()))

	b := &testBundle{ctx: ctx, db: db, clock: clock, hasher: hasher, hook: &hookSpy{}}
	var next sessioncache.Strategy
	if opts.NewCache != nil {
		next = opts.NewCache(t)
	} else {
		if opts.CacheSize == 0 {
			opts.CacheSize = 100
		}
		mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: opts.CacheSize})
		require.NoError(t, err)
		b.mem, next = mem, mem
	}
	b.cache = sessioncachetest.NewSpy(next)
	prober, _ := next.(sessioncache.Prober)
	var err error
	b.sessions, err = session.New(session.Config{
		DB: db, Cache: b.cache, Prober: prober, Logger: discardLog, NowFunc: clock.Now,
		SessionDuration: opts.SessionDuration, CacheTTL: opts.CacheTTL, QueryTimeout: opts.QueryTimeout,
		LazyGuestSessions:        opts.LazyGuests,
		AnonymousCartIdleTimeout: opts.AnonymousCartIdleTimeout,
		GuestAddressLimit:        opts.GuestAddressLimit, GuestAddressWindow: opts.GuestAddressWindow,
		GuestCacheLimit:   opts.GuestCacheLimit,
		NegativeCacheSize: opts.NegativeCacheSize,
		IdleTimeout:       opts.IdleTimeout, MetadataRetention: opts.MetadataRetention,
		AssignCustomerFunc: access.AddUserToChannel,
	})
	require.NoError(t, err)
	if opts.HookClearsCache {
		b.hook.then = b.sessions.ClearCache
	}
	b.channels = newChannelService(t, access.ChannelConfig{DB: db, Sessions: b.sessions, AccessChangeFunc: b.hook.fn, NowFunc: clock.Now})
	b.roles, err = access.NewRoleService(access.RoleConfig{DB: db, AccessChangeFunc: b.hook.fn, NowFunc: clock.Now})
	require.NoError(t, err)
	b.users, err = access.NewUserService(access.UserConfig{DB: db, Sessions: b.sessions, Hasher: hasher, NowFunc: clock.Now})
	require.NoError(t, err)
	b.auth, err = account.NewAuthService(account.AuthConfig{
		DB: db, Sessions: b.sessions, Hasher: hasher, Logger: discardLog, NowFunc: clock.Now,
		RequireVerification: opts.RequireVerification,
	})
	require.NoError(t, err)

	b.defaultChannel = b.channels.Default()
	require.NotNil(t, b.defaultChannel)
	require.Equal(t, entity.DefaultChannelCode, b.defaultChannel.Code)
	require.Equal(t, testChannelToken, b.defaultChannel.Token)
	b.superRoleID = b.roleID(t, entity.SuperAdminRoleCode)
	b.customerRoleID = b.roleID(t, entity.CustomerRoleCode)
	require.NoError(t, db.NewSelect().Table("user").Column("id").
		Where("identifier = ?", superadminLogin).Scan(ctx, &b.superadminUserID))
	return b
}

// newChannelService builds a ChannelService and loads its snapshot.
func newChannelService(t *testing.T, cfg access.ChannelConfig) *access.ChannelService {
	t.Helper()
	s, err := access.NewChannelService(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Reload(context.Background()))
	return s
}

func (b *testBundle) roleID(t *testing.T, code string) entity.ID {
	t.Helper()
	var id entity.ID
	require.NoError(t, b.db.NewSelect().Table("role").Column("id").Where("code = ?", code).Scan(b.ctx, &id))
	return id
}

// createCustomer creates a customer on the default channel and returns its user id.
func (b *testBundle) createCustomer(t *testing.T, email, pw string, verified bool) entity.ID {
	t.Helper()
	c, err := b.users.CreateCustomer(b.ctx, access.NewCustomer{
		EmailAddress: email, Password: pw, FirstName: "Cus", LastName: "Tomer",
		Verified: verified, ChannelIDs: []entity.ID{b.defaultChannel.ID},
	})
	require.NoError(t, err)
	require.NotNil(t, c.UserID)
	return *c.UserID
}

// createAdmin creates an administrator and returns its user id.
func (b *testBundle) createAdmin(t *testing.T, email, pw string, roleIDs ...entity.ID) entity.ID {
	t.Helper()
	a, err := b.users.CreateAdministrator(b.ctx, access.NewAdministrator{
		EmailAddress: email, Password: pw, FirstName: "Ad", LastName: "Min", RoleIDs: roleIDs,
	})
	require.NoError(t, err)
	return a.UserID
}

// createRole creates a role on the given channels (default channel if none).
func (b *testBundle) createRole(t *testing.T, code string, perms []auth.Permission, channelIDs ...entity.ID) entity.ID {
	t.Helper()
	if len(channelIDs) == 0 {
		channelIDs = []entity.ID{b.defaultChannel.ID}
	}
	r, err := b.roles.Create(b.ctx, access.NewRole{Code: code, Description: code, Permissions: perms, ChannelIDs: channelIDs})
	require.NoError(t, err)
	return r.ID
}

// createChannel creates a channel through the bundle's ChannelService.
func (b *testBundle) createChannel(t *testing.T, code string) *entity.Channel {
	t.Helper()
	ch, err := b.channels.Create(b.ctx, access.NewChannel{Code: code, Token: code + "-token"})
	require.NoError(t, err)
	return ch
}

func (b *testBundle) authenticate(api auth.APIType, username, pw string, current *sessioncache.CachedSession) (*sessioncache.CachedSession, error) {
	return b.auth.Authenticate(b.ctx, account.LoginRequest{
		API: api, Method: account.NativeStrategyName,
		Native:  &account.Credentials{Username: username, Password: pw},
		Current: current, ChannelID: b.defaultChannel.ID,
	})
}

func (b *testBundle) login(t *testing.T, api auth.APIType, username, pw string) *sessioncache.CachedSession {
	t.Helper()
	cs, err := b.authenticate(api, username, pw, nil)
	require.NoError(t, err)
	require.NotNil(t, cs)
	return cs
}

// newSession creates an authenticated session for a user directly.
func (b *testBundle) newSession(t *testing.T, userID entity.ID) *sessioncache.CachedSession {
	t.Helper()
	ch := b.defaultChannel.ID
	cs, err := b.sessions.CreateNewAuthenticatedSession(b.ctx, session.NewAuthenticatedSession{
		UserID: userID, AuthenticationStrategy: account.NativeStrategyName, ActiveChannelID: &ch,
	})
	require.NoError(t, err)
	return cs
}

func (b *testBundle) anonymous(t *testing.T) *sessioncache.CachedSession {
	t.Helper()
	ch := b.defaultChannel.ID
	cs, err := b.sessions.CreateAnonymousSession(b.ctx, &ch)
	require.NoError(t, err)
	return cs
}

// sessionRow returns the session row of a token, or nil.
func (b *testBundle) sessionRow(t *testing.T, token string) *entity.Session {
	t.Helper()
	row := new(entity.Session)
	err := b.db.NewSelect().Model(row).Where("token_hash = ?", session.HashToken(token)).Scan(b.ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	require.NoError(t, err)
	return row
}

func (b *testBundle) countSessions(t *testing.T) int {
	t.Helper()
	n, err := b.db.NewSelect().Model((*entity.Session)(nil)).Count(b.ctx)
	require.NoError(t, err)
	return int(n)
}

func (b *testBundle) userRow(t *testing.T, id entity.ID) *entity.User {
	t.Helper()
	u := new(entity.User)
	require.NoError(t, b.db.NewSelect().Model(u).Where("id = ?", id).Scan(b.ctx))
	return u
}

// insertSession inserts a session row directly and returns its raw token.
// Zero fields get defaults: type anonymous, created/updated now, expires in
// an hour.
func (b *testBundle) insertSession(t *testing.T, row entity.Session) string {
	t.Helper()
	token := randomToken(t)
	fillSession(&row, token, b.clock.Now())
	_, err := b.db.NewInsert().Model(&row).Exec(b.ctx)
	require.NoError(t, err)
	return token
}

func fillSession(row *entity.Session, token string, now time.Time) {
	row.TokenHash = session.HashToken(token)
	if row.Type == "" {
		row.Type = entity.SessionAnonymous
	}
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = now
	}
	if row.CreatedAt.IsZero() {
		row.CreatedAt = row.UpdatedAt
	}
	if row.Expires.IsZero() {
		row.Expires = now.Add(time.Hour)
	}
}

func randomToken(t *testing.T) string {
	t.Helper()
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

func requireTimeEqual(t *testing.T, want, got time.Time, msgAndArgs ...any) {
	t.Helper()
	require.Truef(t, want.Equal(got), "want %s, got %s %v", want.UTC(), got.UTC(), msgAndArgs)
}

// unixSeconds is a time as fractional Unix seconds, as cacheExpiry.
func unixSeconds(tm time.Time) float64 { return float64(tm.UnixNano()) / 1e9 }

func idPtr(id entity.ID) *entity.ID { return &id }
