package redisstore_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
)

// testOperationTimeout replaces the 50ms default in tests: parallel tests
// under -race can be slow enough to exceed it. The default is checked by
// TestRedisDefaults; the timeout itself by the timeout tests.
const testOperationTimeout = 5 * time.Second

// newTestRedis returns a Redis strategy on client with a random key prefix
// (unless opts has one) and the test operation timeout; on a real server it
// removes the prefix's keys when the test ends.
func newTestRedis(t testing.TB, client redis.UniversalClient, mr *miniredis.Miniredis, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = testenv.RandomPrefix()
	}
	if opts.OperationTimeout == 0 {
		opts.OperationTimeout = testOperationTimeout
	}
	if mr == nil {
		t.Cleanup(func() {
			for _, k := range scanKeys(t, client, opts.KeyPrefix) {
				require.NoError(t, client.Del(context.Background(), k).Err())
			}
		})
	}
	return redisstore.New(client, opts)
}

// cleanupKeys removes keys from a real server when the test ends.
func cleanupKeys(t testing.TB, client redis.UniversalClient, mr *miniredis.Miniredis, keys ...string) {
	if mr == nil {
		t.Cleanup(func() { client.Del(context.Background(), keys...) })
	}
}

// scanKeys returns the keys of a strategy with prefix (a literal prefix
// without glob characters other than those escapeGlob handles): those that
// start with it and the revocation keys ("{" + prefix + …), without using
// the code under test's Purge.
func scanKeys(t testing.TB, client redis.UniversalClient, prefix string) []string {
	t.Helper()
	// SCAN may return a key more than once: the set counts it once.
	keys := map[string]struct{}{}
	for _, p := range []string{prefix, "{" + prefix} {
		iter := client.Scan(context.Background(), 0, redisstore.EscapeGlob(p)+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			keys[iter.Val()] = struct{}{}
		}
		require.NoError(t, iter.Err())
	}
	return slices.Sorted(maps.Keys(keys))
}

// commandRecorder is a go-redis hook that records each command sent, as its
// lower-case arguments.
type commandRecorder struct {
	mu   sync.Mutex
	cmds [][]string
}

func recordCommands(client redis.UniversalClient) *commandRecorder {
	r := &commandRecorder{}
	client.AddHook(r)
	return r
}

func (r *commandRecorder) record(cmd redis.Cmder) {
	args := make([]string, len(cmd.Args()))
	for i, a := range cmd.Args() {
		args[i] = fmt.Sprint(a)
		if i == 0 || strings.EqualFold(args[i], "ex") || strings.EqualFold(args[i], "match") || strings.EqualFold(args[i], "count") {
			args[i] = strings.ToLower(args[i])
		}
	}
	r.mu.Lock()
	r.cmds = append(r.cmds, args)
	r.mu.Unlock()
}

func (r *commandRecorder) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmds := r.cmds
	r.cmds = nil
	return cmds
}

func (r *commandRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *commandRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *commandRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			r.record(cmd)
		}
		return next(ctx, cmds)
	}
}
