package e2e_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/session"
)

// instance is one server process of a scaled-out deployment: its own app
// (and so its own cache guard and background sync) on a shared database and
// a shared Redis key space.
type instance struct {
	app     *app.App
	url     string // the Admin API's
	shopURL string
}

// sharedStrategies are the cache strategies for several instances: the
// tests of what instances share run on each.
var sharedStrategies = []string{config.CacheRedis, config.CacheRedisMemory}

// withStrategy sets SESSION_CACHE_STRATEGY (newInstance's default is
// redis).
func withStrategy(strategy string) envOption {
	return func(c *config.Config) { c.SessionCacheStrategy = strategy }
}

// newInstance builds a server on db whose cache is the Redis behind client,
// under prefix. Instances built with the same db and prefix share
// everything that matters.
func newInstance(t *testing.T, db *bun.DB, client redis.UniversalClient, prefix string, opts ...envOption) *instance {
	t.Helper()
	return newInstanceWith(t, app.Options{DB: db, Redis: client, RedisKeyPrefix: prefix}, opts...)
}

// newInstanceWith is newInstance with the app options given whole.
func newInstanceWith(t *testing.T, appOpts app.Options, opts ...envOption) *instance {
	t.Helper()
	cfg := config.Defaults()
	cfg.BcryptCost = 4
	cfg.DefaultChannelToken = "e2e-default-channel"
	cfg.SessionCacheStrategy = "redis"
	cfg.RedisURL = "redis://unused:6379/0" // the client is given
	cfg.LogLevel = slog.LevelError
	// As in newEnvOn: what these tests assert must not depend on the
	// machine's load. A test that makes the cache slow on purpose sets
	// its own timeout (withCacheTimeout).
	cfg.SessionCacheTimeout = testCacheTimeout
	cfg.Throttle.RedisTimeout = testCacheTimeout
	cfg.RequestTimeout, cfg.DBQueryTimeout = testRequestTimeout, testRequestTimeout
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(context.Background(), cfg, appOpts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	a.CacheSync.TestSignals.Init(t)
	if a.Tiered != nil {
		a.Tiered.TestSignals.Init(t)
		// The memory tier is in use before the test begins.
		require.NoError(t, a.Tiered.Confirm(context.Background()))
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &instance{app: a, url: srv.URL + app.AdminPath, shopURL: srv.URL + app.ShopPath}
}

// memoryHits is the number of lookups the instance answered from its
// memory tier (0 without one).
func (in *instance) memoryHits() int64 {
	if in.app.Tiered == nil {
		return 0
	}
	return in.app.Tiered.Stats().MemoryHits
}

// delivered waits until the instance's memory tier has applied an
// announcement of key by another instance (nothing to wait for without a
// memory tier). The test must have made the change after the instance
// started.
func (in *instance) delivered(t *testing.T, key string) {
	t.Helper()
	if in.app.Tiered == nil {
		return
	}
	for {
		v := in.app.Tiered.TestSignals.Applied.WaitOrTimeout()
		if v.Clear || slices.Contains(v.Keys, key) {
			return
		}
	}
}

// flushed waits until every announcement made so far by any instance is
// applied to this instance's memory tier (nothing without one): a marker it
// publishes comes back on its subscription after them.
func (in *instance) flushed(t *testing.T) {
	t.Helper()
	if in.app.Tiered != nil {
		require.NoError(t, in.app.Tiered.Confirm(context.Background()))
	}
}

// synced waits until the instance's background sync has run a whole round
// that began after synced was called, and requires that round to have
// succeeded. The first round to end may have begun before; the next one
// began after it ended.
func (in *instance) synced(t *testing.T) {
	t.Helper()
	rounds := &in.app.CacheSync.TestSignals.Synced
	rounds.Discard()
	rounds.WaitOrTimeout()
	require.NoError(t, rounds.WaitOrTimeout(), "the background sync round failed")
}

func (in *instance) admin(t *testing.T, token string) *testenv.Client {
	c := testenv.NewClient(t, in.url, testenv.Bearer)
	c.Token = token
	return c
}

// answersAsUser reports whether the token is still accepted by the instance.
func (in *instance) answersAsUser(t *testing.T, token string) bool {
	r := in.admin(t, token).Do(meQuery, nil)
	return len(r.Errors) == 0 && strings.Contains(string(r.Data), "superadmin")
}

func withLogoutScope(scope string) envOption { return func(c *config.Config) { c.LogoutScope = scope } }

// withCacheTimeout sets SESSION_CACHE_TIMEOUT.
func withCacheTimeout(d time.Duration) envOption {
	return func(c *config.Config) { c.SessionCacheTimeout = d }
}

// logout logs the token out on the instance and reports whether the answer
// said so.
func (in *instance) logout(t *testing.T, token string) bool {
	r := in.admin(t, token).Do(logoutMutation, nil)
	return len(r.Errors) == 0 && string(r.Data) == `{"logout":{"success":true}}`
}

// pendingEvictions counts the outbox rows no instance has applied yet.
func pendingEvictions(db *bun.DB) (int, error) {
	var n int
	err := db.NewRaw("SELECT count(*) FROM session_cache_outbox WHERE applied_at IS NULL").Scan(context.Background(), &n)
	return n, err
}

// sharedDB is the database two instances share: PostgreSQL when
// TEST_DATABASE_URL is set, else one SQLite file.
func sharedDB(t *testing.T) *bun.DB {
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		return testenv.PostgresDB(t)
	}
	return testenv.SQLiteDB(t)
}

// Finding 3: instance A cannot reach Redis, B can. A logout on A succeeds
// (the rows are gone) but cannot evict; its eviction waits in the outbox,
// and B's background sync applies it, so B stops answering the token within
// about a second, not after SESSION_CACHE_TTL. When A's Redis returns, A
// answers the token with FORBIDDEN too. With redis+memory, B answered the
// token from its own memory before: the sync's eviction empties that too.
func TestEvictionIsNotLostBetweenInstances(t *testing.T) {
	t.Parallel()
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			db := sharedDB(t)
			direct, mr := testenv.Redis(t)
			// A reaches the same Redis database as B (TEST_REDIS_URL's number, not
			// always 0) through the proxy.
			addr, dbNum := "", 0
			if mr != nil {
				addr = mr.Addr()
			} else {
				opts := direct.(*redis.Client).Options()
				addr, dbNum = opts.Addr, opts.DB
			}
			proxy := testenv.NewProxy(t, addr)
			viaProxy := redis.NewClient(&redis.Options{Addr: proxy.Addr(), DB: dbNum, ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: time.Second})
			t.Cleanup(func() { _ = viaProxy.Close() })
			prefix := testenv.RandomPrefix()
			a := newInstance(t, db, viaProxy, prefix, withStrategy(strategy))
			b := newInstance(t, db, direct, prefix, withStrategy(strategy))

			login := a.admin(t, "")
			login.Do(loginMutation, creds("superadmin", "superadmin"))
			token := login.Token
			b.delivered(t, session.HashToken(token)) // A's login cached it
			require.True(t, b.answersAsUser(t, token))
			hits := b.memoryHits()
			require.True(t, b.answersAsUser(t, token), "now from B's cache")
			if strategy == config.CacheRedisMemory {
				require.Equal(t, hits+1, b.memoryHits(), "B answered from its memory tier")
			}

			fig := testenv.Outage{Name: "partition-eviction", Backend: sharedBackend(strategy)}
			proxy.Refuse()
			r := a.admin(t, token).Do(logoutMutation, nil)
			tallyOK(&fig, string(r.Data) == `{"logout":{"success":true}}`)
			require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
			require.False(t, answerRevoked(t, &fig, a, token), "A reads nothing from a cache it cannot reach")

			// B's background sync (every second) applies A's pending eviction, and
			// then stamps it applied: one round of it does.
			b.synced(t)
			fig.RecoverSeconds = b.app.CacheSync.Interval().Seconds()
			stale := answerRevoked(t, &fig, b, token)
			testenv.ReportOutage(t, fig)
			require.False(t, stale, "B still answers a logged-out token from its cache")
			pending, err := pendingEvictions(db)
			require.NoError(t, err)
			require.Zero(t, pending, "B applied and stamped the eviction")

			proxy.Resume()
			require.NoError(t, a.app.Sessions.SyncCache(context.Background()))
			require.False(t, a.answersAsUser(t, token))
			require.False(t, b.answersAsUser(t, token))
		})
	}
}

