package redisstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Probe answers the run ids of the Redis masters holding the data (every
// master of a cluster, in order), and refreshes the observed revocation
// clock. A different answer than before means the master changed (a
// Sentinel or Cluster failover, or a restart) and acknowledged writes may
// be lost.
func (r *Store) Probe(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.probeTimeout)
	defer cancel()
	var (
		mu  sync.Mutex
		ids []string
		err error
	)
	collect := func(ctx context.Context, c *redis.Client) error {
		info, err := serverInfo(ctx, c)
		if err != nil {
			return err
		}
		mu.Lock()
		ids = append(ids, runID(info))
		mu.Unlock()
		return nil
	}
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		var info string
		if info, err = serverInfo(ctx, r.client); err == nil {
			ids = append(ids, runID(info))
		}
	}
	if err != nil {
		return "", redisError(ctx, "INFO", err)
	}
	var clock any
	switch v, err := r.client.Get(ctx, r.clockKey).Result(); {
	case err == nil:
		clock = v
	case !errors.Is(err, redis.Nil):
		return "", redisError(ctx, "GET", err)
	}
	n, err := parseCounter("clock", clock)
	if err != nil {
		return "", err
	}
	r.observed.Store(n)
	slices.Sort(ids)
	return strings.Join(ids, ","), nil
}

// serverInfo returns the reply of INFO server. A server that does not have
// the section (miniredis, in tests) answers "", an identity that never
// changes.
func serverInfo(ctx context.Context, c redis.Cmdable) (string, error) {
	info, err := c.Info(ctx, "server").Result()
	if err != nil && strings.Contains(err.Error(), "is not supported") {
		return "", nil
	}
	return info, err
}

// runID returns the run_id field of an INFO server reply.
func runID(info string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v
		}
	}
	return ""
}
