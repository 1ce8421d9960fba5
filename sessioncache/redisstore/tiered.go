package redisstore

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopsession/sessionserver/internal/startstop"
	"github.com/shopsession/sessionserver/internal/testsignal"
	"github.com/shopsession/sessionserver/sessioncache"
)

// DefaultLease is how long a confirmed subscription keeps the memory tier
// of a Tiered in use without a new confirmation, unless TieredOptions say
// otherwise. The server confirms it every second (each round of its cache
// sync probes the cache), so a lease of a second and a half lets one round
// be half a second late before reads bypass the memory tier; and however
// late the sync is, no copy is served longer than that after the last
// proof that nothing was missed.
const DefaultLease = 1500 * time.Millisecond

// TieredOptions configures a Tiered. The zero value uses every default.
type TieredOptions struct {
	// Lease is how long after sending the last marker that came back (see
	// Tiered) the memory tier is read. Defaults to DefaultLease.
	Lease time.Duration
	// NowFunc is the clock of the lease and of the entries' staleness.
	// Defaults to time.Now.
	NowFunc func() time.Time
	// Logger receives a line when the memory tier is bypassed and when it
	// is in use again. Defaults to slog.Default().
	Logger *slog.Logger
}

// Tiered is a sessioncache.Strategy that keeps a sessioncache.Memory in
// front of a Store: reads are answered from this process's memory when it
// holds the entry, else from Redis (and the memory keeps a copy); writes,
// revocations and clears go to Redis and to the memory. Every write of
// every Store is announced on the Redis channel of its key prefix
// (publish.go); a Tiered listens to it and drops the copies the others'
// writes make old. It is what SESSION_CACHE_STRATEGY=redis+memory builds,
// on one Redis server or Sentinel: on a Cluster, announcements made on
// other nodes arrive over the cluster bus, which the markers below do not
// confirm (the server refuses that configuration).
//
// Invariant: the memory tier answers a read only while the subscription
// is known to have delivered every announcement made since the memory was
// last cleared. It is known by a marker: the process publishes a message
// of its own (publish.go), Redis delivers it to the subscription after
// every message published before it, and the listener applies messages in
// order, so when the marker is read every earlier announcement has been
// applied. Hence:
//   - With Redis healthy, another instance's copy of an entry that was
//     revoked, cleared or rewritten is dropped within the delivery time of
//     one message (docs/benchmarks.md has the figure).
//   - The memory tier is read only within Lease of the send time of the
//     last marker that came back. Probe (each round of the server's cache
//     sync, every second) publishes one and waits SESSION_CACHE_TIMEOUT for
//     it; a probe that fails, a marker that does not come back, an error on
//     the subscription, or a new subscription (the connection was replaced,
//     messages may have been lost) clears the memory and bypasses it until
//     a marker comes back on a subscription; the memory is cleared again
//     then. So an instance cut from Redis stops answering from its memory
//     at its next sync round (one second and SESSION_CACHE_TIMEOUT after
//     the last good one), and never later than Lease after it.
//   - A failover moves go-redis's commands to the new master but leaves a
//     subscription on the old one, where the announcements made on the new
//     one never arrive (nor does the marker, published on the new one).
//     Probe sees the master's identity change (as the cache sync does),
//     bypasses the memory and subscribes again, at the new master: after a
//     failover, as for the evictions the switch lost
//     (service/session/cachesync.go), an instance's next sync round ends
//     the window.
//
// Between the tiers, the memory keeps only what a Get read from Redis:
//   - A Get that Redis answers keeps a copy, stamped with the memory's own
//     Generation taken before the Redis call: an announcement of the key
//     (or a Clear, or a bypass) applied meanwhile refuses it, so an entry
//     read before another instance's write never lands after that write's
//     announcement.
//   - Set, Delete and Clear apply to Redis first, then drop the keys (or
//     everything) from this process's memory, as the announcement does in
//     every other process (a process skips its own announcements). So the
//     memory never holds what Redis refused, and no write of this process
//     races with a copy it keeps. When Redis fails the memory drops them
//     all the same and the error is returned (a revocation's outbox applies
//     it again later, announcing it to the others then).
//
// An entry past its CacheExpiry is not answered from memory: Redis is
// asked, which may hold a newer one (or none: a cache-only guest's key
// expires in Redis when it goes stale).
//
// Tiered is a startstop.Service: Start subscribes (until then, and
// whenever the subscription is not confirmed, it is the Store alone).
// Purge, Stats and Confirm are for tests and maintenance. It is safe for
// concurrent use.
type Tiered struct {
	startstop.BaseStartStop

	store  *Store
	memory *sessioncache.Memory
	lease  time.Duration
	now    func() time.Time
	log    *slog.Logger

	// until is when the memory stops being read; nil while it is bypassed.
	// (A time.Time, compared on the monotonic clock when the clock has one:
	// a step of the wall clock does not stretch the lease.)
	until atomic.Pointer[time.Time]

	markers chan struct{} // a slot per marker being published (maxMarkers)

	mu         sync.Mutex
	ps         *redis.PubSub        // the subscription; nil while there is none
	subscribed bool                 // ps's connection confirmed the subscription
	pending    map[uint64]time.Time // marker sequence -> send time, since the last bypass
	seq        uint64               // the last marker's sequence
	confirmed  uint64               // the highest sequence whose marker put the memory in use
	answered   chan struct{}        // closed and replaced when confirmed changes
	identity   string               // the last Probe's answer

	hits, applied, bypasses atomic.Int64
	warned                  atomic.Int64 // Unix nanoseconds of warnRarely's last line

	// TestSignals are sent only once a test has initialised them.
	TestSignals TieredTestSignals
}

