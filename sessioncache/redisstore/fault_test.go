package redisstore_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// TestRedisUnreachable checks that every operation against a server that is
// gone returns an error.
func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	s := redisstore.New(client, redisstore.Options{OperationTimeout: 200 * time.Millisecond})
	require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
	mr.Close()

	require.Error(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
	got, err := s.Get(ctx, "k")
	require.Error(t, err)
	require.Nil(t, got)
	require.Error(t, s.Delete(ctx, "k"))
	require.Error(t, s.Clear(ctx))
	_, err = s.Probe(ctx)
	require.Error(t, err)
}

// TestRedisStalledServer checks that the operation timeouts bound every call
// to a server that accepts connections but never answers. The client's own
// socket timeouts are an hour, so only the strategy's deadlines can end the
// calls; a guard fails the test, rather than hang it, if they do not.
func TestRedisStalledServer(t *testing.T) {
	t.Parallel()
	addr := stalledServer(t)
	client := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Hour,
		ReadTimeout:           time.Hour,
		WriteTimeout:          time.Hour,
		PoolTimeout:           time.Hour,
	})
	t.Cleanup(func() { _ = client.Close() })
	s := redisstore.New(client, redisstore.Options{OperationTimeout: 100 * time.Millisecond})

	calls := map[string]func(ctx context.Context) error{
		"Set": func(ctx context.Context) error {
			return s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation())
		},
		"Get": func(ctx context.Context) error {
			got, err := s.Get(ctx, "k")
			if got != nil {
				return errors.New("Get returned a session")
			}
			return err
		},
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"Clear":  func(ctx context.Context) error { return s.Clear(ctx) },
		"Probe": func(ctx context.Context) error {
			_, err := s.Probe(ctx)
			return err
		},
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call(context.Background()) }()
		select {
		case err := <-done:
			require.Error(t, err, name)
			require.ErrorIs(t, err, context.DeadlineExceeded, name)
		case <-time.After(time.Minute):
			t.Fatalf("%s did not return: the operation timeout is not applied", name)
		}
	}
}

// stalledServer listens on a local port, accepts connections and never
// answers; it stops when the test ends.
func stalledServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}
