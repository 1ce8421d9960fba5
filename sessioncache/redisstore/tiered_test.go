package redisstore_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// tieredEpoch is the start of the Tiereds' clock in these tests: before
// the CacheExpiry of the conformance kit's sessions, so they are fresh and
// the memory tier answers them.
var tieredEpoch = time.Unix(1767300000, 0)

// quiet is the Tiereds' logger: their lines about the memory tier are
// expected here.
var quiet = slog.New(slog.DiscardHandler)

// testClock is a clock that a test advances.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(tieredEpoch.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// tieredFixture is one process's Tiered on a shared Redis key prefix.
type tieredFixture struct {
	*redisstore.Tiered
	clock  *testClock
	client redis.UniversalClient
}

// newTiered starts a Tiered on client under prefix (with a memory of 1000
// entries and the test operation timeout), waits until its memory tier is
// in use, and stops it when the test ends.
func newTiered(t *testing.T, client redis.UniversalClient, mr *miniredis.Miniredis, prefix string) *tieredFixture {
	t.Helper()
	store := newTestRedis(t, client, mr, redisstore.Options{KeyPrefix: prefix})
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1000})
	require.NoError(t, err)
	f := &tieredFixture{clock: newTestClock(), client: client}
	f.Tiered = redisstore.NewTiered(store, mem, redisstore.TieredOptions{NowFunc: f.clock.Now, Logger: quiet})
	f.TestSignals.Init(t)
	require.NoError(t, f.Start(context.Background()))
	t.Cleanup(f.Stop)
	require.True(t, f.TestSignals.InUse.WaitOrTimeout(), "the memory tier comes into use")
	require.True(t, f.InUse())
	return f
}

// anotherClient returns a new client of the Redis behind mr (a miniredis),
// or of TEST_REDIS_URL's.
func anotherClient(t *testing.T, mr *miniredis.Miniredis) redis.UniversalClient {
	t.Helper()
	if mr == nil {
		c, _ := testenv.Redis(t)
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// redisAddr returns the address and database number of client's server.
func redisAddr(client redis.UniversalClient) (string, int) {
	o := client.(*redis.Client).Options()
	return o.Addr, o.DB
}

// eachRedis runs f on miniredis, and on TEST_REDIS_URL's server when it is
// set.
func eachRedis(t *testing.T, f func(t *testing.T, newClient newRedisClientFunc)) {
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		f(t, testenv.Miniredis)
	})
	t.Run("redis", func(t *testing.T) {
		if os.Getenv(testenv.RedisURLEnv) == "" {
			t.Skipf("%s is not set", testenv.RedisURLEnv)
		}
		t.Parallel()
		f(t, testenv.Redis)
	})
}

func TestTieredConforms(t *testing.T) {
	t.Parallel()
	eachRedis(t, func(t *testing.T, newClient newRedisClientFunc) {
		sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
			client, mr := newClient(t)
			return newTiered(t, client, mr, testenv.RandomPrefix()).Tiered
		})
	})
}

