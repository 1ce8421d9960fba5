package throttle_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/throttle"
)

// limiterEnv is one limiter under test with the means to move its time.
type limiterEnv struct {
	limiter throttle.Limiter
	// advance moves the limiter's clock (and a miniredis's) forward.
	advance func(time.Duration)
}

// exercise is the conformance suite every Limiter passes.
func exercise(t *testing.T, newEnv func(t *testing.T) limiterEnv) {
	ctx := context.Background()
	rule := throttle.Rule{Name: "test", Rate: throttle.Rate{Limit: 3, Window: time.Minute}}

	t.Run("TakeAllowsLimitThenRefusesUntilTheOldestLeaves", func(t *testing.T) {
		e := newEnv(t)
		for i := range 3 {
			d, err := e.limiter.Take(ctx, rule, "k")
			require.NoError(t, err)
			require.True(t, d.Allowed, "take %d", i+1)
			require.Zero(t, d.RetryAfter)
			e.advance(10 * time.Second)
		}
		// Events at 0, 10 s and 20 s; now 30 s.
		d, err := e.limiter.Take(ctx, rule, "k")
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 30*time.Second, d.RetryAfter, "the first event leaves at 60 s")
		d, err = e.limiter.Check(ctx, rule, "k")
		require.NoError(t, err)
		require.Equal(t, throttle.Decision{RetryAfter: 30 * time.Second}, d, "a refused Take counted nothing")

		e.advance(30 * time.Second) // 60 s: the first event is exactly one window old
		d, err = e.limiter.Take(ctx, rule, "k")
		require.NoError(t, err)
		require.True(t, d.Allowed, "the window slid past the first event")
		d, err = e.limiter.Take(ctx, rule, "k")
		require.NoError(t, err)
		require.Equal(t, throttle.Decision{RetryAfter: 10 * time.Second}, d, "events at 10, 20, 60 s: 10 s until 70 s")
	})

	t.Run("CheckCountsNothingAddCounts", func(t *testing.T) {
		e := newEnv(t)
		for range 10 {
			d, err := e.limiter.Check(ctx, rule, "k")
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		for i := range 3 {
			d, err := e.limiter.Check(ctx, rule, "k")
			require.NoError(t, err)
			require.True(t, d.Allowed, "before failure %d", i+1)
			require.NoError(t, e.limiter.Add(ctx, rule, "k"))
		}
		d, err := e.limiter.Check(ctx, rule, "k")
		require.NoError(t, err)
		require.Equal(t, throttle.Decision{RetryAfter: time.Minute}, d)
	})

	t.Run("AddBeyondTheLimitKeepsLimitEvents", func(t *testing.T) {
		e := newEnv(t)
		for range 3 {
			require.NoError(t, e.limiter.Add(ctx, rule, "k"))
		}
		e.advance(20 * time.Second)
		// Concurrent failures that all passed the check: counted, the oldest dropped.
		require.NoError(t, e.limiter.Add(ctx, rule, "k"))
		require.NoError(t, e.limiter.Add(ctx, rule, "k"))
		d, err := e.limiter.Check(ctx, rule, "k")
		require.NoError(t, err)
		require.Equal(t, throttle.Decision{RetryAfter: 40 * time.Second}, d, "the oldest kept event is from 0 s")
		e.advance(40 * time.Second)
		d, err = e.limiter.Check(ctx, rule, "k")
		require.NoError(t, err)
		require.Equal(t, throttle.Decision{Allowed: true}, d, "only the two events of 20 s remain")
	})

	t.Run("ResetForgets", func(t *testing.T) {
		e := newEnv(t)
		for range 3 {
			require.NoError(t, e.limiter.Add(ctx, rule, "k"))
		}
		require.NoError(t, e.limiter.Reset(ctx, rule, "k"))
		d, err := e.limiter.Check(ctx, rule, "k")
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.NoError(t, e.limiter.Reset(ctx, rule, "never-seen"))
	})

	t.Run("KeysAndRulesAreApart", func(t *testing.T) {
		e := newEnv(t)
		other := throttle.Rule{Name: "other", Rate: rule.Rate}
		for range 3 {
			require.NoError(t, e.limiter.Add(ctx, rule, "k"))
		}
		for _, c := range []struct {
			rule throttle.Rule
			key  string
		}{{rule, "k2"}, {other, "k"}, {rule, "K"}} {
			d, err := e.limiter.Check(ctx, c.rule, c.key)
			require.NoError(t, err)
			require.True(t, d.Allowed, "%s/%s", c.rule.Name, c.key)
		}
	})

	t.Run("AnOffRuleAllowsEverything", func(t *testing.T) {
		e := newEnv(t)
		off := throttle.Rule{Name: "off", Rate: throttle.Rate{Limit: 0, Window: time.Minute}}
		for range 5 {
			require.NoError(t, e.limiter.Add(ctx, off, "k"))
			d, err := e.limiter.Take(ctx, off, "k")
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
	})

	t.Run("ConcurrentTakesAllowExactlyTheLimit", func(t *testing.T) {
		e := newEnv(t)
		many := throttle.Rule{Name: "many", Rate: throttle.Rate{Limit: 25, Window: time.Hour}}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				d, err := e.limiter.Take(ctx, many, "k")
				if err == nil && d.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		require.EqualValues(t, 25, allowed.Load())
	})

	t.Run("LongKeys", func(t *testing.T) {
		e := newEnv(t)
		long := string(make([]byte, 1<<20))
		require.NoError(t, e.limiter.Add(ctx, rule, long))
		d, err := e.limiter.Take(ctx, rule, long)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	})
}

func TestMemory(t *testing.T) {
	t.Parallel()
	exercise(t, func(t *testing.T) limiterEnv {
		clock := testenv.NewClock()
		return limiterEnv{limiter: throttle.NewMemory(throttle.MemoryOptions{NowFunc: clock.Now}), advance: clock.Advance}
	})
}

// TestMemoryIsBounded floods a Memory with distinct keys: it holds at most
// MaxKeys, dropping the least recently used, and a key whose events all
// left the window is dropped when touched.
func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testenv.NewClock()
	m := throttle.NewMemory(throttle.MemoryOptions{MaxKeys: 1000, NowFunc: clock.Now})
	rule := throttle.Rule{Name: "r", Rate: throttle.Rate{Limit: 2, Window: time.Minute}}
	for range 2 {
		require.NoError(t, m.Add(ctx, rule, "victim"))
	}
	for i := range 100_000 {
		_, err := m.Take(ctx, rule, fmt.Sprint("flood-", i))
		require.NoError(t, err)
		if i%500 == 0 {
			// The victim's key is in use (touched within the last MaxKeys
			// keys): it stays.
			d, err := m.Check(ctx, rule, "victim")
			require.NoError(t, err)
			require.False(t, d.Allowed)
		}
	}
	require.Equal(t, 1000, m.Len())

	clock.Advance(time.Minute)
	d, err := m.Check(ctx, rule, "victim")
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Equal(t, 999, m.Len(), "the victim's key, empty now, is gone")
}

