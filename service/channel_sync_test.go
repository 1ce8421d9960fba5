package service_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// channelReads is a bun query hook that counts the loads of the channel
// table (the snapshot's query) and, while stalled, holds each one before it
// reaches the database, as a database that does not answer would, until
// it is resumed, whatever the load's context.
type channelReads struct {
	n       atomic.Int64
	mu      sync.Mutex
	stall   chan struct{} // closed on resume; nil while not stalled
	reached chan struct{} // a send (if room) each time a load is held
}

func newChannelReads() *channelReads { return &channelReads{reached: make(chan struct{}, 1)} }

func isChannelLoad(query string) bool { return strings.Contains(query, `FROM "channel" AS "ch"`) }

func (h *channelReads) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !isChannelLoad(e.Query) {
		return ctx
	}
	h.n.Add(1)
	h.mu.Lock()
	stall := h.stall
	h.mu.Unlock()
	if stall != nil {
		select {
		case h.reached <- struct{}{}:
		default:
		}
		<-stall // deaf to ctx: no caller may depend on the load ending
	}
	return ctx
}

func (h *channelReads) AfterQuery(context.Context, *bun.QueryEvent) {}

func (h *channelReads) count() int64 { return h.n.Load() }

func (h *channelReads) stallLoads() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stall = make(chan struct{})
}

func (h *channelReads) resume() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stall != nil {
		close(h.stall)
		h.stall = nil
	}
}

// requireNotFound asserts a *ChannelNotFoundError for token.
func requireNotFound(t *testing.T, err error, token string) {
	t.Helper()
	var nf *outcome.ChannelNotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, token, nf.Token)
}

// flood asks for n random channel tokens from workers goroutines with ctx
// and returns how many answers were not CHANNEL_NOT_FOUND.
func flood(t *testing.T, ctx context.Context, s *access.ChannelService, n, workers int) int64 {
	t.Helper()
	var wrong atomic.Int64
	var wg sync.WaitGroup
	per := n / workers
	for range workers {
		wg.Go(func() {
			for range per {
				var nf *outcome.ChannelNotFoundError
				if _, err := s.GetChannelFromToken(ctx, rand.Text()); !errors.As(err, &nf) {
					wrong.Add(1)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("requests with unknown channel tokens hang")
	}
	return wrong.Load()
}

// A channel updated or deleted on one instance, or a role changed there, is
// seen by another at its next sync: the other instance's snapshot still
// holds the old token until then (no request can make it notice a token
// that is known but gone), and the sync reports the change once.
func TestChannelChangesReachOtherInstanceAtSync(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		second := b.createChannel(t, "second")
		other := newChannelService(t, access.ChannelConfig{DB: b.db, Sessions: b.sessions, NowFunc: b.clock.Now})
		changed, err := other.Sync(b.ctx)
		require.NoError(t, err)
		require.False(t, changed, "the other instance loaded after the change")

		second.Token = "renamed"
		require.NoError(t, b.channels.Update(b.ctx, second))
		ch, err := other.GetChannelFromToken(b.ctx, "second-token")
		require.NoError(t, err, "before its sync the other instance still knows the old token")
		require.Equal(t, second.ID, ch.ID)

		changed, err = other.Sync(b.ctx)
		require.NoError(t, err)
		require.True(t, changed)
		_, err = other.GetChannelFromToken(b.ctx, "second-token")
		requireNotFound(t, err, "second-token")
		ch, err = other.GetChannelFromToken(b.ctx, "renamed")
		require.NoError(t, err)
		require.Equal(t, second.ID, ch.ID)
		changed, err = other.Sync(b.ctx)
		require.NoError(t, err)
		require.False(t, changed, "a change is reported once")

		require.NoError(t, b.channels.Delete(b.ctx, second.ID))
		changed, err = other.Sync(b.ctx)
		require.NoError(t, err)
		require.True(t, changed)
		_, err = other.ByID(second.ID)
		require.ErrorIs(t, err, outcome.ErrNotFound)
		ch, err = other.GetChannelFromToken(b.ctx, "renamed")
		require.NoError(t, err, "one channel left: any token is the default channel")
		require.Equal(t, b.defaultChannel.ID, ch.ID)

		role := b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
		changed, err = other.Sync(b.ctx)
		require.NoError(t, err)
		require.True(t, changed, "a role change is an access change")
		require.NoError(t, b.roles.UpdatePermissions(b.ctx, role, []auth.Permission{"ReadOrder"}))
		changed, err = other.Sync(b.ctx)
		require.NoError(t, err)
		require.True(t, changed)

		// A refused change announces nothing.
		require.ErrorIs(t, b.roles.Delete(b.ctx, b.superRoleID), outcome.ErrCannotModifyRole)
		require.ErrorIs(t, b.channels.Delete(b.ctx, 999999), outcome.ErrNotFound)
		changed, err = other.Sync(b.ctx)
		require.NoError(t, err)
		require.False(t, changed)
	})
}

// An instance whose cache is its own (memory) clears it at the sync that
// sees a role change made on another instance: its cached sessions carry
// the old permissions. A shared cache was cleared by the instance that made
// the change, so no other instance clears it again.
func TestRoleChangeOnAnotherInstanceClearsUnsharedCache(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
		require.NoError(t, err)
		var channels *access.ChannelService
		sessions, err := session.New(session.Config{
			DB: b.db, Cache: mem, Logger: discardLog, NowFunc: b.clock.Now,
			AccessSyncFunc: func(ctx context.Context) (bool, error) { return channels.Sync(ctx) },
		})
		require.NoError(t, err)
		channels = newChannelService(t, access.ChannelConfig{DB: b.db, Sessions: sessions, NowFunc: b.clock.Now})
		ch := b.defaultChannel.ID
		_, err = sessions.CreateAnonymousSession(b.ctx, &ch)
		require.NoError(t, err)
		require.NoError(t, sessions.SyncCache(b.ctx))
		require.Equal(t, 1, mem.Len(), "nothing changed: the cache is kept")

		b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
		require.NoError(t, sessions.SyncCache(b.ctx))
		require.Zero(t, mem.Len(), "the other instance's role change cleared this cache")
	})
}

