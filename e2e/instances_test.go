package e2e_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
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
	app *app.App
	url string
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
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(context.Background(), cfg, appOpts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	a.CacheSync.TestSignals.Init(t)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &instance{app: a, url: srv.URL + app.AdminPath}
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

// pendingEvictions counts the outbox rows no sync has applied yet.
func pendingEvictions(t *testing.T, db *bun.DB) int {
	t.Helper()
	var pending int
	require.NoError(t, db.NewRaw("SELECT count(*) FROM session_cache_outbox WHERE applied_at IS NULL").Scan(context.Background(), &pending))
	return pending
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
// answers the token with FORBIDDEN too.
func TestEvictionIsNotLostBetweenInstances(t *testing.T) {
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
	a := newInstance(t, db, viaProxy, prefix)
	b := newInstance(t, db, direct, prefix)

	login := a.admin(t, "")
	login.Do(loginMutation, creds("superadmin", "superadmin"))
	token := login.Token
	require.True(t, b.answersAsUser(t, token))
	require.True(t, b.answersAsUser(t, token), "now from B's cache")

	proxy.Refuse()
	r := a.admin(t, token).Do(logoutMutation, nil)
	require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
	require.False(t, a.answersAsUser(t, token), "A reads nothing from a cache it cannot reach")

	// B's background sync (every second) applies A's pending eviction, and
	// then stamps it applied: one round of it does.
	b.synced(t)
	require.False(t, b.answersAsUser(t, token), "B still answers a logged-out token from Redis")
	require.Zero(t, pendingEvictions(t, db), "B applied and stamped the eviction")

	proxy.Resume()
	require.NoError(t, a.app.Sessions.SyncCache(context.Background()))
	require.False(t, a.answersAsUser(t, token))
	require.False(t, b.answersAsUser(t, token))
}

// Finding 10: logouts running while Sentinel fails the master over. The
// tombstones written to the old master between the promotion and the
// client's switch are acknowledged and lost; the sync that sees the new
// master clears the cache and writes the last minute's evictions again, so
// no logged-out token is answered afterwards.
func TestLogoutsDuringSentinelFailover(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	db := sharedDB(t)
	prefix := testenv.RandomPrefix()
	in := newInstance(t, db, s.Client(t), prefix, withLogoutScope("session"))

	ctx := context.Background()
	// Instance B has not heard of the failover yet: its client stays on the
	// old master, as go-redis's failover client does until the sentinels
	// announce the switch. Its logouts are acknowledged there, then lost.
	oldAddr, err := s.MasterAddr(ctx)
	require.NoError(t, err)
	pinned := redis.NewClient(&redis.Options{Addr: oldAddr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = pinned.Close() })
	late := newInstance(t, db, pinned, prefix, withLogoutScope("session"))

	const n = 300
	tokens := make([]string, n)
	for i := range tokens {
		c := in.admin(t, "")
		c.Do(loginMutation, creds("superadmin", "superadmin"))
		tokens[i] = c.Token
		require.True(t, in.answersAsUser(t, c.Token)) // cached
	}
	require.NoError(t, in.app.Sessions.SyncCache(ctx)) // knows the master before the failover

	// The first half logs out on A while the master fails over; the second
	// half on B between the promotion and the demotion of the old master.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= n/2 {
					return
				}
				in.admin(t, tokens[i]).Do(logoutMutation, nil)
				time.Sleep(10 * time.Millisecond) // spread the logouts over the failover
			}
		})
	}
	oldMaster, newMaster := s.StartFailover(t)
	wg.Wait()
	for _, tok := range tokens[n/2:] {
		r := late.admin(t, tok).Do(logoutMutation, nil)
		require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
	}
	s.Settle(t)
	t.Logf("failover %s -> %s", oldMaster, newMaster)

	// Tombstones missing on the new master now. B's were acknowledged by the
	// old master and lost; A's background sync, having seen the new master,
	// may already have written them again (it usually has: Settle waits for
	// Sentinel's ~10 s demotion).
	master := redis.NewClient(&redis.Options{Addr: newMaster})
	t.Cleanup(func() { _ = master.Close() })
	lost := 0
	for _, tok := range tokens {
		if v, _ := master.Get(ctx, prefix+session.HashToken(tok)).Result(); v != "!" {
			lost++
		}
	}
	t.Logf("tombstones missing on the new master after Settle: %d of %d", lost, n)

	require.NoError(t, in.app.Sessions.SyncCache(context.Background()))
	survivors := 0
	for _, tok := range tokens {
		if in.answersAsUser(t, tok) {
			survivors++
		}
	}
	require.Zero(t, survivors, "logged-out tokens answered after the failover")
}

// Finding 11: logouts during a Redis write pause (CLIENT PAUSE … WRITE),
// then recovery with a large cache, while clients keep sending the
// logged-out tokens. None is ever answered as the user: the instance reads
// nothing from the cache from the first failed write until the outbox is
// applied, and the clear a channel change needs is one INCR.
func TestLogoutsDuringRedisWritePause(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t) // a Redis of the test's own, so pausing it disturbs no other test
	db := sharedDB(t)
	prefix := testenv.RandomPrefix()
	client := s.Client(t)
	in := newInstance(t, db, client, prefix, withLogoutScope("session"))
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

	var answered atomic.Int64
	stop := make(chan struct{})
	var hammer sync.WaitGroup
	for g := range 4 {
		hammer.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := tokens[i%n]
				if loggedOut(tok) && in.answersAsUser(t, tok) {
					answered.Add(1)
				}
			}
		})
	}

	// The background sync is held until the logouts are done: a round
	// after the pause would otherwise apply the evictions the pause held
	// back before they are counted, however the logouts' pace falls.
	in.app.CacheSync.Stop()
	// 700 ms: the sentinels' own writes (hello messages) are paused too,
	// and a pause near their down-after-milliseconds (1 s) makes them fail
	// the master over, which is TestLogoutsDuringSentinelFailover's case.
	require.NoError(t, s.PauseWrites(ctx, 700*time.Millisecond))
	for _, tok := range tokens {
		r := in.admin(t, tok).Do(logoutMutation, nil)
		require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
		markLoggedOut(tok)
	}
	require.Positive(t, pendingEvictions(t, db), "the pause did not stop an eviction: the test proves nothing")
	// Past the pause, the background sync brings the cache back: a round
	// that meets the pause fails, the first one after it applies every
	// eviction. The bound on rounds is a hang guard.
	rounds := &in.app.CacheSync.TestSignals.Synced
	rounds.Discard()
	require.NoError(t, in.app.CacheSync.Start(context.Background())) // Close stops it
	for round := 0; pendingEvictions(t, db) > 0; round++ {
		require.Less(t, round, syncGuardRounds, "the evictions were never applied")
		rounds.WaitOrTimeout()
	}
	require.NoError(t, in.app.Sessions.SyncCache(ctx))
	for _, tok := range tokens {
		require.False(t, in.answersAsUser(t, tok))
	}
	close(stop)
	hammer.Wait()
	require.Zero(t, answered.Load(), "logged-out tokens answered as the user during the pause and the recovery")
}

var loggedOutTokens sync.Map

func markLoggedOut(tok string)  { loggedOutTokens.Store(tok, true) }
func loggedOut(tok string) bool { _, ok := loggedOutTokens.Load(tok); return ok }
