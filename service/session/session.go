package session

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Defaults of the guest-session settings (Config). Vendure gives a
// guest the full sessionDuration (1 y) and hard-codes the idle cut-off of
// 7 d; a guest that holds nothing needs neither a year nor to outlive a
// week of silence.
const (
	// DefaultAnonymousSessionDuration is the lifetime of a new anonymous
	// session (ANONYMOUS_SESSION_DURATION).
	DefaultAnonymousSessionDuration = 30 * 24 * time.Hour
	// DefaultAnonymousIdleTimeout is how long an anonymous session without
	// an active order survives without a row write before
	// CleanExpiredSessions removes it (ANONYMOUS_IDLE_TIMEOUT; Vendure's
	// hard-coded 7 days).
	DefaultAnonymousIdleTimeout = 7 * 24 * time.Hour
	// DefaultAnonymousCartIdleTimeout is how long an anonymous session with
	// an active order (a guest's cart) survives without a row write
	// (ANONYMOUS_CART_IDLE_TIMEOUT). Vendure keeps it for sessionDuration
	// (1 y). A month lets a shopper come back to a cart after a few weeks
	// (a pay day, a reminder mail) at one write per cart per 15 days of
	// use, and ends a cart nobody came back to within 30 days.
	DefaultAnonymousCartIdleTimeout = 30 * 24 * time.Hour
)

// AssignCustomerFunc makes the customer profile of a user visible on a
// channel, on db: the session's transaction, or the database
// (access.UserService.AddCustomerToChannel, which owns that write).
type AssignCustomerFunc func(ctx context.Context, db bun.IDB, userID, channelID entity.ID) error

