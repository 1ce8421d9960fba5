package persisted_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/persisted"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.RedisServer) }

func TestHash(t *testing.T) {
	t.Parallel()
	// printf '%s' '{ me { id } }' | sha256sum
	require.Equal(t, "c53d78fa4c9c65a93967d42316fcd207fd611c7cac40a103820a866c3e5dd8f5", persisted.Hash("{ me { id } }"))
	require.True(t, persisted.IsHash(persisted.Hash("x")))
	for _, s := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("g", 64), strings.Repeat("a", 63), strings.Repeat("a", 65)} {
		require.False(t, persisted.IsHash(s), "%q", s)
	}
}

// doc returns a distinct document of about n bytes.
func doc(i, n int) string {
	d := fmt.Sprintf("query Q%d { me { id } }", i)
	return d + strings.Repeat(" ", max(0, n-len(d)))
}

// The memory store keeps the most recently used entries within its bytes:
// a flood of registrations evicts the oldest, never grows past the bound.
func TestMemoryBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const budget = 64 << 10
	m := persisted.NewMemory(budget)
	first := doc(0, 1000)
	require.NoError(t, m.Add(ctx, persisted.Hash(first), first))
	for i := 1; i < 1000; i++ {
		d := doc(i, 1000)
		require.NoError(t, m.Add(ctx, persisted.Hash(d), d))
		if i%10 == 0 { // keep the first one in use
			_, ok, _ := m.Get(ctx, persisted.Hash(first))
			require.True(t, ok, "the entry in use stays")
		}
		_, used := m.Stats()
		require.LessOrEqual(t, used, int64(budget))
	}
	n, _ := m.Stats()
	require.Less(t, n, 100)
	_, ok, _ := m.Get(ctx, persisted.Hash(doc(1, 1000)))
	require.False(t, ok, "the least recently used are gone")
	last := doc(999, 1000)
	got, ok, err := m.Get(ctx, persisted.Hash(last))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, last, got)

	big := strings.Repeat("x", persisted.MaxDocumentBytes+1)
	require.NoError(t, m.Add(ctx, persisted.Hash(big), big))
	_, ok, _ = m.Get(ctx, persisted.Hash(big))
	require.False(t, ok, "a document over MaxDocumentBytes is not stored")
}

// newRedis returns a Redis store under a fresh prefix on the tests' Redis
// (miniredis unless TEST_REDIS_URL is set), with its client and prefix.
func newRedis(t *testing.T, opts persisted.RedisOptions) (*persisted.Redis, redis.UniversalClient, string) {
	t.Helper()
	client, _ := testenv.Redis(t)
	opts.KeyPrefix = testenv.RandomPrefix()
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second // the machine may be loaded; outages are tested with a closed server
	}
	t.Cleanup(func() {
		keys, _ := client.Keys(context.Background(), opts.KeyPrefix+"*").Result()
		if len(keys) > 0 {
			client.Del(context.Background(), keys...)
		}
	})
	return persisted.NewRedis(client, opts), client, opts.KeyPrefix
}

// storedBytes sums the lengths of the documents under prefix.
func storedBytes(t *testing.T, client redis.UniversalClient, prefix string) (n int, total int64) {
	t.Helper()
	ctx := context.Background()
	keys, err := client.Keys(ctx, prefix+"doc:*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		l, err := client.StrLen(ctx, k).Result()
		require.NoError(t, err)
		total += l
	}
	return len(keys), total
}

func TestRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testenv.NewClock()
	s, client, prefix := newRedis(t, persisted.RedisOptions{TTL: time.Hour, NowFunc: clock.Now})

	d := doc(1, 10)
	_, ok, err := s.Get(ctx, persisted.Hash(d))
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.Add(ctx, persisted.Hash(d), d))
	got, ok, err := s.Get(ctx, persisted.Hash(d))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, d, got)
	ttl, err := client.TTL(ctx, prefix+"doc:"+persisted.Hash(d)).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute)
	require.LessOrEqual(t, ttl, time.Hour)

	big := strings.Repeat("x", persisted.MaxDocumentBytes+1)
	require.NoError(t, s.Add(ctx, persisted.Hash(big), big))
	_, ok, err = s.Get(ctx, persisted.Hash(big))
	require.NoError(t, err)
	require.False(t, ok, "a document over MaxDocumentBytes is not stored")
}

