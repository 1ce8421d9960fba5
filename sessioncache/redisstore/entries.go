package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/shopsession/sessionserver/sessioncache"
)

// How the Redis strategy writes and reads entries: the codec ID that makes
// another build's entry a miss, the floor that makes Clear one script, and
// the tombstone and revocation clock that make Delete final without
// refusing the writes that come after it.

// tombstone is the value of a revoked key. An entry always starts with its
// codec's ID.
const tombstone = "!"

// tickScript advances the revocation clock (KEYS[1]) to the larger of its
// value + 1 and Redis's TIME in microseconds, and returns it. After a
// failover that lost the clock's last increments, the new master's time
// (seconds later, on a clock in step with the old one's) is still past
// every value handed out before, so a generation read from the old master
// cannot pass a revocation made on the new one. TIME in microseconds stays
// below 2^53, where Lua's numbers are exact.
var tickScript = redis.NewScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
local step = 1
if now > c then step = now - c end
return redis.call('INCRBY', KEYS[1], string.format('%d', step))`)

// clearScript advances the clock (KEYS[1]) as tickScript does, raises the
// floor (KEYS[2]) to it, and publishes on ARGV[1] the message ARGV[2]
// followed by the floor (publish.go; like every announcement, with pcall:
// a refusal for want of a channel permission is skipped).
var clearScript = redis.NewScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
local step = 1
if now > c then step = now - c end
local n = redis.call('INCRBY', KEYS[1], string.format('%d', step))
local f = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > f then redis.call('SET', KEYS[2], n); f = n end
redis.pcall('PUBLISH', ARGV[1], ARGV[2] .. string.format('%d', f))
return n`)

// setScript writes the entry ARGV[1] under KEYS[1] with PX ARGV[2], and
// publishes the message ARGV[5] on ARGV[4] (publish.go), unless the key
// was revoked at a clock value (KEYS[2]) newer than the write's generation
// ARGV[3], or holds a tombstone without a clock value (written by a build
// before the revocation clock: it refuses every write).
var setScript = redis.NewScript(`local t = redis.call('GET', KEYS[2])
if t then
  if tonumber(ARGV[3]) < tonumber(t) then return 0 end
elseif redis.call('GET', KEYS[1]) == '!' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.pcall('PUBLISH', ARGV[4], ARGV[5])
return 1`)

// revokeScript writes the tombstone under KEYS[1] and the clock value
// ARGV[1] of the revocation under KEYS[2], both with PX ARGV[2], unless
// KEYS[2] holds a newer value already: two revocations of one key that
// land in the other order leave the newer value in place. Given ARGV[3]
// and ARGV[4], it then publishes the message ARGV[4] on ARGV[3] (the last
// script of a pipeline announces the pipeline's keys: publish.go).
var revokeScript = redis.NewScript(`local t = redis.call('GET', KEYS[2])
if not t or tonumber(ARGV[1]) > tonumber(t) then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
redis.call('SET', KEYS[1], '!', 'PX', ARGV[2])
if ARGV[4] then redis.pcall('PUBLISH', ARGV[3], ARGV[4]) end
return 1`)

// revokedKey returns the key that holds the clock value of the last
// revocation of the entry key k, in k's hash slot (Redis Cluster hashes
// only the part between the first "{" and the next "}", when there is
// one): k's own hash tag when it has one, else all of k as the tag.
func revokedKey(k string) string {
	if open := strings.IndexByte(k, '{'); open >= 0 {
		if end := strings.IndexByte(k[open+1:], '}'); end > 0 {
			return k + ":revoked"
		}
	}
	return "{" + k + "}:revoked"
}

// Generation returns the last value of the revocation clock this process
// saw.
func (r *Store) Generation() sessioncache.Generation {
	return sessioncache.Generation(r.observed.Load())
}

