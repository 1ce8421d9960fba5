package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
)

// pipelineSizes records the number of commands of each pipelined round
// trip, and whether each had a deadline.
type pipelineSizes struct {
	mu        sync.Mutex
	sizes     []int
	deadlines []time.Time
}

func (p *pipelineSizes) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (p *pipelineSizes) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p *pipelineSizes) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || !strings.HasPrefix(strings.ToLower(fmt.Sprint(cmds[0].Args()[0])), "eval") {
			return next(ctx, cmds) // not a revocation's pipeline
		}
		d, _ := ctx.Deadline()
		p.mu.Lock()
		p.sizes = append(p.sizes, len(cmds))
		p.deadlines = append(p.deadlines, d)
		p.mu.Unlock()
		return next(ctx, cmds)
	}
}

// Revoking a user with 10,000 sessions is many bounded round trips, each
// under its own deadline, never one call that no cache timeout fits (which
// would mark the cache down for every request); and every key is revoked.
func TestDeleteManyKeysInBoundedChunks(t *testing.T) {
	t.Parallel()
	client, mr := testenv.Redis(t)
	rec := &pipelineSizes{}
	client.AddHook(rec)
	r := newTestRedis(t, client, mr, redisstore.Options{OperationTimeout: 10 * time.Second})
	ctx := context.Background()

	const n = 10_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "user-session-" + strconv.Itoa(i)
	}
	gen := r.Generation()
	require.NoError(t, r.Set(ctx, keys[0], &sessioncache.CachedSession{ID: 1, Token: "t"}, gen))
	require.NoError(t, r.Delete(ctx, "warm-up")) // loads the scripts
	rec.mu.Lock()
	rec.sizes, rec.deadlines = nil, nil
	rec.mu.Unlock()
	require.NoError(t, r.Delete(ctx, keys...))

	rec.mu.Lock()
	sizes, deadlines := rec.sizes, rec.deadlines
	rec.mu.Unlock()
	require.Len(t, sizes, (n+redisstore.DeleteChunk-1)/redisstore.DeleteChunk)
	for i, s := range sizes {
		require.LessOrEqual(t, s, redisstore.DeleteChunk)
		require.False(t, deadlines[i].IsZero(), "round trip %d has its own deadline", i)
	}
	for _, k := range []string{keys[0], keys[n/2], keys[n-1]} {
		require.NoError(t, r.Set(ctx, k, &sessioncache.CachedSession{ID: 1, Token: "t"}, gen))
		got, err := r.Get(ctx, k)
		require.NoError(t, err)
		require.Nil(t, got, "%s is revoked for writes read before the revocation", k)
	}
}