// Two processes on one key prefix, each with its memory tier: what one
// writes, revokes or clears, the other stops answering from its memory
// once the announcement is applied (a signal, waited for), and the fill of
// a Get that read Redis before the announcement does not land after it.
func TestTieredAnnouncements(t *testing.T) {
	t.Parallel()
	eachRedis(t, func(t *testing.T, newClient newRedisClientFunc) {
		ctx := context.Background()
		client, mr := newClient(t)
		prefix := testenv.RandomPrefix()
		a := newTiered(t, client, mr, prefix)
		b := newTiered(t, anotherClient(t, mr), mr, prefix)

		// B reads from Redis once, then from its memory.
		require.NoError(t, a.Set(ctx, "k", sessioncachetest.FullSession(), a.Generation()))
		requireAnnounced(t, b, "k")
		for range 2 {
			got, err := b.Get(ctx, "k")
			require.NoError(t, err)
			sessioncachetest.RequireSessionEqual(t, sessioncachetest.FullSession(), got, "B")
		}
		require.EqualValues(t, 1, b.Stats().MemoryHits)

		// A rewrites it: B's copy is dropped, B reads the new value.
		require.NoError(t, a.Set(ctx, "k", sessioncachetest.AnonymousSession(), a.Generation()))
		requireAnnounced(t, b, "k")
		got, err := b.Get(ctx, "k")
		require.NoError(t, err)
		sessioncachetest.RequireSessionEqual(t, sessioncachetest.AnonymousSession(), got, "B after A's write")

		// A revokes it.
		hits := b.Stats().MemoryHits
		_, _ = b.Get(ctx, "k")
		require.Equal(t, hits+1, b.Stats().MemoryHits, "in B's memory before the revocation")
		require.NoError(t, a.Delete(ctx, "k", "other"))
		requireAnnounced(t, b, "k", "other")
		got, err = b.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "B answers a revoked key")

		// A clears.
		require.NoError(t, a.Set(ctx, "c", sessioncachetest.FullSession(), a.Generation()))
		requireAnnounced(t, b, "c")
		_, _ = b.Get(ctx, "c")
		require.NoError(t, a.Clear(ctx))
		require.True(t, b.TestSignals.Applied.WaitOrTimeout().Clear)
		got, err = b.Get(ctx, "c")
		require.NoError(t, err)
		require.Nil(t, got, "B answers a cleared key")

		// B's Get reads the entry from Redis; before it can keep a copy,
		// A revokes the key and B applies the announcement. The copy is
		// refused: B does not answer the key from its memory.
		require.NoError(t, a.Set(ctx, "r", sessioncachetest.FullSession(), a.Generation()))
		requireAnnounced(t, b, "r")
		var once atomic.Bool
		b.client.AddHook(afterCommand{name: "mget", f: func() {
			if once.CompareAndSwap(false, true) {
				require.NoError(t, a.Delete(ctx, "r"))
				requireAnnounced(t, b, "r")
			}
		}})
		got, err = b.Get(ctx, "r")
		require.NoError(t, err)
		require.NotNil(t, got, "the Get read the entry before the revocation")
		hits = b.Stats().MemoryHits
		got, err = b.Get(ctx, "r")
		require.NoError(t, err)
		require.Nil(t, got, "the copy read before the revocation landed in B's memory after it")
		require.Equal(t, hits, b.Stats().MemoryHits)
		require.Zero(t, a.Stats().Applied, "a process skips its own announcements")
	})
}

// requireAnnounced waits until f applied an announcement of keys.
func requireAnnounced(t *testing.T, f *tieredFixture, keys ...string) {
	t.Helper()
	got := f.TestSignals.Applied.WaitOrTimeout()
	require.False(t, got.Clear)
	require.Equal(t, keys, got.Keys)
}

// afterCommand is a go-redis hook that runs f after each command named
// name (lower case) returns.
type afterCommand struct {
	name string
	f    func()
}

func (h afterCommand) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h afterCommand) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cmd.Name() == h.name {
			h.f()
		}
		return err
	}
}

func (h afterCommand) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A Set whose generation predates a revocation or a Clear leaves nothing
// readable in either tier, and the memory tier never answers what Redis
// would not.
func TestTieredRefusedWritesLeaveNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	f := newTiered(t, client, mr, testenv.RandomPrefix())
	require.NoError(t, f.Set(ctx, "k", sessioncachetest.FullSession(), f.Generation()))
	_, _ = f.Get(ctx, "k")
	before := f.Generation()
	require.NoError(t, f.Delete(ctx, "k"))
	require.NoError(t, f.Set(ctx, "k", sessioncachetest.FullSession(), before))
	for range 2 { // the second would be the memory's
		got, err := f.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
	}
	require.NoError(t, f.Store().Set(ctx, "k", sessioncachetest.AnonymousSession(), f.Generation()))
	_, _ = f.Get(ctx, "k")
	before = f.Generation()
	require.NoError(t, f.Clear(ctx))
	require.NoError(t, f.Set(ctx, "k", sessioncachetest.FullSession(), before))
	for range 2 {
		got, err := f.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
	}
}

