package persisted

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of RedisOptions.
const (
	DefaultRedisKeyPrefix = "apq:"
	// DefaultTTL is APQ_TTL's default: how long Redis keeps a registered
	// document. A client whose document expired is told
	// PERSISTED_QUERY_NOT_FOUND once and registers it again.
	DefaultTTL = 24 * time.Hour
	// DefaultRedisTimeout bounds each Redis call: a lookup runs before the
	// request it serves, so a slow Redis must not hold it (Fallback then
	// answers from this instance's memory).
	DefaultRedisTimeout = 100 * time.Millisecond
)

// RedisOptions configures a Redis store. The zero value uses every default.
type RedisOptions struct {
	// KeyPrefix is put in front of every key. Defaults to
	// DefaultRedisKeyPrefix.
	KeyPrefix string
	// TTL is how long a registered document is kept, and the length of
	// the windows MaxBytes counts in. Defaults to DefaultTTL.
	TTL time.Duration
	// MaxBytes is how many bytes of entries (see Memory) may be registered
	// per TTL window, across every instance; past it Add returns ErrFull.
	// Defaults to DefaultCacheBytes.
	MaxBytes int64
	// Timeout bounds each call (the caller's deadline, if sooner, wins).
	// Defaults to DefaultRedisTimeout.
	Timeout time.Duration
	// NowFunc returns the current time, which places a registration in its
	// window. Defaults to time.Now.
	NowFunc func() time.Time
}

// Redis is a Store shared by every instance that uses the same Redis and
// prefix.
//
// Layout: a document is the string KeyPrefix + "doc:" + its hash, with an
// expiry of TTL (a lookup does not extend it). The bytes registered in each
// window of TTL (windows start at multiples of TTL since the Unix epoch, by
// NowFunc) are counted in KeyPrefix + "bytes:" + the window's number, which
// expires after two windows. Add counts first and stores only while the
// count is within MaxBytes, so at any time Redis holds at most the
// documents of the current window and the previous one: 2 × MaxBytes, and
// a flood of registrations cannot grow it further. The count and the
// document are two calls on two keys (so it works on a Redis Cluster);
// concurrent registrations may pass the budget by what they add together.
//
// Every call has a deadline (Timeout). go-redis applies it to socket reads
// and writes only when the client has ContextTimeoutEnabled. Errors are
// returned; wrap the store in Fallback so that an outage does not fail a
// request.
type Redis struct {
	client   redis.UniversalClient
	prefix   string
	ttl      time.Duration
	maxBytes int64
	timeout  time.Duration
	now      func() time.Time
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis store on client, which the caller keeps
// ownership of.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{client: client, prefix: opts.KeyPrefix, ttl: opts.TTL, maxBytes: opts.MaxBytes, timeout: opts.Timeout, now: opts.NowFunc}
	if r.prefix == "" {
		r.prefix = DefaultRedisKeyPrefix
	}
	if r.ttl <= 0 {
		r.ttl = DefaultTTL
	}
	if r.maxBytes <= 0 {
		r.maxBytes = DefaultCacheBytes
	}
	if r.timeout <= 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, hash string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	doc, err := r.client.Get(ctx, r.docKey(hash)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return doc, true, nil
}

// Add implements Store. A document longer than MaxDocumentBytes is not
// stored; past the window's budget Add returns ErrFull.
func (r *Redis) Add(ctx context.Context, hash, doc string) error {
	if len(doc) > MaxDocumentBytes {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	size := entryBytes(hash, doc)
	if size > r.maxBytes {
		return ErrFull
	}
	window := r.now().UnixMilli() / r.ttl.Milliseconds()
	counter := r.prefix + "bytes:" + strconv.FormatInt(window, 10)
	pipe := r.client.Pipeline()
	used := pipe.IncrBy(ctx, counter, size)
	pipe.PExpire(ctx, counter, 2*r.ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	if used.Val() > r.maxBytes {
		return ErrFull
	}
	return r.client.Set(ctx, r.docKey(hash), doc, r.ttl).Err()
}

func (r *Redis) docKey(hash string) string { return r.prefix + "doc:" + hash }
