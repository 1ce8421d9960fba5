package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/sessioncache"
)

// recorder is a Recorder that keeps what it is told.
type recorder struct {
	mu           sync.Mutex
	lookups      []LookupOutcome
	created      map[bool]int
	guestRefused int
	revoked      map[RevokeCause]int
	cleaned      map[CleanReason]int
	cacheFailed  []string
}

func newRecorder() *recorder {
	return &recorder{created: map[bool]int{}, revoked: map[RevokeCause]int{}, cleaned: map[CleanReason]int{}}
}

func (r *recorder) SessionLookup(o LookupOutcome, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, o)
}

func (r *recorder) SessionCreated(authenticated bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created[authenticated]++
}

func (r *recorder) GuestRefused() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.guestRefused++
}

func (r *recorder) SessionsRevoked(c RevokeCause, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked[c] += n
}

func (r *recorder) SessionsCleaned(c CleanReason, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleaned[c] += n
}

func (r *recorder) CacheFailed(op string, timeout bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cacheFailed = append(r.cacheFailed, fmt.Sprintf("%s timeout=%t", op, timeout))
}

// lastLookup returns the outcome of the last lookup.
func (r *recorder) lastLookup() LookupOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[len(r.lookups)-1]
}

// newRecordedSessions returns a Service with a recorder, an idle timeout
// and a negative cache, on a memory cache posing as a shared one
// (flakyCache), and its clock.
func newRecordedSessions(t *testing.T, configure ...func(*Config)) (*Service, *recorder, *flakyCache, *testenv.Clock) {
	t.Helper()
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	f := &flakyCache{next: mem, identity: "master-1"}
	clock := testenv.NewClock()
	rec := newRecorder()
	cfg := Config{
		DB: testenv.SQLiteDB(t), Cache: f, NowFunc: clock.Now, Metrics: rec,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		IdleTimeout: time.Hour, NegativeCacheSize: 10,
	}
	for _, c := range configure {
		c(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.SyncCache(context.Background()))
	return s, rec, f, clock
}

// TestLookupOutcomes: each way GetSessionFromToken ends is recorded as its
// outcome.
func TestLookupOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rec, _, clock := newRecordedSessions(t)
	lookup := func(token string) LookupOutcome {
		t.Helper()
		_, _ = s.GetSessionFromToken(ctx, token)
		return rec.lastLookup()
	}

	require.Equal(t, LookupNotFound, lookup("unknown-token"))
	require.Equal(t, LookupNegative, lookup("unknown-token"), "remembered as unknown")
	require.Equal(t, LookupNotFound, lookup(""), "no token")

	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	require.Equal(t, LookupCacheHit, lookup(cs.Token))

	clock.Advance(s.cacheTTL + time.Second)
	require.Equal(t, LookupStale, lookup(cs.Token), "past its cacheExpiry: read again")
	require.Equal(t, LookupCacheHit, lookup(cs.Token))

	s.cache.delete(ctx, HashToken(cs.Token))
	require.Equal(t, LookupCacheMiss, lookup(cs.Token))

	clock.Advance(s.idle + usageSlack + time.Minute)
	require.Equal(t, LookupIdle, lookup(cs.Token), "unused past IdleTimeout")

	guest, err := s.CreateAnonymousSession(ctx, nil)
	require.NoError(t, err)
	clock.Advance(s.anonIdle + time.Second)
	require.Equal(t, LookupIdle, lookup(guest.Token), "a guest unused past AnonymousIdleTimeout")

	s.findByTokenHash = func(context.Context, string) (*sessioncache.CachedSession, error) {
		return nil, errors.New("database on fire")
	}
	require.Equal(t, LookupError, lookup("another-unknown-token"))
	require.Equal(t, 1, rec.created[true])
	require.Equal(t, 1, rec.created[false])
}

// TestExpiredRowLookup: a stored session whose expiry passed is expired,
// whether or not it is cached.
func TestExpiredRowLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rec, _, clock := newRecordedSessions(t, func(c *Config) { c.IdleTimeout = 0 })
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	clock.Advance(s.duration + time.Second)
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.Error(t, err)
	require.Equal(t, LookupExpired, rec.lastLookup())
}