// TieredTestSignals are the events of a Tiered a test can wait for.
type TieredTestSignals struct {
	// Applied: an announcement of another process was applied to the
	// memory.
	Applied testsignal.Signal[Invalidation]
	// InUse: the memory tier was put in use (true) or bypassed (false).
	InUse testsignal.Signal[bool]
}

// Init initialises every signal; only tests call it.
func (ts *TieredTestSignals) Init(tb testsignal.TB) {
	ts.Applied.Init(tb)
	ts.InUse.Init(tb)
}

// Invalidation is an announcement applied to the memory tier: Keys
// dropped, or everything (Clear), at At (the Tiered's clock).
type Invalidation struct {
	Keys  []string
	Clear bool
	At    time.Time
}

// TieredStats counts what a Tiered has done since it was made.
type TieredStats struct {
	// MemoryHits are the Gets answered from the memory tier.
	MemoryHits int64
	// Applied are the announcements of other processes applied.
	Applied int64
	// Bypasses are the times the memory tier was cleared and bypassed.
	Bypasses int64
}

var (
	_ sessioncache.Strategy = (*Tiered)(nil)
	_ sessioncache.Prober   = (*Tiered)(nil)
	_ startstop.Service     = (*Tiered)(nil)
)

// NewTiered returns a Tiered of memory in front of store, not started.
// Both are its own from then on: nothing else may use memory.
func NewTiered(store *Store, memory *sessioncache.Memory, opts TieredOptions) *Tiered {
	t := &Tiered{
		store:    store,
		memory:   memory,
		lease:    cmp.Or(opts.Lease, DefaultLease),
		now:      opts.NowFunc,
		log:      opts.Logger,
		markers:  make(chan struct{}, maxMarkers),
		pending:  map[uint64]time.Time{},
		answered: make(chan struct{}),
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.Default()
	}
	return t
}

// Store returns the Redis tier.
func (t *Tiered) Store() *Store { return t.store }

// Generation returns the Redis tier's; see Store.
func (t *Tiered) Generation() sessioncache.Generation { return t.store.Generation() }

// Get returns the memory's entry while the memory is in use and the entry
// is fresh, else Redis's (keeping a copy in memory).
func (t *Tiered) Get(ctx context.Context, key string) (*sessioncache.CachedSession, error) {
	now := t.now()
	if until := t.until.Load(); until != nil && now.Before(*until) {
		if cs, _ := t.memory.Get(ctx, key); cs != nil && !cs.IsStale(now) {
			t.hits.Add(1)
			return cs, nil
		}
	}
	memGen := t.memory.Generation()
	cs, err := t.store.Get(ctx, key)
	if err != nil || cs == nil || cs.IsStale(now) || t.until.Load() == nil {
		return cs, err
	}
	_ = t.memory.Set(ctx, key, cs, memGen) // never fails
	return cs, nil
}

// Set writes s to Redis (see Store.Set), then drops the key from the
// memory.
func (t *Tiered) Set(ctx context.Context, key string, s *sessioncache.CachedSession, gen sessioncache.Generation) error {
	err := t.store.Set(ctx, key, s, gen)
	if s != nil {
		_ = t.memory.Delete(ctx, key) // never fails
	}
	return err
}

// Delete revokes keys in Redis (announcing it), then drops them from the
// memory, a chunk at a time; if Redis fails the memory drops them all the
// same.
func (t *Tiered) Delete(ctx context.Context, keys ...string) error {
	err := t.store.delete(ctx, keys, func(chunk []string) { _ = t.memory.Delete(ctx, chunk...) })
	if err != nil {
		_ = t.memory.Delete(ctx, keys...)
	}
	return err
}

// Clear clears Redis (announcing it), then the memory; if Redis fails the
// memory is cleared all the same.
func (t *Tiered) Clear(ctx context.Context) error {
	err := t.store.Clear(ctx)
	_ = t.memory.Clear(ctx)
	return err
}

// Probe probes the Redis tier (see Store.Probe), then confirms the
// subscription (Confirm). A failed probe bypasses the memory tier and is
// returned; a subscription that cannot be confirmed bypasses it and is
// restarted, and Probe still answers: Redis itself works.
//
// A change of the master's identity (a failover) bypasses the memory tier
// and restarts the subscription too: go-redis moves commands to the new
// master but leaves a subscription where it is, where the announcements
// made on the new master never arrive.
func (t *Tiered) Probe(ctx context.Context) (string, error) {
	id, err := t.store.Probe(ctx)
	if err != nil {
		t.setBypassed("the cache probe failed", err)
		return "", err
	}
	t.mu.Lock()
	switched := t.identity != "" && id != t.identity
	t.identity = id
	t.mu.Unlock()
	if switched {
		t.setBypassed("the Redis master changed", nil)
		t.restartSubscription()
		return id, nil
	}
	if err := t.Confirm(ctx); err != nil {
		t.setBypassed("the subscription was not confirmed", err)
		t.restartSubscription()
	}
	return id, nil
}

// Stats returns the counts since t was made.
func (t *Tiered) Stats() TieredStats {
	return TieredStats{MemoryHits: t.hits.Load(), Applied: t.applied.Load(), Bypasses: t.bypasses.Load()}
}

// InUse reports whether the memory tier is read now.
func (t *Tiered) InUse() bool {
	until := t.until.Load()
	return until != nil && t.now().Before(*until)
}

// Purge removes the Redis tier's keys (Store.Purge) and clears the memory.
func (t *Tiered) Purge(ctx context.Context) error {
	err := t.store.Purge(ctx)
	_ = t.memory.Clear(ctx)
	return err
}
