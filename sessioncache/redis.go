package sessioncache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of RedisOptions.
const (
	defaultRedisKeyPrefix        = "vendure-session-cache:"
	defaultRedisTTL              = 24 * time.Hour
	defaultRedisOperationTimeout = 50 * time.Millisecond
	defaultRedisClearTimeout     = 5 * time.Second

	// redisScanCount is the COUNT hint of each SCAN in Clear, and the most
	// keys Clear removes with one UNLINK.
	redisScanCount = 500
)

// RedisOptions configures a Redis strategy. The zero value uses every default.
type RedisOptions struct {
	// KeyPrefix is put in front of every key, so that several caches (or
	// other data) can share a Redis database; Clear removes only keys with
	// this prefix. It may contain glob characters: they are escaped in the
	// SCAN pattern.
	//
	// Defaults to "vendure-session-cache:" (Vendure's prefix). An empty
	// prefix is not possible, so Clear never removes a whole database.
	KeyPrefix string

	// TTL is the expiry set on each key. It only bounds the memory that
	// abandoned entries take: whether an entry is stale is decided by the
	// session's CacheExpiry, which is normally much shorter.
	//
	// Defaults to 24 hours (Vendure's DefaultSessionCacheStrategy ttl). Zero
	// or a negative value means the default.
	TTL time.Duration

	// OperationTimeout bounds each Set, Get and Delete, so that a slow or
	// unreachable Redis fails the call (the caller then falls back to the
	// database) instead of hanging the request.
	//
	// Defaults to 50 milliseconds. Zero or a negative value means the default.
	OperationTimeout time.Duration

	// ClearTimeout bounds Clear, which walks the keyspace with SCAN.
	//
	// Defaults to 5 seconds. Zero or a negative value means the default.
	ClearTimeout time.Duration
}

// Redis is a Strategy that stores sessions in Redis (or a cluster), shared by
// every server process. Each session is one string key, KeyPrefix + key,
// holding the JSON encoding of the CachedSession (Token is never stored).
// Set is one SET with EX, Get one GET, Delete one UNLINK. Clear removes the
// keys with the prefix using SCAN and UNLINK (never KEYS); on a cluster it
// walks every master.
//
// Timeouts: every call runs under a context deadline (OperationTimeout, or
// ClearTimeout for Clear). go-redis applies a context deadline to socket
// reads and writes only when the client was created with
// ContextTimeoutEnabled: true (or "context_timeout_enabled=true" in a URL);
// without it the deadline only bounds waiting for a pooled connection, and a
// stalled server holds the call for the client's ReadTimeout (default 5s).
// Create the client with ContextTimeoutEnabled.
//
// Errors are returned wrapped; when the deadline or the caller's context
// ended the call, the error also matches context.DeadlineExceeded or
// context.Canceled with errors.Is.
//
// A Redis is safe for concurrent use.
type Redis struct {
	client           redis.UniversalClient
	keyPrefix        string
	ttl              time.Duration
	operationTimeout time.Duration
	clearTimeout     time.Duration
}

var _ Strategy = (*Redis)(nil)

// NewRedis returns a Redis strategy that uses client, which the caller keeps
// ownership of (and closes). See Redis for how the client should be
// configured.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{
		client:           client,
		keyPrefix:        opts.KeyPrefix,
		ttl:              opts.TTL,
		operationTimeout: opts.OperationTimeout,
		clearTimeout:     opts.ClearTimeout,
	}
	if r.keyPrefix == "" {
		r.keyPrefix = defaultRedisKeyPrefix
	}
	if r.ttl <= 0 {
		r.ttl = defaultRedisTTL
	}
	if r.operationTimeout <= 0 {
		r.operationTimeout = defaultRedisOperationTimeout
	}
	if r.clearTimeout <= 0 {
		r.clearTimeout = defaultRedisClearTimeout
	}
	return r
}

// Set stores the JSON encoding of s under key with the TTL, replacing any
// entry there. s must not be nil.
func (r *Redis) Set(ctx context.Context, key string, s *CachedSession) error {
	if s == nil {
		return errNilSession
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("sessioncache: encoding session: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	if err := r.client.Set(ctx, r.keyPrefix+key, data, r.ttl).Err(); err != nil {
		return redisError(ctx, "SET", err)
	}
	return nil
}

// Get returns the session stored under key, or (nil, nil) if there is none.
// Each call returns a new value.
func (r *Redis) Get(ctx context.Context, key string) (*CachedSession, error) {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	data, err := r.client.Get(ctx, r.keyPrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, redisError(ctx, "GET", err)
	}
	s := new(CachedSession)
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("sessioncache: decoding cached session: %w", err)
	}
	return s, nil
}

// Delete removes the entry under key, if any.
func (r *Redis) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	if err := r.client.Unlink(ctx, r.keyPrefix+key).Err(); err != nil {
		return redisError(ctx, "UNLINK", err)
	}
	return nil
}

// Clear removes every key with the prefix: it SCANs for them (MATCH
// prefix*, COUNT 500) and removes each page with UNLINK. On a
// *redis.ClusterClient it does so on every master, on a *redis.Ring on every
// shard. Keys written while Clear runs may survive it.
func (r *Redis) Clear(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.clearTimeout)
	defer cancel()
	var err error
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return r.clearNode(ctx, node, true)
		})
	case *redis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
			return r.clearNode(ctx, shard, false)
		})
	default:
		err = r.clearNode(ctx, r.client, false)
	}
	if err != nil {
		return redisError(ctx, "clear", err)
	}
	return nil
}

// clearNode removes the keys with the prefix from one server. With
// perKeyUnlink (a cluster node, where one UNLINK of keys in different hash
// slots fails with CROSSSLOT), each page is removed as a pipeline of
// single-key UNLINKs, still one round trip.
func (r *Redis) clearNode(ctx context.Context, c redis.Cmdable, perKeyUnlink bool) error {
	match := escapeGlob(r.keyPrefix) + "*"
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

// redisError wraps err from the Redis operation op. If ctx has ended (the
// operation timeout or the caller's cancellation), the error also wraps
// ctx.Err(), which go-redis does not always do (a socket deadline surfaces as
// a net timeout error).
func redisError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("sessioncache: redis %s: %w (%w)", op, err, ctxErr)
	}
	return fmt.Errorf("sessioncache: redis %s: %w", op, err)
}