// TestRevocationsRecordedOnCommit: deleted sessions count under their
// cause once the transaction commits, never for a rolled-back one; the
// clean-up counts by pass.
func TestRevocationsRecordedOnCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rec, _, clock := newRecordedSessions(t)
	userID := newUser(t, s)
	for range 2 {
		_, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
		require.NoError(t, err)
	}

	rollback := errors.New("rolled back")
	err := RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		if err := s.DeleteByUser(ctx, t, userID, RevokeUserDeleted); err != nil {
			return err
		}
		return rollback
	})
	require.ErrorIs(t, err, rollback)
	require.Empty(t, rec.revoked, "nothing is counted for a rolled-back delete")

	require.NoError(t, s.DeleteSessionsByUser(ctx, userID))
	require.Equal(t, map[RevokeCause]int{RevokeLogout: 2}, rec.revoked)
	require.NoError(t, s.DeleteSessionsByUser(ctx, userID))
	require.Equal(t, map[RevokeCause]int{RevokeLogout: 2}, rec.revoked, "deleting none counts none")

	for range 3 {
		_, err := s.CreateAnonymousSession(ctx, nil)
		require.NoError(t, err)
	}
	clock.Advance(s.anonDuration + time.Second)
	n, err := s.CleanExpiredSessions(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, map[CleanReason]int{CleanExpired: 3}, rec.cleaned)
}

// TestGuestRefusedRecorded: a guest past GuestAddressLimit is recorded.
func TestGuestRefusedRecorded(t *testing.T) {
	t.Parallel()
	s, rec, _, _ := newRecordedSessions(t, func(c *Config) {
		c.GuestAddressLimit, c.GuestAddressWindow = 1, time.Hour
	})
	ctx := clientinfo.With(context.Background(), clientinfo.Info{Address: "192.0.2.7"})
	_, err := s.CreateAnonymousSession(ctx, nil)
	require.NoError(t, err)
	_, err = s.CreateAnonymousSession(ctx, nil)
	require.Error(t, err)
	require.Equal(t, 1, rec.guestRefused)
	require.Equal(t, 1, rec.created[false])
}

// TestCacheStateAndOutbox: a failed cache call is recorded and puts the
// guard down; the eviction it missed waits in the outbox (OutboxBacklog)
// until the sync applies it and the guard is healthy again.
func TestCacheStateAndOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rec, f, clock := newRecordedSessions(t)
	require.True(t, s.SharesCache())
	require.Equal(t, CacheStateHealthy, s.CacheState())
	pending, oldest, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, pending)
	require.True(t, oldest.IsZero())

	userID := newUser(t, s)
	_, err = s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	f.setDown(true)
	deletedAt := s.nowUTC()
	require.NoError(t, s.DeleteSessionsByUser(ctx, userID))
	require.Equal(t, CacheStateDown, s.CacheState())
	require.Equal(t, []string{"delete timeout=false"}, rec.cacheFailed)
	clock.Advance(time.Second)
	pending, oldest, err = s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, pending)
	require.True(t, oldest.Equal(deletedAt), "%v != %v", oldest, deletedAt)

	f.setDown(false)
	require.NoError(t, s.SyncCache(ctx))
	require.Equal(t, CacheStateHealthy, s.CacheState())
	pending, _, err = s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, pending)
}

// TestIsTimeout: deadlines and network timeouts are timeouts, other
// failures are not.
func TestIsTimeout(t *testing.T) {
	t.Parallel()
	require.True(t, isTimeout(fmt.Errorf("get: %w", context.DeadlineExceeded)))
	require.True(t, isTimeout(&net.OpError{Op: "read", Err: timeoutError{}}))
	require.False(t, isTimeout(errors.New("connection refused")))
	require.False(t, isTimeout(context.Canceled))
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestLabelNames: every value of the fixed sets has its label.
func TestLabelNames(t *testing.T) {
	t.Parallel()
	for _, o := range LookupOutcomes() {
		require.NotContains(t, o.String(), "(")
	}
	for _, c := range RevokeCauses() {
		require.NotContains(t, c.String(), "(")
	}
	for _, r := range CleanReasons() {
		require.NotContains(t, r.String(), "(")
	}
	require.Equal(t, "LookupOutcome(8)", LookupOutcome(numLookupOutcomes).String())
}

// TestCacheOnlyGuestOutcomes: a lazy guest, held by the cache alone, is a
// cache hit, then stale when renewed, then idle once unused past
// AnonymousIdleTimeout.
func TestCacheOnlyGuestOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rec, _, clock := newRecordedSessions(t, func(c *Config) { c.LazyGuestSessions = true })
	guest, err := s.CreateAnonymousSession(ctx, nil)
	require.NoError(t, err)
	lookup := func() LookupOutcome {
		t.Helper()
		_, _ = s.GetSessionFromToken(ctx, guest.Token)
		return rec.lastLookup()
	}
	require.Equal(t, LookupCacheHit, lookup())
	clock.Advance(s.cacheTTL/2 + time.Second)
	require.Equal(t, LookupStale, lookup(), "due for renewal: checked against the database, renewed")
	require.Equal(t, LookupCacheHit, lookup())
	clock.Advance(s.anonIdle + time.Second)
	require.Equal(t, LookupIdle, lookup())
}
