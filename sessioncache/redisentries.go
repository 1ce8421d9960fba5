package sessioncache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// How the Redis strategy writes and reads entries: the generation stamp
// that makes Clear one INCR, and the tombstone that makes Delete final.

// tombstone is the value of a revoked key. An entry always starts with a
// digit.
const tombstone = "!"

// setScript writes an entry unless its key is revoked.
var setScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == '!' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

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
