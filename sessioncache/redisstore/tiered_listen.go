package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The listener of a Tiered: the subscription to the announcements, the
// markers that confirm it, and the state of the memory tier (in use until a
// lease ends, or bypassed).

// Bounds of the wait between two attempts to subscribe again after the
// subscription failed: go-redis reconnects on the next receive, and a
// server that is gone must not be dialled in a loop.
const (
	minResubscribeWait = 100 * time.Millisecond
	maxResubscribeWait = time.Second
)

// maxMarkers bounds the markers being published at once (each within the
// operation timeout); past this many, Confirm fails at once.
const maxMarkers = 4

var errNotSubscribed = errors.New("sessioncache: the memory tier has no subscription")

// Start subscribes to the announcements in the background and returns.
// The memory tier is used from the first marker that comes back until Stop
// (or ctx's end), which bypasses it again.
func (t *Tiered) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := t.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	ps := t.newSubscription(ctx)
	go func() {
		defer stopped()
		// A receive waits without a deadline: closing the subscription is
		// what ends it.
		stop := context.AfterFunc(ctx, t.closeSubscription)
		defer stop()
		started()
		t.listen(ctx, ps)
		t.closeSubscription()
		t.setBypassed("", nil)
	}()
	return nil
}

// newSubscription makes a subscription, without I/O (listen subscribes
// with it), and puts it in use.
func (t *Tiered) newSubscription(ctx context.Context) *redis.PubSub {
	ps := t.store.client.Subscribe(ctx)
	t.mu.Lock()
	t.ps, t.subscribed = ps, false
	t.changedLocked()
	t.mu.Unlock()
	return ps
}

// changedLocked wakes the Confirm calls waiting: a marker came back, or a
// subscription was made. t.mu is held.
func (t *Tiered) changedLocked() {
	close(t.answered)
	t.answered = make(chan struct{})
}

// listen subscribes with ps, and with a new subscription whenever the one
// in use is closed, until ctx ends.
func (t *Tiered) listen(ctx context.Context, ps *redis.PubSub) {
	wait := minResubscribeWait
	for {
		// An error here is a failed connection: the next receive
		// connects again and subscribes.
		_ = ps.Subscribe(ctx, t.store.channel)
		if !t.current(ps) || ctx.Err() != nil {
			_ = ps.Close() // closeSubscription may have run before t.ps was set
			return
		}
		t.receive(ctx, ps, &wait)
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		ps = t.newSubscription(ctx)
	}
}

// receive applies what the subscription ps delivers until it is closed
// (by closeSubscription or restartSubscription) or ctx ends.
func (t *Tiered) receive(ctx context.Context, ps *redis.PubSub, wait *time.Duration) {
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) || !t.current(ps) {
				t.setBypassed("", nil) // closed on purpose: the closer said why
				return
			}
			t.setBypassed("the subscription failed", err)
			t.mu.Lock()
			t.subscribed = false
			t.mu.Unlock()
			if rerr := redis.Error(nil); errors.As(err, &rerr) {
				// An answer, not a failed connection (NOPERM: the Redis
				// user may not use the channel). Tried again every second.
				t.warnRarely("session cache: Redis refused the memory tier's subscription; reading Redis only", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(*wait):
			}
			*wait = min(2**wait, maxResubscribeWait)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" || m.Channel != t.store.channel {
				continue
			}
			// A new connection (the first, or one go-redis made after a
			// failure): what was announced before it may be lost. The
			// memory is cleared now, and again when a marker comes back.
			t.setBypassed("subscribed again", nil)
			t.mu.Lock()
			t.subscribed = true
			t.mu.Unlock()
			*wait = minResubscribeWait
			t.mark()
		case *redis.Message:
			t.apply(ctx, m.Payload)
		}
	}
}

// warnInterval bounds how often warnRarely logs.
const warnInterval = time.Minute

// warnRarely logs a warning at most once per warnInterval.
func (t *Tiered) warnRarely(msg string, args ...any) {
	now := t.now().UnixNano()
	last := t.warned.Load()
	if last != 0 && now-last < int64(warnInterval) || !t.warned.CompareAndSwap(last, now) {
		return
	}
	t.log.Warn(msg, args...)
}

// current reports whether ps is the subscription in use.
func (t *Tiered) current(ps *redis.PubSub) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ps == ps
}

// closeSubscription closes the subscription in use, if any, which ends
// the receive waiting on it.
func (t *Tiered) closeSubscription() {
	t.mu.Lock()
	ps := t.ps
	t.ps, t.subscribed = nil, false
	t.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
}

// restartSubscription closes the subscription in use without waiting
// (Close waits for a reconnection under way); the listener subscribes
// again on a new connection.
func (t *Tiered) restartSubscription() {
	t.mu.Lock()
	ps := t.ps
	t.ps, t.subscribed = nil, false
	t.mu.Unlock()
	if ps != nil {
		go func() { _ = ps.Close() }()
	}
}

