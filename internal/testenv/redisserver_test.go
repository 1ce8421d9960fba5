package testenv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// HoldWrites holds a write (a script too) until release, however long that
// takes, while reads go on; after release the held write runs.
func TestOwnRedisHoldWrites(t *testing.T) {
	t.Parallel()
	r := StartRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := r.Client(t)
	require.NoError(t, c.Set(ctx, "k", "before", 0).Err())

	release := r.HoldWrites(t)
	done := make(chan error, 2)
	go func() { done <- c.Set(ctx, "k", "held", 0).Err() }()
	go func() { done <- c.Eval(ctx, `return redis.call('SET', KEYS[1], 'script')`, []string{"s"}).Err() }()
	require.NoError(t, r.poll(ctx, "both writes to be held", func(ctx context.Context) error {
		if n := blockedClients(ctx, t, r); n != "2" {
			return errors.New("blocked_clients:" + n)
		}
		return nil
	}))
	require.Equal(t, "before", c.Get(ctx, "k").Val(), "a read is not held")
	require.Empty(t, done, "no held write has returned")

	release()
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	require.Equal(t, "held", c.Get(ctx, "k").Val())
	require.Equal(t, "script", c.Get(ctx, "s").Val())
	release() // a second call does no harm
}

// blockedClients returns INFO clients' blocked_clients field, which counts
// the clients a pause holds.
func blockedClients(ctx context.Context, t *testing.T, r *OwnRedis) string {
	t.Helper()
	info, err := r.admin.Info(ctx, "clients").Result()
	require.NoError(t, err)
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "blocked_clients:"); ok {
			return v
		}
	}
	t.Fatalf("no blocked_clients in INFO clients: %s", info)
	return ""
}