func TestRedis(t *testing.T) {
	t.Parallel()
	exercise(t, func(t *testing.T) limiterEnv {
		client, mr := testenv.Redis(t)
		clock := testenv.NewClock()
		prefix := testenv.RandomPrefix()
		t.Cleanup(func() { purge(t, client, prefix) })
		return limiterEnv{
			limiter: throttle.NewRedis(client, throttle.RedisOptions{KeyPrefix: prefix, NowFunc: clock.Now, Timeout: 2 * time.Second}),
			advance: func(d time.Duration) {
				clock.Advance(d)
				if mr != nil {
					mr.FastForward(d)
				}
			},
		}
	})
}

// TestRedisKeysExpireWithTheirWindow: a key lives one window after its last
// event, and no longer.
func TestRedisKeysExpireWithTheirWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Redis(t)
	prefix := testenv.RandomPrefix()
	t.Cleanup(func() { purge(t, client, prefix) })
	l := throttle.NewRedis(client, throttle.RedisOptions{KeyPrefix: prefix})
	rule := throttle.Rule{Name: "ttl", Rate: throttle.Rate{Limit: 5, Window: 90 * time.Second}}
	require.NoError(t, l.Add(ctx, rule, "user@example.com"))
	keys := keysOf(t, client, prefix)
	require.Len(t, keys, 1)
	require.NotContains(t, keys[0], "example.com", "keys are hashed")
	ttl, err := client.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, 90*time.Second)
	if mr != nil {
		mr.FastForward(90 * time.Second)
		require.Empty(t, keysOf(t, client, prefix))
	}
	// A check stores nothing.
	before := len(keysOf(t, client, prefix))
	_, err = l.Check(ctx, rule, "other")
	require.NoError(t, err)
	require.Len(t, keysOf(t, client, prefix), before)
}

// TestRedisHasADeadline: a Redis that accepts connections and never
// answers fails the call at the limiter's timeout.
func TestRedisHasADeadline(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	l := throttle.NewRedis(client, throttle.RedisOptions{Timeout: 20 * time.Millisecond})
	rule := throttle.Rule{Name: "r", Rate: throttle.Rate{Limit: 1, Window: time.Minute}}
	_, err = l.Take(context.Background(), rule, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestFallback: while Redis is down, the limiter answers from this
// instance's memory (limits still hold, nobody is locked out), and reports
// the failure; once Redis is back it answers from Redis again.
func TestFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	clock := testenv.NewClock()
	var reported atomic.Int64
	f := &throttle.Fallback{
		// A timeout a loaded machine meets: only the simulated outage fails.
		Primary:   throttle.NewRedis(client, throttle.RedisOptions{NowFunc: clock.Now, Timeout: 10 * time.Second}),
		Secondary: throttle.NewMemory(throttle.MemoryOptions{NowFunc: clock.Now}),
		OnError:   func(error) { reported.Add(1) },
		// Longer than the test, however loaded the machine.
		ErrorInterval: time.Hour,
	}
	rule := throttle.Rule{Name: "r", Rate: throttle.Rate{Limit: 2, Window: time.Minute}}
	require.NoError(t, f.Add(ctx, rule, "k"))
	require.NoError(t, f.Add(ctx, rule, "k"))

	mr.SetError("ERR simulated outage")
	d, err := f.Check(ctx, rule, "k")
	require.NoError(t, err)
	require.True(t, d.Allowed, "the outage is a fresh count in memory, not a lock-out")
	for range 2 {
		d, err = f.Take(ctx, rule, "k")
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	d, err = f.Take(ctx, rule, "k")
	require.NoError(t, err)
	require.False(t, d.Allowed, "and not a lifted limit either")
	require.EqualValues(t, 1, reported.Load(), "failures are reported at most once per ErrorInterval")

	mr.SetError("")
	d, err = f.Check(ctx, rule, "k")
	require.NoError(t, err)
	require.False(t, d.Allowed, "Redis still holds the two events of before")
}

func keysOf(t *testing.T, client redis.UniversalClient, prefix string) []string {
	t.Helper()
	keys, err := client.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	return keys
}

func purge(t *testing.T, client redis.UniversalClient, prefix string) {
	for _, k := range keysOf(t, client, prefix) {
		_ = client.Del(context.Background(), k).Err()
	}
}