// A flood of requests naming random channel tokens costs one read of the
// channel table per reload interval, however many requests, and every one
// is answered CHANNEL_NOT_FOUND.
func TestUnknownChannelTokenFloodReadsOnce(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		b.createChannel(t, "second") // two channels: tokens are checked
		reads := newChannelReads()
		s := newChannelService(t, access.ChannelConfig{DB: b.db.WithQueryHook(reads), Sessions: b.sessions, NowFunc: b.clock.Now})
		require.EqualValues(t, 1, reads.count(), "the first load")

		require.Zero(t, flood(t, b.ctx, s, 10_000, 8))
		require.EqualValues(t, 2, reads.count(), "10,000 random tokens: one load")

		b.clock.Advance(time.Second)
		require.Zero(t, flood(t, b.ctx, s, 10_000, 8))
		require.EqualValues(t, 3, reads.count(), "one more load per interval")

		// A token that a fresh load did not find starts no load for a while.
		b.clock.Advance(time.Second)
		_, err := s.GetChannelFromToken(b.ctx, "stale-token")
		requireNotFound(t, err, "stale-token")
		require.EqualValues(t, 4, reads.count())
		for range 4 {
			b.clock.Advance(time.Second)
			_, err := s.GetChannelFromToken(b.ctx, "stale-token")
			requireNotFound(t, err, "stale-token")
		}
		require.EqualValues(t, 4, reads.count(), "remembered as unknown")

		// A channel another instance creates is found by the first request
		// that may load, though its token was remembered as unknown: the
		// memory of unknown tokens only saves loads.
		b.clock.Advance(time.Second)
		_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "third", Token: "stale-token"})
		require.NoError(t, err)
		changed, err := s.Sync(b.ctx)
		require.NoError(t, err)
		require.True(t, changed)
		ch, err := s.GetChannelFromToken(b.ctx, "stale-token")
		require.NoError(t, err)
		require.Equal(t, "third", ch.Code)
	})
}

