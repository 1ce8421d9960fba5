package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopsession/sessionserver/sessioncache"
)

// DefaultOperationTimeout bounds each Redis call unless Options (or
// SESSION_CACHE_TIMEOUT) says otherwise: a slow cache must cost a request
// less than the database lookup it saves.
const DefaultOperationTimeout = 50 * time.Millisecond

// DefaultProbeTimeout bounds Probe unless Options says otherwise. Only the
// server's background sync probes, once a second, and no request waits on
// it, so it waits longer than a request's call would: a probe that a
// loaded machine answers late must not be taken for an outage (a failed
// probe takes the cache out of use until the next sync).
const DefaultProbeTimeout = 500 * time.Millisecond

// Defaults of Options.
const (
	defaultRedisKeyPrefix = "vendure-session-cache:"
	defaultRedisTTL       = 24 * time.Hour
)

// Options configures a Redis strategy. The zero value uses every default.
type Options struct {
	// KeyPrefix is put in front of every key, so that several caches (or
	// other data) can share a Redis database; Clear and Purge touch only keys
	// with this prefix. It may contain glob characters: they are escaped in the
	// SCAN pattern.
	//
	// On a cluster, a "}" in it must close a hash tag ("{sessions}:" puts
	// every key in one slot): the revocation key of each entry must hash
	// like the entry, and a key with a "}" outside a tag hashes whole.
	//
	// Defaults to "vendure-session-cache:" (Vendure's prefix). An empty
	// prefix is not possible, so Purge never removes a whole database.
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

	// ProbeTimeout bounds Probe (the INFO and GET it sends).
	//
	// Defaults to DefaultProbeTimeout, or OperationTimeout when that is
	// longer. Zero or a negative value means the default.
	ProbeTimeout time.Duration

	// Codec encodes the entries, and its ID names each of them: an entry
	// written under another codec (another build's permission list or
	// layout) is a miss.
	//
	// Defaults to sessioncache.DefaultCodec(), this build's.
	Codec *sessioncache.Codec
}

// Store is a sessioncache.Strategy that stores sessions in Redis (or a
// cluster), shared by
// every server process, and by processes of different builds during a
// rolling deploy.
//
// Layout, under KeyPrefix (docs/cache-format.md explains the design):
//   - KeyPrefix + key holds an entry, "<codec ID>|<generation>|<encoded
//     CachedSession>" (Token is never stored), or the tombstone "!" once
//     the key is revoked. A value of another codec is a miss.
//   - "{" + KeyPrefix + key + "}:revoked" (the same hash slot) holds the
//     revocation clock's value at the key's last Delete.
//   - KeyPrefix + "{meta}clock" is the revocation clock: Delete and Clear
//     advance it to at least Redis's TIME in microseconds (so it keeps
//     growing across a failover that loses its last increments), and
//     Generation returns the last value this process read.
//   - KeyPrefix + "{meta}floor" is the clock's value at the last Clear: an
//     entry of an older generation is not read, so Clear is one script
//     however many keys there are, and the old entries expire with the TTL.
//   - KeyPrefix + "invalidations" is a pub/sub channel on which every write
//     is announced once Redis has applied it (publish.go), for the
//     processes that keep copies in memory (Tiered).
//
// Every key expires with the TTL, except the clock and the floor.
//
// Set writes unless the key was revoked at a clock value newer than the
// generation it is given (or holds a tombstone with no clock value): a
// write whose data was read before a revocation never lands after it, and
// one read after it does, as with Memory.
//
// Commands: Get is one MGET (of the floor, the clock and the key; on a
// cluster a pipeline of three GETs); Set is one EVALSHA (that also
// publishes); Delete one EVALSHA that advances the clock, then one pipeline
// of one EVALSHA per key (the tombstone and the revocation key) and a
// PUBLISH; Clear one EVALSHA (that also publishes). Every script touches
// keys of one hash slot, so all of it works on a cluster. KeyPrefix may
// hold a hash tag; other braces in it break that on a cluster. (On a
// cluster a PUBLISH reaches every node, whoever listens.)
//
// Generation returns the clock value this process last read (every Get and
// Probe reads it) or wrote; it may be older than the current one, which
// only makes a Set refused or unreadable, never a stale one readable.
//
// Timeouts: every call runs under a context deadline (OperationTimeout;
// ProbeTimeout for Probe).
// go-redis applies a context deadline to socket reads and writes only when
// the client was created with ContextTimeoutEnabled: true; without it the
// deadline only bounds waiting for a pooled connection, and a stalled
// server holds the call for the client's ReadTimeout (default 5s). Create
// the client with ContextTimeoutEnabled (a client made by
// config.ParseRedisURL's options has it).
//
// Errors are returned wrapped; when the deadline or the caller's context
// ended the call, the error also matches context.DeadlineExceeded or
// context.Canceled with errors.Is.
//
// A Redis is safe for concurrent use.
type Store struct {
	client           redis.UniversalClient
	codec            *sessioncache.Codec
	valuePrefix      string // codec ID + "|"
	keyPrefix        string
	clockKey         string
	floorKey         string
	ttl              time.Duration
	operationTimeout time.Duration
	probeTimeout     time.Duration
	observed         atomic.Uint64 // the last clock value read or written
	channel          string        // where writes are announced (publish.go)
	sender           string        // names this Store's messages
	messagePrefix    string        // "1|<sender>|"
}

var (
	_ sessioncache.Strategy = (*Store)(nil)
	_ sessioncache.Prober   = (*Store)(nil)
)

// New returns a Redis strategy that uses client, which the caller keeps
// ownership of (and closes). See Redis for how the client should be
// configured.
func New(client redis.UniversalClient, opts Options) *Store {
	r := &Store{
		client:           client,
		codec:            cmp.Or(opts.Codec, sessioncache.DefaultCodec()),
		keyPrefix:        cmp.Or(opts.KeyPrefix, defaultRedisKeyPrefix),
		ttl:              opts.TTL,
		operationTimeout: opts.OperationTimeout,
		probeTimeout:     opts.ProbeTimeout,
	}
	r.valuePrefix = r.codec.ID() + "|"
	r.clockKey = r.keyPrefix + "{meta}clock"
	r.floorKey = r.keyPrefix + "{meta}floor"
	r.channel = r.keyPrefix + invalidationsChannel
	r.sender = newSender()
	r.messagePrefix = messageVersion + "|" + r.sender + "|"
	if r.ttl <= 0 {
		r.ttl = defaultRedisTTL
	}
	if r.operationTimeout <= 0 {
		r.operationTimeout = DefaultOperationTimeout
	}
	if r.probeTimeout <= 0 {
		r.probeTimeout = max(DefaultProbeTimeout, r.operationTimeout)
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