// While its subscription is cut, a process does not answer from its
// memory; the memory is cleared, and cleared again when the subscription
// is back, before it is used.
func TestTieredSubscriptionCut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Redis(t)
	addr, db := "", 0
	if mr != nil {
		addr = mr.Addr()
	} else {
		addr, db = redisAddr(client)
	}
	proxy := testenv.NewProxy(t, addr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.Addr(), DB: db, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = viaProxy.Close() })
	prefix := testenv.RandomPrefix()
	a := newTiered(t, client, mr, prefix)
	b := newTiered(t, viaProxy, mr, prefix)
	require.NoError(t, a.Set(ctx, "k", sessioncachetest.FullSession(), a.Generation()))
	requireAnnounced(t, b, "k")
	_, _ = b.Get(ctx, "k")

	proxy.Refuse()
	require.False(t, b.TestSignals.InUse.WaitOrTimeout(), "the memory tier is bypassed when the subscription fails")
	require.False(t, b.InUse())
	require.NoError(t, a.Delete(ctx, "k")) // B does not hear of it
	got, err := b.Get(ctx, "k")
	require.Error(t, err, "B reads Redis, which it cannot reach")
	require.Nil(t, got)

	proxy.Resume()
	require.True(t, b.TestSignals.InUse.WaitOrTimeout(), "in use again once resubscribed")
	got, err = b.Get(ctx, "k")
	require.NoError(t, err)
	require.Nil(t, got)
	require.EqualValues(t, 1, b.Stats().Bypasses)
}

// A subscription that stops answering while Redis's commands still work
// (its own connection stalls): the next Probe's marker does not come back, the
// memory tier is cleared and bypassed, reads go to Redis, and a new
// subscription puts it back in use.
func TestTieredStalledSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	proxy := testenv.NewProxy(t, mr.Addr())
	var dials atomic.Int64 // the first connection, the subscription's, goes through the proxy
	var d net.Dialer
	b := redis.NewClient(&redis.Options{
		Addr: mr.Addr(), ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 1 {
				addr = proxy.Addr()
			}
			return d.DialContext(ctx, network, addr)
		},
	})
	t.Cleanup(func() { _ = b.Close() })
	prefix := testenv.RandomPrefix()
	store := redisstore.New(b, redisstore.Options{KeyPrefix: prefix, OperationTimeout: 200 * time.Millisecond})
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10})
	require.NoError(t, err)
	clock := newTestClock()
	tiered := redisstore.NewTiered(store, mem, redisstore.TieredOptions{NowFunc: clock.Now, Logger: quiet})
	tiered.TestSignals.Init(t)
	require.NoError(t, tiered.Start(ctx))
	t.Cleanup(tiered.Stop)
	require.True(t, tiered.TestSignals.InUse.WaitOrTimeout()) // subscribed through the proxy

	a := newTiered(t, client, mr, prefix)
	require.NoError(t, a.Set(ctx, "k", sessioncachetest.FullSession(), a.Generation()))
	require.Equal(t, []string{"k"}, tiered.TestSignals.Applied.WaitOrTimeout().Keys)
	_, _ = tiered.Get(ctx, "k")
	_, _ = tiered.Get(ctx, "k")
	require.EqualValues(t, 1, tiered.Stats().MemoryHits)

	proxy.Stall()
	_, err = tiered.Probe(ctx)
	require.NoError(t, err, "Redis answers: the probe succeeds")
	require.False(t, tiered.InUse(), "the marker that did not come back bypassed the memory tier")
	require.NoError(t, a.Delete(ctx, "k"))
	got, err := tiered.Get(ctx, "k")
	require.NoError(t, err)
	require.Nil(t, got, "read from Redis")

	// The probe restarted the subscription, on a direct connection.
	for !tiered.TestSignals.InUse.WaitOrTimeout() {
	}
	require.NoError(t, a.Set(ctx, "k", sessioncachetest.FullSession(), a.Generation()))
	require.NoError(t, tiered.Confirm(ctx)) // the announcement is applied
	_, _ = tiered.Get(ctx, "k")
	_, _ = tiered.Get(ctx, "k")
	require.EqualValues(t, 2, tiered.Stats().MemoryHits, "in use again")
}