// apply applies an announcement of another process to the memory. One it
// cannot read clears the memory.
func (t *Tiered) apply(ctx context.Context, payload string) {
	m, err := parseMessage(payload)
	switch {
	case err != nil:
		t.warnRarely("session cache: unreadable invalidation; clearing the memory tier", "err", err)
		m.clear = true
	case m.marker:
		if m.sender == t.store.sender {
			t.marked(ctx, m.seq)
		}
		return
	case m.sender == t.store.sender:
		return // this process applied it before announcing it
	}
	if m.clear {
		_ = t.memory.Clear(ctx)
	} else {
		_ = t.memory.Delete(ctx, m.keys...)
	}
	t.applied.Add(1)
	t.TestSignals.Applied.Signal(Invalidation{Keys: m.keys, Clear: m.clear, At: t.now()})
}

// mark publishes a marker with a new sequence number, recorded with its
// send time, and returns the sequence; ok is false when no marker could
// be sent (maxMarkers are under way). The marker comes back on the
// subscription after every message published before it.
func (t *Tiered) mark() (seq uint64, ok bool) {
	select {
	case t.markers <- struct{}{}:
	default:
		return 0, false
	}
	t.mu.Lock()
	t.seq++
	seq = t.seq
	t.pending[seq] = t.now()
	t.mu.Unlock()
	go func() {
		defer func() { <-t.markers }()
		ctx, cancel := context.WithTimeout(context.Background(), t.store.operationTimeout)
		defer cancel()
		// A marker lost is one that does not come back.
		_ = t.store.client.Publish(ctx, t.store.channel, t.store.markerMessage(seq)).Err()
	}()
	return seq, true
}

// marked handles a marker of this process that came back: every
// announcement published before it has been applied, so the memory is in
// use until the marker's send time plus the lease. Coming out of a
// bypass, the memory is cleared first: announcements made before the
// subscription may be lost. A marker sent before the last bypass, or read
// before the connection confirmed the subscription, is ignored.
func (t *Tiered) marked(ctx context.Context, seq uint64) {
	t.mu.Lock()
	sent, ok := t.pending[seq]
	if !ok || !t.subscribed {
		t.mu.Unlock()
		return
	}
	for s := range t.pending {
		if s <= seq {
			delete(t.pending, s) // back, or lost on the way
		}
	}
	until, old := sent.Add(t.lease), t.until.Load()
	resumed := old == nil
	if resumed {
		_ = t.memory.Clear(ctx)
	}
	if old == nil || until.After(*old) {
		t.until.Store(&until)
	}
	t.confirmed = max(t.confirmed, seq)
	t.changedLocked()
	t.mu.Unlock()
	if resumed {
		t.log.InfoContext(ctx, "session cache: memory tier in use")
		t.TestSignals.InUse.Signal(true)
	}
}

// setBypassed clears the memory and stops reading it until a marker comes
// back. reason, when not empty, is logged if the memory was in use.
func (t *Tiered) setBypassed(reason string, err error) {
	t.mu.Lock()
	wasInUse := t.until.Swap(nil) != nil
	clear(t.pending)
	_ = t.memory.Clear(context.Background())
	t.mu.Unlock()
	if !wasInUse {
		return
	}
	t.bypasses.Add(1)
	if reason != "" {
		t.log.Warn("session cache: memory tier cleared and bypassed until the subscription is confirmed", "reason", reason, "err", err)
	}
	t.TestSignals.InUse.Signal(false)
}

// Confirm publishes a marker and waits (SESSION_CACHE_TIMEOUT, the Store's
// OperationTimeout) until it comes back on the subscription; while there is
// no subscription (it is being replaced) it waits for one first. Once it
// returns nil, every announcement published before it was called has been
// applied to the memory, which is in use. Probe calls it; tests call it to
// wait for the announcements of another instance.
func (t *Tiered) Confirm(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.store.operationTimeout)
	defer cancel()
	var seq uint64
	for {
		t.mu.Lock()
		subscribed, done, changed := t.ps != nil, seq != 0 && t.confirmed >= seq, t.answered
		t.mu.Unlock()
		if done {
			return nil
		}
		if seq == 0 && subscribed {
			var ok bool
			if seq, ok = t.mark(); !ok {
				return fmt.Errorf("sessioncache: %d markers of the subscription under way", maxMarkers)
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if seq == 0 {
				return fmt.Errorf("%w: %w", errNotSubscribed, ctx.Err())
			}
			return fmt.Errorf("sessioncache: the subscription's marker did not come back: %w", ctx.Err())
		}
	}
}
