package e2e_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
)

// With SESSION_CACHE_STRATEGY=redis+memory each instance answers from its
// own memory; what another instance revokes or rewrites reaches that
// memory through Redis pub/sub, and an instance cut from Redis stops
// answering from it at its next sync round. These tests hold the instances
// on a fake clock (so the memory tier's lease never ends by itself) and
// stop the background sync of the instance they watch, so that pub/sub is
// the only way a change reaches its memory.

// newMemoryTierPair starts instances A and B with redis+memory on one
// database and one Redis key prefix, A on client and B on bClient, both on
// clock; B's background sync is stopped.
func newMemoryTierPair(t *testing.T, client, bClient redis.UniversalClient, clock *testenv.Clock, opts ...envOption) (a, b *instance) {
	t.Helper()
	db := sharedDB(t)
	prefix := testenv.RandomPrefix()
	opts = append(opts, withStrategy(config.CacheRedisMemory))
	a = newInstanceWith(t, app.Options{DB: db, Redis: client, RedisKeyPrefix: prefix, NowFunc: clock.Now}, opts...)
	b = newInstanceWith(t, app.Options{DB: db, Redis: bClient, RedisKeyPrefix: prefix, NowFunc: clock.Now}, opts...)
	b.app.CacheSync.Stop()
	return a, b
}