// Finding 10: logouts running while Sentinel fails the master over, on an
// instance that follows the failover (A) and on one that hears of it late
// (B). The tombstones written to the old master between the promotion and
// an instance's move to the new one are acknowledged and lost; each
// instance's sync that sees the new master clears the cache and writes the
// last minute's evictions again, so once both have, no logged-out token is
// answered by either.
func TestLogoutsDuringSentinelFailover(t *testing.T) {
	t.Parallel()
	// One after the other: two Sentinel set-ups failing over at once on a
	// loaded machine time out while they settle.
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) { logoutsDuringSentinelFailover(t, strategy) })
	}
}

func logoutsDuringSentinelFailover(t *testing.T, strategy string) {
	s := testenv.StartSentinel(t)
	db := sharedDB(t)
	prefix := testenv.RandomPrefix()
	in := newInstance(t, db, s.Client(t), prefix, withLogoutScope("session"), withStrategy(strategy))

	ctx := context.Background()
	// Instance B reaches the master through a proxy that the test moves to
	// the new master only after the old one is demoted, as go-redis's
	// failover client moves when the sentinels announce the switch. Until
	// then B's logouts are acknowledged by the old master, then lost, and
	// so are A's pending evictions that B's sync applies there.
	oldAddr, err := s.MasterAddr(ctx)
	require.NoError(t, err)
	proxy := testenv.NewProxy(t, oldAddr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = viaProxy.Close() })
	late := newInstance(t, db, viaProxy, prefix, withLogoutScope("session"), withStrategy(strategy))

	const n = 300
	tokens := make([]string, n)
	for i := range tokens {
		c := in.admin(t, "")
		c.Do(loginMutation, creds("superadmin", "superadmin"))
		tokens[i] = c.Token
		require.True(t, in.answersAsUser(t, c.Token)) // cached
	}
	require.NoError(t, in.app.Sessions.SyncCache(ctx)) // knows the master before the failover

	// A logs out the first half: two clients while the master fails over
	// (at most half of that half), the rest once the replica is promoted,
	// whether or not A's client has moved yet. Then B logs out the second
	// half, before the old master is demoted.
	var next, failed atomic.Int64
	promoted := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-promoted:
					return
				default:
				}
				i := next.Add(1) - 1
				if i >= n/4 {
					return
				}
				if !in.logout(t, tokens[i]) {
					failed.Add(1)
				}
			}
		})
	}
	oldMaster, newMaster := s.StartFailover(t)
	close(promoted)
	wg.Wait()
	require.Zero(t, failed.Load(), "logouts on A during the failover failed")
	for _, tok := range tokens[min(next.Load(), n/4) : n/2] {
		require.True(t, in.logout(t, tok), "a logout on A after the promotion failed")
	}
	for _, tok := range tokens[n/2:] {
		require.True(t, late.logout(t, tok), "a logout on B, still on the old master, failed")
	}
	s.Settle(t)
	t.Logf("failover %s -> %s", oldMaster, newMaster)

	// Tombstones missing on the new master now: B's, acknowledged by the
	// old master and lost, unless A's background sync saw the new master
	// after they were written.
	master := redis.NewClient(&redis.Options{Addr: newMaster})
	t.Cleanup(func() { _ = master.Close() })
	lost := 0
	for _, tok := range tokens {
		if v, _ := master.Get(ctx, prefix+session.HashToken(tok)).Result(); v != "!" {
			lost++
		}
	}
	t.Logf("tombstones missing on the new master after Settle: %d of %d", lost, n)

	// B hears of the failover.
	proxy.Refuse()
	proxy.Retarget(newMaster)
	proxy.Resume()
	require.NoError(t, in.app.Sessions.SyncCache(ctx))
	require.NoError(t, late.app.Sessions.SyncCache(ctx))
	// With memory tiers: each has applied what the other's sync announced
	// (or cleared its memory as its subscription moved to the new master).
	in.flushed(t)
	late.flushed(t)
	// The figures: every logout was answered, and after one sync round
	// of each instance no logged-out token is answered by either.
	fig := testenv.Outage{Name: "redis-failover", Backend: sharedBackend(strategy),
		Served: n - int(failed.Load()), Failed: int(failed.Load()), RecoverSeconds: in.app.CacheSync.Interval().Seconds()}
	survivors := map[string]int{}
	for name, inst := range map[string]*instance{"A": in, "B": late} {
		for _, tok := range tokens {
			if answerRevoked(t, &fig, inst, tok) {
				survivors[name]++
			}
		}
	}
	testenv.ReportOutage(t, fig)
	for name, n := range survivors {
		require.Zero(t, n, "logged-out tokens answered by %s after the failover", name)
	}
}