// While the database holds the load of the channel table, no request with
// an unknown token waits beyond its own deadline, and most do not wait at
// all: the one that claimed the load waits until its context ends, every
// other answers from the snapshot at once (even with no deadline), and a
// later claimer joins the load in flight instead of starting another.
func TestUnknownChannelTokenStalledDatabase(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		b.createChannel(t, "second")
		reads := newChannelReads()
		s := newChannelService(t, access.ChannelConfig{
			DB: b.db.WithQueryHook(reads), Sessions: b.sessions, NowFunc: b.clock.Now,
			LoadTimeout: time.Hour, // the load's own bound must not be what ends a request
		})
		t.Cleanup(reads.resume)
		reads.stallLoads()
		requireStalledLoadsDoNotHold(t, b, s, reads.reached, reads.count)
		require.EqualValues(t, 2, reads.count(), "the first load and one stalled load: no pile-up")

		// Another instance creates a channel; the database answers again:
		// the load in flight reads it, and the next request that may load
		// finds it.
		_, err := b.channels.Create(b.ctx, access.NewChannel{Code: "third", Token: "third-token"})
		require.NoError(t, err)
		reads.resume()
		b.clock.Advance(time.Second)
		ch, err := s.GetChannelFromToken(b.ctx, "third-token")
		require.NoError(t, err, "recovered")
		require.Equal(t, "third", ch.Code)
	})
}

// The same against PostgreSQL behind a proxy that stops answering.
func TestUnknownChannelTokenStalledPostgres(t *testing.T) {
	t.Parallel()
	const long = time.Hour
	held := make(chan struct{}, 1)
	db, proxy := openPostgres(t, 4, long, held)
	b := newTestBundle(t, db, bundleOpts{})
	b.createChannel(t, "second")
	s := newChannelService(t, access.ChannelConfig{DB: db, Sessions: b.sessions, NowFunc: b.clock.Now, LoadTimeout: long})

	proxy.Stall()
	requireStalledLoadsDoNotHold(t, b, s, held, nil)

	proxy.Resume()
	_, err := b.channels.Create(b.ctx, access.NewChannel{Code: "third", Token: "third-token"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(b.ctx, hangGuard)
	defer cancel()
	require.Eventually(t, func() bool {
		// The stalled load finishes once the proxy forwards again; a
		// request that may load after it finds the new channel.
		b.clock.Advance(time.Second)
		ch, err := s.GetChannelFromToken(ctx, "third-token")
		return err == nil && ch.Code == "third"
	}, hangGuard, 10*time.Millisecond, "recovered")
}

// requireStalledLoadsDoNotHold runs the requests of a stalled load: reached
// receives when the load is held by the stalled database; reads, if not
// nil, counts the loads that reached it.
func requireStalledLoadsDoNotHold(t *testing.T, b *testBundle, s *access.ChannelService, reached <-chan struct{}, reads func() int64) {
	t.Helper()
	b.clock.Advance(time.Second) // the last load is an interval old: the next unknown token claims one

	// The claimer waits for the load, until its own context ends.
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.GetChannelFromToken(ctx, "claimer")
		done <- err
	}()
	select {
	case <-reached: // the load is at the stalled database
	case <-time.After(hangGuard):
		t.Fatal("the load never reached the database")
	}
	before := int64(0)
	if reads != nil {
		before = reads()
	}

	// Meanwhile every other unknown token is answered at once, with no
	// deadline of its own to end a wait.
	require.Zero(t, flood(t, context.Background(), s, 10_000, 8))

	cancel()
	select {
	case err := <-done:
		requireNotFound(t, err, "claimer")
	case <-time.After(hangGuard):
		t.Fatal("the claimer waits beyond its context")
	}

	// An interval later the next claimer joins the load still in flight
	// and waits only until its deadline, which has already passed.
	b.clock.Advance(time.Second)
	expired, cancelExpired := context.WithDeadline(b.ctx, time.Now().Add(-time.Second))
	defer cancelExpired()
	late := make(chan error, 1)
	go func() {
		_, err := s.GetChannelFromToken(expired, "late-claimer")
		late <- err
	}()
	select {
	case err := <-late:
		requireNotFound(t, err, "late-claimer")
	case <-time.After(hangGuard):
		t.Fatal("a claimer with an expired deadline waits on the stalled load")
	}
	if reads != nil {
		require.Equal(t, before, reads(), "no second load while one is in flight")
	}
}
