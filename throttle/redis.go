package throttle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of RedisOptions.
const (
	DefaultRedisKeyPrefix = "throttle:"
	// DefaultRedisTimeout bounds each Redis call: a throttle check runs
	// before every login, so a slow Redis must not hold logins for long
	// (Fallback then answers from this instance's memory).
	DefaultRedisTimeout = 100 * time.Millisecond
)

// RedisOptions configures a Redis limiter. The zero value uses every
// default.
type RedisOptions struct {
	// KeyPrefix is put in front of every key. Defaults to
	// DefaultRedisKeyPrefix.
	KeyPrefix string
	// Timeout bounds each call (the caller's deadline, if sooner, wins).
	// Defaults to DefaultRedisTimeout.
	Timeout time.Duration
	// NowFunc returns the current time, which is passed to Redis with each
	// call: the windows follow this clock, not the server's, so that tests
	// can move it. Instances' clocks may differ by the little NTP leaves.
	// Defaults to time.Now.
	NowFunc func() time.Time
}

// Redis is a Limiter shared by every instance that uses the same Redis and
// prefix.
//
// Layout: each key is a sorted set, KeyPrefix + the rule's name + the
// hashed key, of its events (score: the event's time in microseconds;
// member: that time and a per-process unique suffix). Each call is one
// EVALSHA of one script on one key (so it works on a Redis Cluster): it
// removes the events that left the window, counts, adds when the mode says
// so, trims the set to Limit events, and sets the key's expiry to one
// window after its last event, so no key outlives its window.
//
// Every call has a deadline (Timeout). go-redis applies it to socket reads
// and writes only when the client has ContextTimeoutEnabled. Errors are
// returned; wrap the limiter in Fallback to decide what an outage means.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
	// instance and seq make each event's member unique across processes.
	instance string
	seq      atomic.Uint64
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Redis limiter on client, which the caller keeps
// ownership of.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails
	r := &Redis{client: client, prefix: opts.KeyPrefix, timeout: opts.Timeout, now: opts.NowFunc, instance: hex.EncodeToString(b[:])}
	if r.prefix == "" {
		r.prefix = DefaultRedisKeyPrefix
	}
	if r.timeout <= 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// script: KEYS[1] the key; ARGV: now (µs), window (µs), limit, mode, member.
// It returns {allowed (1/0), retry after (µs)}.
var script = redis.NewScript(`
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local mode = ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
local allowed = n < limit
if mode == 'add' or (mode == 'take' and allowed) then
  redis.call('ZADD', key, now, ARGV[5])
  n = n + 1
  if n > limit then
    redis.call('ZREMRANGEBYRANK', key, 0, n - limit - 1)
  end
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
end
if allowed then
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`)

// Check implements Limiter.
func (r *Redis) Check(ctx context.Context, rule Rule, key string) (Decision, error) {
	return r.run(ctx, rule, key, modeCheck)
}

// Add implements Limiter.
func (r *Redis) Add(ctx context.Context, rule Rule, key string) error {
	_, err := r.run(ctx, rule, key, modeAdd)
	return err
}

// Take implements Limiter.
func (r *Redis) Take(ctx context.Context, rule Rule, key string) (Decision, error) {
	return r.run(ctx, rule, key, modeTake)
}

// Reset implements Limiter.
func (r *Redis) Reset(ctx context.Context, rule Rule, key string) error {
	if rule.Off() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Del(ctx, r.prefix+storedKey(rule, key)).Err(); err != nil {
		return redisError(ctx, "reset", err)
	}
	return nil
}

func (r *Redis) run(ctx context.Context, rule Rule, key, mode string) (Decision, error) {
	if rule.Off() {
		return Decision{Allowed: true}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	now := r.now().UnixMicro()
	member := strconv.FormatInt(now, 36) + "-" + r.instance + "-" + strconv.FormatUint(r.seq.Add(1), 36)
	res, err := script.Run(ctx, r.client, []string{r.prefix + storedKey(rule, key)},
		now, rule.Window.Microseconds(), rule.Limit, mode, member).Int64Slice()
	if err != nil {
		return Decision{}, redisError(ctx, mode, err)
	}
	if len(res) != 2 {
		return Decision{}, fmt.Errorf("throttle: redis %s: unexpected reply %v", mode, res)
	}
	if res[0] == 1 {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: time.Duration(res[1]) * time.Microsecond}, nil
}

// redisError wraps err from the Redis operation op; when ctx has ended, or
// its deadline has passed (the socket's deadline, the same instant, may
// fire before the context's timer does), it also wraps ctx.Err() or
// context.DeadlineExceeded, which go-redis does not always do.
func redisError(ctx context.Context, op string, err error) error {
	ctxErr := ctx.Err()
	if deadline, ok := ctx.Deadline(); ok && ctxErr == nil && !time.Now().Before(deadline) {
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("throttle: redis %s: %w (%w)", op, err, ctxErr)
	}
	return fmt.Errorf("throttle: redis %s: %w", op, err)
}