// heldWriteTimeout is SESSION_CACHE_TIMEOUT in TestLogoutsDuringRedisWritePause:
// how long a write that Redis holds waits before the instance gives up on
// the cache. Short, because every write during the hold waits that long;
// nothing the test asserts depends on it, since a cache call that fails
// for any other reason only sends the instance to the database.
const heldWriteTimeout = 200 * time.Millisecond

// Finding 11: logouts while Redis holds every write (CLIENT PAUSE … WRITE),
// then recovery with a large cache, while clients keep sending the
// logged-out tokens. None is ever answered as the user: the instance reads
// nothing from the cache from the first failed write until the outbox is
// applied, and the clear a channel change needs is one script.
func TestLogoutsDuringRedisWritePause(t *testing.T) {
	t.Parallel()
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			logoutsDuringRedisWritePause(t, strategy)
		})
	}
}

func logoutsDuringRedisWritePause(t *testing.T, strategy string) {
	r := testenv.StartRedis(t) // a Redis of the test's own: holding its writes disturbs no other test
	db := sharedDB(t)
	prefix := testenv.RandomPrefix()
	client := r.Client(t)
	in := newInstance(t, db, client, prefix, withLogoutScope("session"), withCacheTimeout(heldWriteTimeout), withStrategy(strategy))
	ctx := context.Background()

	// A large cache: 200,000 other keys under the prefix.
	for start := 0; start < 200_000; start += 10_000 {
		_, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < start+10_000; i++ {
				p.Set(ctx, prefix+"filler"+strconv.Itoa(i), "0|{}", time.Hour)
			}
			return nil
		})
		require.NoError(t, err)
	}

	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		c := in.admin(t, "")
		c.Do(loginMutation, creds("superadmin", "superadmin"))
		tokens[i] = c.Token
		require.True(t, in.answersAsUser(t, c.Token))
	}

	// Four clients keep sending the tokens logged out so far, from the
	// first logout until the end of the test.
	var (
		mu          sync.Mutex
		loggedOut   []string
		firstLogout = make(chan struct{})
		stop        = make(chan struct{})
		answered    atomic.Int64 // as the user: stale
		refused     atomic.Int64 // as a healthy server answers (refusal)
		failedMe    atomic.Int64
		hammer      sync.WaitGroup
	)
	for g := range 4 {
		hammer.Go(func() {
			select {
			case <-firstLogout:
			case <-stop:
				return
			}
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				tok := loggedOut[i%len(loggedOut)]
				mu.Unlock()
				r := in.admin(t, tok).Do(meQuery, nil)
				switch {
				case len(r.Errors) == 0 && strings.Contains(string(r.Data), "superadmin"):
					answered.Add(1)
				case refusal(r):
					refused.Add(1)
				default:
					failedMe.Add(1)
				}
			}
		})
	}
	stopHammer := sync.OnceFunc(func() { close(stop); hammer.Wait() })
	t.Cleanup(stopHammer)

	release := r.HoldWrites(t)
	for i, tok := range tokens {
		require.True(t, in.logout(t, tok), "a logout while Redis holds writes failed")
		mu.Lock()
		loggedOut = append(loggedOut, tok)
		mu.Unlock()
		if i == 0 {
			close(firstLogout)
		}
	}
	pending, err := pendingEvictions(db)
	require.NoError(t, err)
	require.Equal(t, n, pending, "every eviction waits in the outbox while Redis holds writes")

	// Once Redis takes writes again, the background sync applies them:
	// the rounds are counted (the first may have begun before the release).
	rounds := &in.app.CacheSync.TestSignals.Synced
	rounds.Discard()
	release()
	applied := 0
	for {
		pending, err := pendingEvictions(db)
		require.NoError(t, err)
		if pending == 0 {
			break
		}
		require.Less(t, applied, syncGuardRounds, "the evictions were never applied")
		rounds.WaitOrTimeout()
		applied++
	}
	require.NoError(t, in.app.Sessions.SyncCache(ctx))
	for _, tok := range tokens {
		v, err := client.Get(ctx, prefix+session.HashToken(tok)).Result()
		require.NoError(t, err)
		require.Equal(t, "!", v, "the tombstone is in Redis")
		require.False(t, in.answersAsUser(t, tok))
	}
	stopHammer()
	// The figures: the logouts and the clients' requests, from the first
	// logout until now.
	testenv.ReportOutage(t, testenv.Outage{Name: "redis-write-pause", Backend: sharedBackend(strategy),
		Served: n + int(refused.Load()), Failed: int(failedMe.Load()), Stale: int(answered.Load()),
		RecoverSeconds: float64(applied) * in.app.CacheSync.Interval().Seconds()})
	require.Zero(t, answered.Load(), "logged-out tokens answered as the user while Redis held writes and after")
}
