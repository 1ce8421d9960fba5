package service_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
)

// revocationCaches are the cache strategies the revocation tests run on:
// memory, and Redis (the real one when TEST_REDIS_URL is set, else
// miniredis).
func revocationCaches(t *testing.T) map[string]func(t *testing.T) sessioncache.Strategy {
	return map[string]func(t *testing.T) sessioncache.Strategy{
		"memory": func(t *testing.T) sessioncache.Strategy {
			m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10000})
			require.NoError(t, err)
			return m
		},
		"redis": func(t *testing.T) sessioncache.Strategy {
			client, _ := testenv.Redis(t)
			r := redisstore.New(client, redisstore.Options{KeyPrefix: testenv.RandomPrefix(), OperationTimeout: 5 * time.Second}) // generous under -race: a timed-out write would only be a miss
			t.Cleanup(func() { _ = r.Purge(context.Background()) })
			return r
		},
		"redis+memory": func(t *testing.T) sessioncache.Strategy {
			client, _ := testenv.Redis(t)
			r := redisstore.New(client, redisstore.Options{KeyPrefix: testenv.RandomPrefix(), OperationTimeout: 5 * time.Second})
			m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10000})
			require.NoError(t, err)
			// The clock of the bundle at its start: entries are fresh to
			// the memory tier (the service decides staleness with its
			// own), and the tier's lease does not end.
			tiered := redisstore.NewTiered(r, m, redisstore.TieredOptions{NowFunc: testenv.NewClock().Now, Logger: discardLog})
			require.NoError(t, tiered.Start(context.Background()))
			t.Cleanup(tiered.Stop)
			require.NoError(t, tiered.Confirm(context.Background()))
			t.Cleanup(func() { _ = tiered.Purge(context.Background()) })
			return tiered
		},
	}
}

// eachDBAndCache runs f with a fresh bundle on every database and cache
// strategy (behind the bundle's spy), in parallel.
func eachDBAndCache(t *testing.T, f func(t *testing.T, b *testBundle)) {
	for name, newCache := range revocationCaches(t) {
		t.Run(name, func(t *testing.T) {
			eachDB(t, bundleOpts{NewCache: newCache}, f)
		})
	}
}

// The race of finding 2, forced: a login's after-commit cache write is held
// until a logout-everywhere has deleted the new session and revoked its key;
// then it lands. The token must stay dead. Likewise for a lookup that read
// the session from the database just before the logout.
func TestRevocationBeatsInFlightCacheWrites(t *testing.T) {
	t.Parallel()
	eachDBAndCache(t, func(t *testing.T, b *testBundle) {
		uid := b.superadminUserID

		// logoutBeforeNextSet runs a logout-everywhere once, in the window
		// between the next cache write's database read and the write itself.
		logoutBeforeNextSet := func() {
			b.cache.OnSet(func(string) {
				b.cache.OnSet(nil)
				require.NoError(t, b.sessions.DeleteSessionsByUser(b.ctx, uid))
			})
		}
		logoutBeforeNextSet()
		cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
		_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound, "a login's late cache write revived a logged-out session")

		// The miss path: the entry is gone (say it expired from the cache),
		// a lookup reads the row, the logout runs, then the lookup writes.
		cs = b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
		require.NoError(t, b.cache.Delete(b.ctx, "unrelated")) // any revocation in between must not matter
		b.clock.Advance(301 * time.Second)                     // the entry is stale: the next lookup reads the row
		logoutBeforeNextSet()
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token) // answers from its read; the write is what matters
		require.NoError(t, err)
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound, "a lookup's late cache write revived a logged-out session")
	})
}

// Finding 2 as it was found: logins in parallel with logout-everywhere for
// the same user, thousands of times; after the final logout no token is
// accepted. Run with -race in CI.
func TestRevocationStress(t *testing.T) {
	t.Parallel()
	iterations := 2000
	if testing.Short() || os.Getenv("REVOCATION_STRESS_ITERATIONS") == "small" {
		iterations = 200
	}
	eachDBAndCache(t, func(t *testing.T, b *testBundle) {
		uid := b.superadminUserID
		var (
			mu     sync.Mutex
			tokens []string
			next   atomic.Int64
			wg     sync.WaitGroup
		)
		const logins, logouts = 4, 2
		for range logins {
			wg.Go(func() {
				for next.Add(1) <= int64(iterations) {
					cs, err := b.sessions.CreateNewAuthenticatedSession(b.ctx, session.NewAuthenticatedSession{
						UserID: uid, AuthenticationStrategy: account.NativeStrategyName,
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					tokens = append(tokens, cs.Token)
					mu.Unlock()
					// A request with the new token, as a storefront sends
					// right after login: a cache hit or a miss-path write.
					_, _ = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				}
			})
		}
		stop := make(chan struct{})
		var logoutsDone sync.WaitGroup
		for range logouts {
			logoutsDone.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := b.sessions.DeleteSessionsByUser(b.ctx, uid); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		logoutsDone.Wait()
		require.NoError(t, b.sessions.DeleteSessionsByUser(b.ctx, uid))

		require.Len(t, tokens, iterations)
		survivors := 0
		for _, tok := range tokens {
			if _, err := b.sessions.GetSessionFromToken(b.ctx, tok); err == nil {
				survivors++
			}
		}
		require.Zero(t, survivors, "tokens still accepted after the final logout, of %d", len(tokens))
	})
}