// Set stores s under key with the TTL, replacing any entry there, unless
// the key was revoked after gen was taken. The entry is readable only while
// gen is not older than the last Clear. s must not be nil.
func (r *Store) Set(ctx context.Context, key string, s *sessioncache.CachedSession, gen sessioncache.Generation) error {
	if s == nil {
		return sessioncache.ErrNilSession
	}
	value := make([]byte, 0, 1024)
	value = append(value, r.valuePrefix...)
	value = strconv.AppendUint(value, uint64(gen), 10)
	value = append(value, '|')
	value, err := r.codec.AppendSession(value, s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	k := r.keyPrefix + key
	if err := setScript.Run(ctx, r.client, []string{k, revokedKey(k)},
		value, r.ttl.Milliseconds(), uint64(gen), r.channel, r.evictMessage(key)).Err(); err != nil {
		return redisError(ctx, "SET", err)
	}
	return nil
}

// Get returns the session stored under key, or (nil, nil) if there is none,
// it is revoked, it was written by another codec, or it is older than the
// last Clear. Each call returns a new value.
func (r *Store) Get(ctx context.Context, key string) (*sessioncache.CachedSession, error) {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	floor, data, found, err := r.fetch(ctx, key)
	if err != nil || !found {
		return nil, err
	}
	rest, ok := strings.CutPrefix(data, r.valuePrefix)
	if !ok {
		return nil, nil // a tombstone, or another codec's entry
	}
	gen, payload, ok := strings.Cut(rest, "|")
	if !ok {
		return nil, errors.New("sessioncache: decoding cached session: no generation")
	}
	g, err := strconv.ParseUint(gen, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("sessioncache: decoding cached session: generation: %w", err)
	}
	if g < floor {
		return nil, nil // cleared
	}
	return r.codec.DecodeSession([]byte(payload))
}

// fetch reads the floor, the clock (recorded as observed) and the value
// under key in one round trip: one MGET, or on a cluster (where the keys
// live in different slots) a pipeline of GETs. found is false when the key
// holds nothing.
func (r *Store) fetch(ctx context.Context, key string) (floor uint64, value string, found bool, err error) {
	var vals [3]any
	if _, cluster := r.client.(*redis.ClusterClient); cluster {
		pipe := r.client.Pipeline()
		cmds := [3]*redis.StringCmd{pipe.Get(ctx, r.floorKey), pipe.Get(ctx, r.clockKey), pipe.Get(ctx, r.keyPrefix+key)}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return 0, "", false, redisError(ctx, "GET", err)
		}
		for i, c := range cmds {
			v, err := c.Result()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return 0, "", false, redisError(ctx, "GET", err)
			default:
				vals[i] = v
			}
		}
	} else {
		res, err := r.client.MGet(ctx, r.floorKey, r.clockKey, r.keyPrefix+key).Result()
		if err != nil {
			return 0, "", false, redisError(ctx, "MGET", err)
		}
		if len(res) != len(vals) {
			return 0, "", false, fmt.Errorf("sessioncache: redis MGET: %d values for %d keys", len(res), len(vals))
		}
		copy(vals[:], res)
	}
	if floor, err = parseCounter("floor", vals[0]); err != nil {
		return 0, "", false, err
	}
	clock, err := parseCounter("clock", vals[1])
	if err != nil {
		return 0, "", false, err
	}
	r.observed.Store(clock)
	value, found = vals[2].(string)
	return floor, value, found, nil
}

// parseCounter reads the clock or the floor from an MGET or GET result: a
// missing key is 0.
func parseCounter(name string, v any) (uint64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sessioncache: redis %s: %w", name, err)
	}
	return n, nil
}

// Delete revokes keys: it advances the revocation clock, then each key
// holds the tombstone, and its revocation key the clock's new value (or a
// newer one), for the TTL. One script, then pipelines of one script per
// key, DeleteChunk keys each.
func (r *Store) Delete(ctx context.Context, keys ...string) error {
	return r.delete(ctx, keys, nil)
}

// delete is Delete; revoked, when set, is called with each chunk of keys
// once Redis holds their tombstones and has announced them.
func (r *Store) delete(ctx context.Context, keys []string, revoked func(chunk []string)) error {
	if len(keys) == 0 {
		return nil
	}
	tctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	t, err := tickScript.Run(tctx, r.client, []string{r.clockKey}).Uint64()
	if err != nil {
		err = redisError(tctx, "advance the revocation clock", err)
	}
	cancel()
	if err != nil {
		return err
	}
	for start := 0; start < len(keys); start += DeleteChunk {
		chunk := keys[start:min(start+DeleteChunk, len(keys))]
		if err := r.revoke(ctx, chunk, t); err != nil {
			return err
		}
		if revoked != nil {
			revoked(chunk)
		}
	}
	r.observed.Store(t)
	return nil
}

// DeleteChunk is how many keys one round trip of Delete revokes: a
// revocation of a user's 10,000 sessions is 40 round trips, each under its
// own SESSION_CACHE_TIMEOUT like any other cache call, never one call that
// no timeout fits (which would mark the cache down).
const DeleteChunk = 256

// revoke writes the tombstones of keys at revocation time t and then
// announces them, in one pipelined round trip with its own deadline: the
// last key's script publishes, after the others (Redis runs a pipeline in
// order), and not at all if the scripts were not loaded. On a cluster,
// whose client sends a pipeline's commands to their nodes concurrently, a
// PUBLISH follows the pipeline, so the announcement cannot overtake a
// tombstone.
func (r *Store) revoke(ctx context.Context, keys []string, t uint64) error {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	message := r.evictMessage(keys...)
	_, cluster := r.client.(*redis.ClusterClient)
	revoke := func(load bool) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				k = r.keyPrefix + k
				args := []any{t, r.ttl.Milliseconds()}
				if i == len(keys)-1 && !cluster {
					args = append(args, r.channel, message)
				}
				if load {
					revokeScript.Eval(ctx, p, []string{k, revokedKey(k)}, args...)
				} else {
					revokeScript.EvalSha(ctx, p, []string{k, revokedKey(k)}, args...)
				}
			}
			return nil
		})
		return err
	}
	err := revoke(false)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		err = revoke(true) // the server had not loaded the script; it is idempotent
	}
	if err != nil {
		return redisError(ctx, "SET tombstone", err)
	}
	if cluster {
		if err := r.client.Publish(ctx, r.channel, message).Err(); err != nil && !redis.HasErrorPrefix(err, "NOPERM") {
			return redisError(ctx, "PUBLISH", err)
		}
	}
	return nil
}

// Clear advances the revocation clock and raises the floor to it: no entry
// written before with an older generation is read again, and they expire
// with their TTL. It is one script.
func (r *Store) Clear(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.operationTimeout)
	defer cancel()
	n, err := clearScript.Run(ctx, r.client, []string{r.clockKey, r.floorKey}, r.channel, r.clearMessagePrefix()).Uint64()
	if err != nil {
		return redisError(ctx, "clear", err)
	}
	r.observed.Store(n)
	return nil
}
