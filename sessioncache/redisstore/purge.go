package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisScanCount is the COUNT hint of each SCAN in Purge, and the most
// keys Purge removes with one UNLINK.
const redisScanCount = 500

// Purge removes every key with the prefix, and every revocation key of
// one ("{" + prefix + …), with SCAN (MATCH, COUNT 500) and UNLINK, on
// every master of a cluster. It is not part of
// Strategy: Clear is instant and needs no scan. Tests and maintenance use
// it to free memory at once. Keys written while it runs may survive it.
func (r *Store) Purge(ctx context.Context) error {
	var err error
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return r.purgeNode(ctx, node, true)
		})
	case *redis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
			return r.purgeNode(ctx, shard, false)
		})
	default:
		err = r.purgeNode(ctx, r.client, false)
	}
	if err != nil {
		return redisError(ctx, "purge", err)
	}
	return nil
}

// purgeNode removes the keys with the prefix from one server. With
// perKeyUnlink (a cluster node, where one UNLINK of keys in different hash
// slots fails with CROSSSLOT), each page is removed as a pipeline of
// single-key UNLINKs, still one round trip.
func (r *Store) purgeNode(ctx context.Context, c redis.Cmdable, perKeyUnlink bool) error {
	for _, p := range []string{r.keyPrefix, "{" + r.keyPrefix} {
		if err := purgeMatch(ctx, c, escapeGlob(p)+"*", perKeyUnlink); err != nil {
			return err
		}
	}
	return nil
}

// purgeMatch removes the keys of one server that match the pattern.
func purgeMatch(ctx context.Context, c redis.Cmdable, match string, perKeyUnlink bool) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, redisScanCount).Result()
		if err != nil {
			return fmt.Errorf("SCAN: %w", err)
		}
		for len(keys) > 0 {
			batch := keys[:min(len(keys), redisScanCount)]
			keys = keys[len(batch):]
			if perKeyUnlink {
				_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range batch {
						p.Unlink(ctx, k)
					}
					return nil
				})
			} else {
				err = c.Unlink(ctx, batch...).Err()
			}
			if err != nil {
				return fmt.Errorf("UNLINK: %w", err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// escapeGlob escapes the characters that are special in a Redis glob
// pattern, so that the pattern matches s literally.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