// Config configures a Service.
type Config struct {
	// DB is the database. Required.
	DB *bun.DB
	// Cache is the session cache. Defaults to sessioncache.Noop.
	Cache sessioncache.Strategy
	// Prober is set when the cache is shared between processes (Redis):
	// evictions then go through the outbox and SyncCache probes it. Defaults
	// to Cache itself if it implements sessioncache.Prober (a test that wraps
	// the cache passes the wrapped one here).
	Prober sessioncache.Prober
	// CacheDown starts the Service with its cache out of use, as after an
	// outage: requests read the database until SyncCache finds the cache
	// answering (app.New sets it when Redis did not answer at start).
	CacheDown bool
	// AssignCustomerFunc is called when a logged-in user's session enters
	// a channel (EnsureActiveChannel) or starts on one (a login), so that
	// their customer profile is visible there (Vendure's AuthGuard does the
	// same). The UserService
	// owns that write; it is built after the Service (it needs it),
	// so app.New passes a function that calls it. Defaults to doing
	// nothing, for a Service used without users.
	AssignCustomerFunc AssignCustomerFunc
	// AccessSyncFunc runs first in every SyncCache: it reloads what this
	// instance holds of channels and roles when they changed on any
	// instance, and reports whether they had (app.New passes
	// ChannelService.Sync; the ChannelService is built after the
	// Service, so the function must not be called before New
	// returns). When it reports a change and the cache is not shared, the
	// cache is cleared: its entries carry the old permissions (a shared
	// cache was cleared through the outbox by the instance that made the
	// change). Defaults to nothing.
	AccessSyncFunc func(ctx context.Context) (changed bool, err error)
	// Jobs enqueues the clean-sessions job (package jobs' Runner; it is
	// built after the Service, which its worker calls, so app.New
	// passes a forwarder). Without it TriggerCleanSessionsJob fails.
	Jobs CleanSessionsEnqueuer
	// CleanSessionsBatchSize is TriggerCleanSessionsJob's batch size when
	// the caller gives none. Defaults to 1000, Vendure's.
	CleanSessionsBatchSize int
	// Logger logs cache failures. Defaults to discarding them.
	Logger *slog.Logger
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
	// SessionDuration is how long a new session lives, and the sliding-expiry
	// window. Defaults to 1 year (365.25 days).
	SessionDuration time.Duration
	// CacheTTL is how long a cached session is trusted before it is refreshed
	// from the database. Defaults to 300 s.
	CacheTTL time.Duration
	// AnonymousSessionDuration is the lifetime of a new anonymous session,
	// and its sliding-expiry window while it holds no active order. A guest
	// that gets an active order, or logs in, gets SessionDuration instead.
	// It is capped at SessionDuration. Defaults to 30 days.
	AnonymousSessionDuration time.Duration
	// AnonymousIdleTimeout is how long an anonymous session without an
	// active order survives without a row write before CleanExpiredSessions
	// removes it; such a session in use is renewed (written) at least every
	// half of it, so only an unused one reaches it. Defaults to 7 days.
	AnonymousIdleTimeout time.Duration
	// AnonymousCartIdleTimeout is AnonymousIdleTimeout for an anonymous
	// session with an active order: a guest's cart not used for this long
	// is removed by CleanExpiredSessions, and refused by the lookup before
	// that. Defaults to 30 days.
	AnonymousCartIdleTimeout time.Duration
	// GuestAddressLimit is how many new guest sessions one client address
	// may have per GuestAddressWindow; past it CreateAnonymousSession
	// returns *outcome.TooManyRequestsError (see session_guest_limit.go). Zero (the
	// default here; the server sets GUEST_ADDRESS_LIMIT) is no limit.
	GuestAddressLimit int
	// GuestAddressWindow is GuestAddressLimit's window. Required with it.
	GuestAddressWindow time.Duration
	// GuestCacheLimit is how many new guest sessions (and renewals of
	// cache-only ones) this instance writes to the cache in any CacheTTL;
	// past it a new guest is not cached (see session_guest_limit.go). Zero (the
	// default here; the server sets GUEST_CACHE_LIMIT) is no limit.
	GuestCacheLimit int
	// LazyGuestSessions keeps a guest session that holds nothing in the
	// cache only, and writes its row when it first holds something (see
	// session_guest.go). It needs a cache that stores: with
	// sessioncache.Noop it is ignored. Off by default here (every guest
	// gets a row, as Vendure); the server turns it on (GUEST_SESSIONS).
	LazyGuestSessions bool
	// QueryTimeout bounds each session lookup, which runs through
	// database/sql directly (bound parameters; see sessionQueries) and so
	// is not bounded by the deadline database.Open's query hook gives
	// statements sent through bun. app.New passes DB_QUERY_TIMEOUT, the
	// hook's bound. Defaults to database.DefaultQueryTimeout.
	QueryTimeout time.Duration
	// NegativeCacheSize is how many unknown tokens the service remembers
	// (see negativeCache); 0 remembers none. NegativeCacheTTL is how long
	// each is remembered; it defaults to DefaultNegativeCacheTTL.
	NegativeCacheSize int
	NegativeCacheTTL  time.Duration
	// IdleTimeout ends a logged-in session not used for this long, even if
	// its expiry is later (SESSION_IDLE_TIMEOUT); 0, the default, ends
	// none. It is measured from the session's last use, which is written at
	// most once a LastUsedInterval (session_usage.go), so a session ends
	// between IdleTimeout and IdleTimeout plus two intervals after its last
	// use, never before.
	IdleTimeout time.Duration
	// Metrics receives what the service does (lookups, new and revoked
	// sessions, cache failures). Defaults to none.
	Metrics Recorder
	// MetadataRetention is how long a session row keeps its client's
	// address and user agent after its creation; the clean-up erases them
	// then (SESSION_METADATA_RETENTION). Defaults to
	// DefaultMetadataRetention.
	MetadataRetention time.Duration
	// TraceQueryFunc, when set (tracing is on), traces each session lookup,
	// which bun's query hooks do not see: it is given the statement's text
	// (placeholders, no values) and returns the context to run it in and
	// a func to call with its error. Nil, the default, traces nothing.
	TraceQueryFunc func(ctx context.Context, query string) (context.Context, func(error))
}

// DefaultMetadataRetention is how long a session keeps its client's
// address and user agent unless Config says otherwise.
const DefaultMetadataRetention = 90 * 24 * time.Hour

// DefaultNegativeCacheTTL is how long an unknown token is remembered
// unless Config says otherwise.
const DefaultNegativeCacheTTL = 30 * time.Second

// Service is Vendure's Service: it creates, finds, renews,
// changes and deletes sessions, and keeps the session cache in step. Each
// Vendure method has a Go method of the same name (GetSessionFromToken,
// CreateNewAuthenticatedSession, CreateAnonymousSession, SetActiveOrder,
// UnsetActiveOrder, SetActiveChannel, DeleteSessionsByUser,
// DeleteSessionsByActiveOrderID, CleanExpiredSessions, SerializeSession).
type Service struct {
	db             *bun.DB
	cache          *cacheGuard
	prober         sessioncache.Prober // the cache, when it is shared (Redis); else nil
	assignCustomer AssignCustomerFunc
	accessSync     func(ctx context.Context) (bool, error)
	jobs           CleanSessionsEnqueuer
	cleanBatchSize int
	log            *slog.Logger
	now            func() time.Time
	duration       time.Duration
	cacheTTL       time.Duration
	anonDuration   time.Duration // at most duration
	anonIdle       time.Duration // of a guest without an active order
	cartIdle       time.Duration // of a guest with one
	guests         *guestLimiter // nil: no guest limits
	lazyGuests     bool          // LazyGuestSessions, with a cache that stores
	queryTimeout   time.Duration
	queries        sessionQueries
	negative       *negativeCache     // nil: off
	lookups        singleflight.Group // concurrent misses of one token share a read
	// traceQuery is Config.TraceQueryFunc; nil: tracing off.
	traceQuery func(ctx context.Context, query string) (context.Context, func(error))
	// findByTokenHash is findSessionByTokenHash; a test stands in for it.
	findByTokenHash func(ctx context.Context, hash string) (*sessioncache.CachedSession, error)
	stats           lookupStats
	metrics         Recorder      // nil: none
	idle            time.Duration // IdleTimeout; 0: none
	retention       time.Duration // MetadataRetention
	usage           usageLog      // the sessions used since the last WriteUsage
	usageStats      usageCounts

	syncMu        sync.Mutex // one SyncCache at a time
	cacheIdentity string     // the shared cache's last Probe answer
}