// secondClient returns another client of the Redis behind client (mr when
// it is a miniredis).
func secondClient(t *testing.T, mr *miniredis.Miniredis) redis.UniversalClient {
	t.Helper()
	if mr == nil {
		c, _ := testenv.Redis(t)
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// loginOnAServedFromBsMemory logs the superadmin in on A and has B answer
// the token twice, the second time from its memory tier; it returns the
// token.
func loginOnAServedFromBsMemory(t *testing.T, a, b *instance) string {
	t.Helper()
	login := a.admin(t, "")
	login.Do(loginMutation, creds("superadmin", "superadmin"))
	token := login.Token
	b.delivered(t, session.HashToken(token)) // A's login wrote it
	require.True(t, b.answersAsUser(t, token))
	hits := b.memoryHits()
	require.True(t, b.answersAsUser(t, token))
	require.Equal(t, hits+1, b.memoryHits(), "B answered from its memory tier")
	return token
}

// A logout on A is refused by B on B's next request once B has applied
// A's announcement (B's signal, waited for); until then B answered the
// token from its memory, and nothing but the announcement reaches it.
func TestRevocationReachesAnotherInstancesMemory(t *testing.T) {
	t.Parallel()
	client, mr := testenv.Redis(t)
	a, b := newMemoryTierPair(t, client, secondClient(t, mr), testenv.NewClock())
	token := loginOnAServedFromBsMemory(t, a, b)

	require.True(t, a.logout(t, token))
	b.delivered(t, session.HashToken(token))
	require.False(t, b.answersAsUser(t, token), "B answered a token logged out on A from its memory")
	require.False(t, a.answersAsUser(t, token))
}

// A change to a session on A (a guest's first cart line gives it an active
// order) reaches B's memory too: B answers the new active order, not the
// copy it kept.
func TestSessionChangeReachesAnotherInstancesMemory(t *testing.T) {
	t.Parallel()
	client, mr := testenv.Redis(t)
	a, b := newMemoryTierPair(t, client, secondClient(t, mr), testenv.NewClock())
	onA := testenv.NewClient(t, a.shopURL, testenv.Bearer)
	require.Empty(t, onA.Do(activeCustomerQuery, nil).Errors) // a guest, in the cache only
	require.NotEmpty(t, onA.Token)
	b.delivered(t, session.HashToken(onA.Token))
	onB := testenv.NewClient(t, b.shopURL, testenv.Bearer)
	onB.Token = onA.Token
	for range 2 {
		require.Nil(t, orderField(t, onB.Do(activeOrderQuery, nil), "activeOrder"))
	}
	require.Positive(t, b.memoryHits(), "B answered the guest from its memory tier")

	order := orderField(t, onA.Do(addItemMutation, map[string]any{"productVariantId": "1", "quantity": 1}), "addItemToOrder")
	require.NotNil(t, order)
	b.flushed(t) // every announcement of A's request is applied on B
	got := orderField(t, onB.Do(activeOrderQuery, nil), "activeOrder")
	require.NotNil(t, got, "B answered the guest's session as it was before A gave it an order")
	require.Equal(t, order.Code, got.Code)
	require.Equal(t, onA.Token, onB.Token)
}

// B is cut from Redis after it cached a session; A logs it out, and B
// cannot hear of it. B answers the token from its memory until the first
// of: its next sync round (the probe fails), the end of the memory tier's
// lease (the sync did not run), or an error on its subscription. That is
// the whole window; each case reports it (testenv.ReportOutage): one sync
// round, the lease on the test's clock, or no time at all.
func TestPartitionedInstanceStopsAnsweringFromMemory(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cut  func(p *testenv.Proxy)
		// end ends the window and returns its length in seconds (see
		// testenv.Outage.RecoverSeconds).
		end func(t *testing.T, b *instance, clock *testenv.Clock) float64
	}{
		{"sync round", (*testenv.Proxy).Stall, func(t *testing.T, b *instance, _ *testenv.Clock) float64 {
			require.NoError(t, b.app.Sessions.SyncCache(context.Background()))
			return b.app.CacheSync.Interval().Seconds()
		}},
		{"lease ends", (*testenv.Proxy).Stall, func(t *testing.T, _ *instance, clock *testenv.Clock) float64 {
			clock.Advance(redisstore.DefaultLease)
			return redisstore.DefaultLease.Seconds()
		}},
		{"subscription fails", (*testenv.Proxy).Refuse, func(t *testing.T, b *instance, _ *testenv.Clock) float64 {
			for b.app.Tiered.TestSignals.InUse.WaitOrTimeout() {
			}
			return 0
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			direct, mr := testenv.Redis(t)
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
			clock := testenv.NewClock()
			// B's calls to the stalled Redis give up quickly.
			a, b := newMemoryTierPair(t, direct, viaProxy, clock, withCacheTimeout(200*time.Millisecond))
			token := loginOnAServedFromBsMemory(t, a, b)
			fig := testenv.Outage{Name: "partition-" + strings.ReplaceAll(c.name, " ", "-"), Backend: sharedBackend(config.CacheRedisMemory)}

			c.cut(proxy)
			loggedOut := a.logout(t, token)
			tallyOK(&fig, loggedOut)
			require.True(t, loggedOut)
			if c.name != "subscription fails" {
				// The window: B has heard nothing, and its memory answers.
				require.True(t, answerRevoked(t, &fig, b, token), "the test's partition did not hide the logout from B")
			}
			fig.RecoverSeconds = c.end(t, b, clock)
			stale := answerRevoked(t, &fig, b, token)
			testenv.ReportOutage(t, fig)
			require.False(t, stale, "B answered a logged-out token from its memory after the window")
			require.False(t, b.app.Tiered.InUse())
		})
	}
}

// tallyOK counts a request in fig: served if ok, failed otherwise.
func tallyOK(fig *testenv.Outage, ok bool) {
	if ok {
		fig.Served++
	} else {
		fig.Failed++
	}
}

// answerRevoked sends me with a revoked token to in and counts the answer
// in fig: stale when in answers as the token's user (and then it returns
// true), served when it refuses it as a healthy server does (refusal),
// failed otherwise.
func answerRevoked(t *testing.T, fig *testenv.Outage, in *instance, token string) bool {
	r := in.admin(t, token).Do(meQuery, nil)
	switch {
	case len(r.Errors) == 0 && strings.Contains(string(r.Data), "superadmin"):
		fig.Stale++
		return true
	case refusal(r):
		fig.Served++
	default:
		fig.Failed++
	}
	return false
}

// refusal reports whether r is how a healthy server refuses a revoked
// token: FORBIDDEN, or TOO_MANY_REQUESTS once the token was sent too often
// (the throttle counts unknown tokens).
func refusal(r *testenv.Response) bool {
	return r.ErrorCode() == "FORBIDDEN" || r.ErrorCode() == "TOO_MANY_REQUESTS"
}

// sharedBackend names the backend of instances on sharedDB with a cache
// strategy, as in testenv.Outage.
func sharedBackend(strategy string) string {
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		return "postgres+" + strategy
	}
	return "sqlite+" + strategy
}