// A failed probe bypasses the memory tier at once; so does the end of the
// lease without a marker back (the sync did not run), and a marker back
// on the same subscription renews it.
func TestTieredProbeAndLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	f := newTiered(t, client, mr, testenv.RandomPrefix())
	require.NoError(t, f.Set(ctx, "k", sessioncachetest.FullSession(), f.Generation()))
	_, _ = f.Get(ctx, "k")

	f.clock.Advance(redisstore.DefaultLease)
	require.False(t, f.InUse(), "the lease ended")
	_, _ = f.Get(ctx, "k")
	require.Zero(t, f.Stats().MemoryHits, "read from Redis once the lease ended")
	_, err := f.Probe(ctx)
	require.NoError(t, err)
	require.True(t, f.InUse(), "the probe's marker renewed the lease")
	_, _ = f.Get(ctx, "k")
	require.EqualValues(t, 1, f.Stats().MemoryHits, "the copy survives a renewal on the same subscription")

	mr.SetError("LOADING Redis is loading the dataset in memory")
	_, err = f.Probe(ctx)
	require.Error(t, err)
	require.False(t, f.InUse())
	mr.SetError("")
	_, err = f.Probe(ctx)
	require.NoError(t, err)
	require.True(t, f.InUse())
	_, _ = f.Get(ctx, "k")
	require.EqualValues(t, 1, f.Stats().MemoryHits, "the failed probe cleared the memory")
}

// When Redis fails a revocation or a Clear, this process's memory drops
// the keys all the same, and the error is returned (for the outbox).
func TestTieredRedisFailureStillDropsLocally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	f := newTiered(t, client, mr, testenv.RandomPrefix())
	for _, k := range []string{"a", "b"} {
		require.NoError(t, f.Set(ctx, k, sessioncachetest.FullSession(), f.Generation()))
		_, _ = f.Get(ctx, k)
	}
	mr.SetError("READONLY You can't write against a read only replica.")
	require.Error(t, f.Delete(ctx, "a"))
	require.Error(t, f.Clear(ctx))
	mr.SetError("")
	// Redis still holds both; the memory holds neither.
	_, _ = f.Get(ctx, "a")
	_, _ = f.Get(ctx, "b")
	require.Zero(t, f.Stats().MemoryHits)
}

// An announcement that cannot be read (another format) clears the memory.
func TestTieredUnreadableAnnouncementClears(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	prefix := testenv.RandomPrefix()
	f := newTiered(t, client, mr, prefix)
	require.NoError(t, f.Set(ctx, "k", sessioncachetest.FullSession(), f.Generation()))
	_, _ = f.Get(ctx, "k")
	require.NoError(t, client.Publish(ctx, prefix+"invalidations", "2|someone|e|1:k").Err())
	require.True(t, f.TestSignals.Applied.WaitOrTimeout().Clear)
	_, _ = f.Get(ctx, "k")
	require.Zero(t, f.Stats().MemoryHits)
}

// Every write of a plain Store is announced too, so processes running
// "redis" and "redis+memory" can share a Redis.
func TestStoreAnnouncesWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	prefix := testenv.RandomPrefix()
	f := newTiered(t, client, mr, prefix)
	plain := newTestRedis(t, anotherClient(t, mr), mr, redisstore.Options{KeyPrefix: prefix})
	require.NoError(t, plain.Set(ctx, "k", sessioncachetest.FullSession(), plain.Generation()))
	requireAnnounced(t, f, "k")
	require.NoError(t, plain.Delete(ctx, "k", "l"))
	requireAnnounced(t, f, "k", "l")
	require.NoError(t, plain.Clear(ctx))
	require.True(t, f.TestSignals.Applied.WaitOrTimeout().Clear)
	before := plain.Generation()
	require.NoError(t, plain.Delete(ctx, "k"))
	requireAnnounced(t, f, "k")
	applied := f.Stats().Applied
	require.NoError(t, plain.Set(ctx, "k", sessioncachetest.FullSession(), before))
	require.NoError(t, f.Confirm(ctx)) // every announcement made so far is applied
	require.Equal(t, applied, f.Stats().Applied, "a refused write is not announced")
}

