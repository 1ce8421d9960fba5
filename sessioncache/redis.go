package sessioncache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultOperationTimeout bounds each Redis call unless RedisOptions (or
// SESSION_CACHE_TIMEOUT) says otherwise: a slow cache must cost a request
// less than the database lookup it saves.
const DefaultOperationTimeout = 50 * time.Millisecond

// Defaults of RedisOptions.
const (
	defaultRedisKeyPrefix = "vendure-session-cache:"
	defaultRedisTTL       = 24 * time.Hour
)

// RedisOptions configures a Redis strategy. The zero value uses every default.
type RedisOptions struct {
	// KeyPrefix is put in front of every key, so that several caches (or
	// other data) can share a Redis database; Clear and Purge touch only keys
	// with this prefix. It may contain glob characters: they are escaped in the
	// SCAN pattern.
	//
	// Defaults to "vendure-session-cache:" (Vendure's prefix). An empty
	// prefix is not possible, so Clear never removes a whole database.
	KeyPrefix string

	// TTL is the expiry set on each key, entry or tombstone. It bounds the
	// memory that abandoned and cleared entries take (whether an entry is
	// stale is decided by the session's CacheExpiry), and how long a revoked
	// key refuses writes, so it must be longer than any write can be in
	// flight: the server sets it to SESSION_CACHE_TTL.
	//
	// Defaults to 24 hours (Vendure's DefaultSessionCacheStrategy ttl). Zero
	// or a negative value means the default.
	TTL time.Duration

	// OperationTimeout bounds each call, so that a slow or
	// unreachable Redis fails the call (the caller then falls back to the
	// database) instead of hanging the request.
	//
	// Defaults to 50 milliseconds. Zero or a negative value means the default.
	OperationTimeout time.Duration
}

// Redis is a Strategy that stores sessions in Redis (or a cluster), shared by
// every server process.
//
// Layout: each session is one string key, KeyPrefix + key, holding
// "<generation>|<JSON of the CachedSession>" (Token is never stored), with
// the TTL. The key KeyPrefix + "generation" holds the cache's generation, a
// counter that Clear increments: an entry is read only while its generation
// is the current one, so Clear is one INCR however many keys there are, and
// the old entries expire with their TTL. A revoked key holds the tombstone
// "!" for the TTL.
//
// Commands: Get is one pipelined round trip (GET of the generation and of the
// key); Set is one EVALSHA of a script that writes the entry unless the key
// holds a tombstone (so a write that was in flight when a logout revoked the
// key cannot bring it back); Delete is one pipeline of SETs of tombstones;
// Clear one INCR. Every script touches one key, so all of it works on a
// cluster.
//
// Generation returns the last generation this process read (every Get and
// Probe reads it) or wrote; it may be older than the current one, which
// only makes a Set unreadable, never a stale one readable.
//
// Timeouts: every call runs under a context deadline (OperationTimeout).
// go-redis applies a context deadline to socket reads and writes only when
// the client was created with ContextTimeoutEnabled: true; without it the
// deadline only bounds waiting for a pooled connection, and a stalled
// server holds the call for the client's ReadTimeout (default 5s). Create
// the client with ContextTimeoutEnabled (a client made by ParseRedisURL's
// options has it).
//
// Errors are returned wrapped; when the deadline or the caller's context
// ended the call, the error also matches context.DeadlineExceeded or
// context.Canceled with errors.Is.
//
// A Redis is safe for concurrent use.
type Redis struct {
	client           redis.UniversalClient
	keyPrefix        string
	genKey           string
	ttl              time.Duration
	operationTimeout time.Duration
	observed         atomic.Uint64 // the last generation read or written
}

var (
	_ Strategy = (*Redis)(nil)
	_ Prober   = (*Redis)(nil)
)

// NewRedis returns a Redis strategy that uses client, which the caller keeps
// ownership of (and closes). See Redis for how the client should be
// configured.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{
		client:           client,
		keyPrefix:        opts.KeyPrefix,
		ttl:              opts.TTL,
		operationTimeout: opts.OperationTimeout,
	}
	if r.keyPrefix == "" {
		r.keyPrefix = defaultRedisKeyPrefix
	}
	r.genKey = r.keyPrefix + "generation"
	if r.ttl <= 0 {
		r.ttl = defaultRedisTTL
	}
	if r.operationTimeout <= 0 {
		r.operationTimeout = DefaultOperationTimeout
	}
	return r
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