// New returns a Service, or an error naming every
// missing required field.
func New(cfg Config) (*Service, error) {
	if err := setup.Required("session service", setup.Field{Name: "DB", Unset: cfg.DB == nil}); err != nil {
		return nil, err
	}
	if cfg.Cache == nil {
		cfg.Cache = sessioncache.Noop{}
	}
	if cfg.AssignCustomerFunc == nil {
		cfg.AssignCustomerFunc = func(context.Context, bun.IDB, entity.ID, entity.ID) error { return nil }
	}
	cfg.Logger = setup.Logger(cfg.Logger)
	cfg.NowFunc = setup.Now(cfg.NowFunc)
	if cfg.SessionDuration <= 0 {
		cfg.SessionDuration = auth.DefaultSessionDuration
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = auth.DefaultSessionCacheTTL
	}
	if cfg.AnonymousSessionDuration <= 0 {
		cfg.AnonymousSessionDuration = DefaultAnonymousSessionDuration
	}
	if cfg.AnonymousIdleTimeout <= 0 {
		cfg.AnonymousIdleTimeout = DefaultAnonymousIdleTimeout
	}
	if cfg.AnonymousCartIdleTimeout <= 0 {
		cfg.AnonymousCartIdleTimeout = DefaultAnonymousCartIdleTimeout
	}
	if cfg.CleanSessionsBatchSize <= 0 {
		cfg.CleanSessionsBatchSize = DefaultCleanSessionsBatchSize
	}
	noop := sessioncache.StoresNothing(cfg.Cache)
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = database.DefaultQueryTimeout
	}
	queries, err := newSessionQueries(cfg.DB.Dialect().Name())
	if err != nil {
		return nil, err
	}
	prober := cfg.Prober
	if prober == nil {
		prober, _ = cfg.Cache.(sessioncache.Prober)
	}
	s := &Service{
		db: cfg.DB, log: cfg.Logger, now: cfg.NowFunc,
		cache:          &cacheGuard{cache: cfg.Cache, log: cfg.Logger, now: cfg.NowFunc, metrics: cfg.Metrics},
		metrics:        cfg.Metrics,
		prober:         prober,
		assignCustomer: cfg.AssignCustomerFunc,
		accessSync:     cfg.AccessSyncFunc,
		jobs:           cfg.Jobs, cleanBatchSize: cfg.CleanSessionsBatchSize,
		duration: cfg.SessionDuration, cacheTTL: cfg.CacheTTL,
		anonDuration: min(cfg.AnonymousSessionDuration, cfg.SessionDuration),
		anonIdle:     cfg.AnonymousIdleTimeout,
		cartIdle:     cfg.AnonymousCartIdleTimeout,
		guests:       newGuestLimiter(cfg.GuestAddressLimit, cfg.GuestAddressWindow, cfg.GuestCacheLimit, cfg.CacheTTL),
		lazyGuests:   cfg.LazyGuestSessions && !noop,
		queryTimeout: cfg.QueryTimeout, queries: queries, traceQuery: cfg.TraceQueryFunc,
		negative:  newNegativeCache(cfg.NegativeCacheSize, cmp.Or(cfg.NegativeCacheTTL, DefaultNegativeCacheTTL)),
		idle:      max(cfg.IdleTimeout, 0),
		retention: cmp.Or(max(cfg.MetadataRetention, 0), DefaultMetadataRetention),
	}
	s.findByTokenHash = s.findSessionByTokenHash
	if cfg.CacheDown {
		s.cache.state.Store(cacheDown)
	}
	return s, nil
}

func (s *Service) nowUTC() time.Time { return s.now().UTC() }

// withToken returns a copy of cs that carries the raw token of the request.
// Only the copy handed back to the caller carries it; the cached value never
// does.
func withToken(cs *sessioncache.CachedSession, token string) *sessioncache.CachedSession {
	c := *cs
	c.Token = token
	return &c
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
