package sessioncache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of RedisOptions.
const (
	defaultRedisKeyPrefix        = "vendure-session-cache:"
	defaultRedisTTL              = 24 * time.Hour
	defaultRedisOperationTimeout = 50 * time.Millisecond

	// redisScanCount is the COUNT hint of each SCAN in Purge, and the most
	// keys Purge removes with one UNLINK.
	redisScanCount = 500
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
// the client was created with ContextTimeoutEnabled: true (or
// "context_timeout_enabled=true" in a URL); without it the deadline only
// bounds waiting for a pooled connection, and a stalled server holds the
// call for the client's ReadTimeout (default 5s). Create the client with
// ContextTimeoutEnabled.
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

// tombstone is the value of a revoked key. An entry always starts with a
// digit.
const tombstone = "!"

// setScript writes an entry unless its key is revoked.
var setScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == '!' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

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
		r.operationTimeout = defaultRedisOperationTimeout
	}
	return r
}

// Generation returns the last generation this process saw.
func (r *Redis) Generation() Generation { return Generation(r.observed.Load()) }

// Set stores s under key with the TTL, replacing any entry there, unless
// the key is revoked. The entry is readable only while gen is the cache's
// generation. s must not be nil.
func (r *Redis) Set(ctx context.Context, key string, s *CachedSession, gen Generation) error {
	if s == nil {
		return errNilSession
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("sessioncache: encoding session: %w", err)
	}
	value := make([]byte, 0, len(data)+21)
	value = strconv.AppendUint(value, uint64(gen), 10)
	value = append(value, '|')
	value = append(value, data...)
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	if err := setScript.Run(ctx, r.client, []string{r.keyPrefix + key}, value, r.ttl.Milliseconds()).Err(); err != nil {
		return redisError(ctx, "SET", err)
	}
	return nil
}

// Get returns the session stored under key, or (nil, nil) if there is none,
// it is revoked, or it belongs to an older generation. Each call returns a
// new value.
func (r *Redis) Get(ctx context.Context, key string) (*CachedSession, error) {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	current, data, found, err := r.fetch(ctx, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	gen, payload, ok := strings.Cut(data, "|")
	if !ok {
		if data == tombstone {
			return nil, nil
		}
		return nil, errors.New("sessioncache: decoding cached session: no generation")
	}
	if g, err := strconv.ParseUint(gen, 10, 64); err != nil || Generation(g) != current {
		return nil, nil // an older generation: cleared
	}
	s := new(CachedSession)
	if err := json.Unmarshal([]byte(payload), s); err != nil {
		return nil, fmt.Errorf("sessioncache: decoding cached session: %w", err)
	}
	return s, nil
}

// fetch reads the generation and the value under key in one round trip:
// one MGET, or on a cluster (where the two keys live in different slots) a
// pipeline of two GETs. found is false when the key holds nothing.
func (r *Redis) fetch(ctx context.Context, key string) (current Generation, value string, found bool, err error) {
	if _, cluster := r.client.(*redis.ClusterClient); cluster {
		pipe := r.client.Pipeline()
		genCmd := pipe.Get(ctx, r.genKey)
		valCmd := pipe.Get(ctx, r.keyPrefix+key)
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return 0, "", false, redisError(ctx, "GET", err)
		}
		if current, err = r.readGeneration(genCmd); err != nil {
			return 0, "", false, err
		}
		value, err = valCmd.Result()
		if errors.Is(err, redis.Nil) {
			return current, "", false, nil
		}
		if err != nil {
			return 0, "", false, redisError(ctx, "GET", err)
		}
		return current, value, true, nil
	}
	vals, err := r.client.MGet(ctx, r.genKey, r.keyPrefix+key).Result()
	if err != nil {
		return 0, "", false, redisError(ctx, "MGET", err)
	}
	var n uint64
	if g, ok := vals[0].(string); ok {
		if n, err = strconv.ParseUint(g, 10, 64); err != nil {
			return 0, "", false, fmt.Errorf("sessioncache: redis generation: %w", err)
		}
	}
	r.observed.Store(n)
	value, found = vals[1].(string)
	return Generation(n), value, found, nil
}

// readGeneration reads the result of a GET of the generation key (a
// missing key is generation 0) and records it as observed.
func (r *Redis) readGeneration(cmd *redis.StringCmd) (Generation, error) {
	n, err := cmd.Uint64()
	if errors.Is(err, redis.Nil) {
		n, err = 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sessioncache: redis generation: %w", err)
	}
	r.observed.Store(n)
	return Generation(n), nil
}

// Delete revokes keys: each holds a tombstone for the TTL, which Set does
// not overwrite. It is one pipelined round trip.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, r.keyPrefix+k, tombstone, r.ttl)
		}
		return nil
	})
	if err != nil {
		return redisError(ctx, "SET tombstone", err)
	}
	return nil
}

// Clear increments the cache's generation: no entry written before is read
// again, and they expire with their TTL. It is one INCR.
func (r *Redis) Clear(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	n, err := r.client.Incr(ctx, r.genKey).Uint64()
	if err != nil {
		return redisError(ctx, "INCR", err)
	}
	r.observed.Store(n)
	return nil
}

// Probe answers the run ids of the Redis masters holding the data (every
// master of a cluster, in order), and refreshes the observed generation. A
// different answer than before means the master changed (a Sentinel or
// Cluster failover, or a restart) and acknowledged writes may be lost.
func (r *Redis) Probe(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
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
	genCmd := r.client.Get(ctx, r.genKey)
	if err := genCmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return "", redisError(ctx, "GET", err)
	}
	if _, err := r.readGeneration(genCmd); err != nil {
		return "", err
	}
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

// Purge removes every key with the prefix, with SCAN (MATCH prefix*, COUNT
// 500) and UNLINK, on every master of a cluster. It is not part of
// Strategy: Clear is instant and needs no scan. Tests and maintenance use
// it to free memory at once. Keys written while it runs may survive it.
func (r *Redis) Purge(ctx context.Context) error {
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
func (r *Redis) purgeNode(ctx context.Context, c redis.Cmdable, perKeyUnlink bool) error {
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