// A Redis user that may not use the channel (a Redis 7 ACL user has no
// channels unless given them): the writes stand without their
// announcements, so a "redis" deployment works as before, and a Tiered of
// that user never confirms its subscription, so it reads Redis only.
func TestWithoutChannelPermission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := testenv.StartRedis(t)
	require.NoError(t, r.Client(t).Do(ctx, "ACL", "SETUSER", "nochannels", "on", ">secret", "~*", "+@all", "resetchannels").Err())
	client := redis.NewClient(&redis.Options{Network: "unix", Addr: r.Socket, Username: "nochannels", Password: "secret", ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	require.True(t, redis.HasErrorPrefix(client.Publish(ctx, "x", "y").Err(), "NOPERM"), "the user may not publish")

	newStore := func(timeout time.Duration) *redisstore.Store {
		return redisstore.New(client, redisstore.Options{KeyPrefix: testenv.RandomPrefix(), OperationTimeout: timeout})
	}
	sessioncachetest.Exercise(t, func(*testing.T) sessioncache.Strategy { return newStore(5 * time.Second) })
	store := newStore(200 * time.Millisecond) // Confirm waits that long for the marker that cannot come

	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10})
	require.NoError(t, err)
	tiered := redisstore.NewTiered(store, mem, redisstore.TieredOptions{NowFunc: newTestClock().Now, Logger: quiet})
	require.NoError(t, tiered.Start(ctx))
	t.Cleanup(tiered.Stop)
	require.Error(t, tiered.Confirm(ctx))
	_, err = tiered.Probe(ctx)
	require.NoError(t, err, "Redis answers")
	require.False(t, tiered.InUse())
	require.NoError(t, tiered.Set(ctx, "k", sessioncachetest.FullSession(), tiered.Generation()))
	for range 2 {
		got, err := tiered.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got)
	}
	require.Zero(t, tiered.Stats().MemoryHits)
}

// A master switch that leaves the subscription on the old server (go-redis
// moves commands, not a subscription): the writes, their announcements
// and the markers happen on the new one, and never reach it.
// The first probe that sees the new master bypasses the memory tier and
// subscribes again, where the announcements are.
func TestTieredFollowsAMasterSwitch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldMaster, newMaster := testenv.StartRedis(t), testenv.StartRedis(t)
	var target atomic.Value // the socket new connections reach
	target.Store(oldMaster.Socket)
	var d net.Dialer
	client := redis.NewClient(&redis.Options{
		Network: "unix", Addr: oldMaster.Socket, ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", target.Load().(string))
		},
	})
	t.Cleanup(func() { _ = client.Close() })
	prefix := testenv.RandomPrefix()
	store := redisstore.New(client, redisstore.Options{KeyPrefix: prefix, OperationTimeout: 5 * time.Second})
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10})
	require.NoError(t, err)
	a := redisstore.NewTiered(store, mem, redisstore.TieredOptions{NowFunc: newTestClock().Now, Logger: quiet})
	a.TestSignals.Init(t)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(a.Stop)
	require.True(t, a.TestSignals.InUse.WaitOrTimeout())
	_, err = a.Probe(ctx) // knows the old master
	require.NoError(t, err)

	// The switch: commands reconnect to the new master, the subscription
	// stays.
	target.Store(newMaster.Socket)
	require.NoError(t, oldMaster.Client(t).Do(ctx, "CLIENT", "KILL", "TYPE", "normal").Err())
	other := redisstore.New(newMaster.Client(t), redisstore.Options{KeyPrefix: prefix, OperationTimeout: testOperationTimeout})
	require.NoError(t, other.Set(ctx, "k", sessioncachetest.FullSession(), other.Generation()))
	for range 2 {
		got, err := a.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got, "read from the new master")
	}
	require.EqualValues(t, 1, a.Stats().MemoryHits)
	require.NoError(t, other.Delete(ctx, "k")) // announced on the new master only

	_, err = a.Probe(ctx)
	require.NoError(t, err)
	require.False(t, a.InUse(), "the probe that saw the new master bypassed the memory tier")
	got, err := a.Get(ctx, "k")
	require.NoError(t, err)
	require.Nil(t, got, "a copy revoked on the new master was answered from memory")

	// Subscribed again, at the new master.
	for !a.TestSignals.InUse.WaitOrTimeout() {
	}
	require.NoError(t, other.Set(ctx, "k2", sessioncachetest.FullSession(), other.Generation()))
	require.Equal(t, []string{"k2"}, a.TestSignals.Applied.WaitOrTimeout().Keys)
}