// A flood of distinct registrations stops at the window's budget
// (ErrFull); a new window has a new budget, and Redis never holds more
// than two windows' worth.
func TestRedisBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testenv.NewClock()
	const budget = 32 << 10
	s, client, prefix := newRedis(t, persisted.RedisOptions{TTL: time.Hour, MaxBytes: budget, NowFunc: clock.Now})

	flood := func(from int) (stored int) {
		for i := from; i < from+200; i++ {
			d := doc(i, 500)
			err := s.Add(ctx, persisted.Hash(d), d)
			if errors.Is(err, persisted.ErrFull) {
				continue
			}
			require.NoError(t, err)
			stored++
		}
		return stored
	}
	stored := flood(0)
	require.Positive(t, stored)
	require.Less(t, stored, 200)
	n, total := storedBytes(t, client, prefix)
	require.Equal(t, stored, n)
	require.LessOrEqual(t, total, int64(budget))

	clock.Advance(time.Hour)
	require.Positive(t, flood(1000), "a new window has a new budget")
	_, total = storedBytes(t, client, prefix)
	require.LessOrEqual(t, total, int64(2*budget))
}

// errStore fails every call.
type errStore struct{ err error }

func (e errStore) Get(context.Context, string) (string, bool, error) { return "", false, e.err }
func (e errStore) Add(context.Context, string, string) error         { return e.err }

// Fallback: Redis failing or full costs nothing but sharing; a document
// stored in memory then is found from memory, and every error is reported.
func TestFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var reported []error
	mem := persisted.NewMemory(0)
	f := &persisted.Fallback{Primary: errStore{errors.New("redis down")}, Secondary: mem, OnError: func(err error) { reported = append(reported, err) }, ErrorInterval: time.Nanosecond}
	d := doc(1, 10)
	require.NoError(t, f.Add(ctx, persisted.Hash(d), d))
	got, ok, err := f.Get(ctx, persisted.Hash(d))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, d, got)
	require.NotEmpty(t, reported)

	// Redis back: its documents first, this instance's memory for the rest.
	redisStore, _, _ := newRedis(t, persisted.RedisOptions{})
	f = &persisted.Fallback{Primary: redisStore, Secondary: mem}
	got, ok, err = f.Get(ctx, persisted.Hash(d))
	require.NoError(t, err)
	require.True(t, ok, "registered in memory during the outage")
	require.Equal(t, d, got)
	d2 := doc(2, 10)
	require.NoError(t, f.Add(ctx, persisted.Hash(d2), d2))
	got, ok, err = redisStore.Get(ctx, persisted.Hash(d2))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, d2, got)

	// Full: kept in memory.
	full := &persisted.Fallback{Primary: errStore{persisted.ErrFull}, Secondary: persisted.NewMemory(0)}
	require.NoError(t, full.Add(ctx, persisted.Hash(d2), d2))
	_, ok, _ = full.Get(ctx, persisted.Hash(d2))
	require.True(t, ok)
}

// A stopped Redis is an error (go-redis retries the refused dial until
// the timeout), not a hang.
func TestRedisStopped(t *testing.T) {
	t.Parallel()
	client, mr := testenv.Miniredis(t)
	s := persisted.NewRedis(client, persisted.RedisOptions{Timeout: 50 * time.Millisecond})
	mr.Close()
	_, _, err := s.Get(context.Background(), persisted.Hash("x"))
	require.Error(t, err)
	require.Error(t, s.Add(context.Background(), persisted.Hash("x"), "x"))
}
