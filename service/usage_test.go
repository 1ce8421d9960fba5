package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// A session's last use is written by WriteUsage, not by the lookup, at
// most once per LastUsedInterval, and only for a session that was used.
func TestLastUseIsWrittenInTheBackgroundOncePerInterval(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "used@example.com", "secret", true)
		cs := b.newSession(t, userID)
		created := b.sessionRow(t, cs.Token)
		require.NotNil(t, created.LastUsedAt, "a new row's last use is its creation")
		requireTimeEqual(t, created.CreatedAt, *created.LastUsedAt)

		// Used from the cache: the lookup writes nothing.
		b.clock.Advance(2 * time.Minute)
		_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		requireTimeEqual(t, created.CreatedAt, *b.sessionRow(t, cs.Token).LastUsedAt, "the lookup wrote the row")
		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		firstUse := b.clock.Now()
		requireTimeEqual(t, firstUse, *b.sessionRow(t, cs.Token).LastUsedAt)
		require.Equal(t, int64(1), b.sessions.UsageStats().LastUsedWrites)

		// Used again within the interval: not written again.
		b.clock.Advance(session.LastUsedInterval / 2)
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		requireTimeEqual(t, firstUse, *b.sessionRow(t, cs.Token).LastUsedAt)
		require.Equal(t, int64(1), b.sessions.UsageStats().LastUsedWrites)

		// Not used: nothing to write.
		b.clock.Advance(session.LastUsedInterval)
		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		require.Equal(t, int64(1), b.sessions.UsageStats().LastUsedWrites)

		// Used past the interval: written.
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		requireTimeEqual(t, b.clock.Now(), *b.sessionRow(t, cs.Token).LastUsedAt)
		require.Equal(t, int64(2), b.sessions.UsageStats().LastUsedWrites)
	})
}

// The sliding expiry renews a session served from the cache (Vendure
// renews only on a database read): the lookup answers from the cache, and
// the background write extends the row and re-caches it, once.
func TestSlidingExpiryRenewsCacheHits(t *testing.T) {
	const duration, ttl = 20 * time.Minute, 15 * time.Minute
	eachDB(t, bundleOpts{SessionDuration: duration, CacheTTL: ttl}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "sliding@example.com", "secret", true)
		cs := b.newSession(t, userID)
		b.clock.Advance(11 * time.Minute) // 9 minutes left: due; the entry is fresh
		reads := b.sessions.LookupStats().DatabaseReads
		got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.Equal(t, reads, b.sessions.LookupStats().DatabaseReads, "answered from the cache")
		requireTimeEqual(t, cs.Expires, got.Expires)
		requireTimeEqual(t, cs.Expires, b.sessionRow(t, cs.Token).Expires, "the lookup wrote the row")

		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		renewed := b.clock.Now().Add(duration)
		requireTimeEqual(t, renewed, b.sessionRow(t, cs.Token).Expires)
		require.Equal(t, int64(1), b.sessions.UsageStats().Renewals)
		got, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		requireTimeEqual(t, renewed, got.Expires, "re-cached with the new expiry")
		require.Equal(t, reads, b.sessions.LookupStats().DatabaseReads, "still answered from the cache")

		// Not due again: no second renewal.
		b.clock.Advance(time.Minute)
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		require.Equal(t, int64(1), b.sessions.UsageStats().Renewals)
		requireTimeEqual(t, renewed, b.sessionRow(t, cs.Token).Expires)
	})
}

// A renewal that loses a race with a logout does not bring the session
// back into the cache.
func TestRenewalAfterRevocationCachesNothing(t *testing.T) {
	const duration, ttl = 20 * time.Minute, 15 * time.Minute
	eachDB(t, bundleOpts{SessionDuration: duration, CacheTTL: ttl}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "raced@example.com", "secret", true)
		cs := b.newSession(t, userID)
		b.clock.Advance(11 * time.Minute)
		_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.NoError(t, b.sessions.DeleteSessionsByUser(b.ctx, userID))
		require.NoError(t, b.sessions.WriteUsage(b.ctx))
		require.Equal(t, int64(0), b.sessions.UsageStats().Renewals)
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
	})
}

// With an idle timeout, a logged-in session unused for that long is
// refused, never earlier, whatever the cache holds, and the clean-up
// removes it; a session in use lives on.
func TestIdleTimeoutEndsUnusedSessions(t *testing.T) {
	const idle = 10 * time.Minute
	eachDB(t, bundleOpts{IdleTimeout: idle, CacheTTL: time.Hour}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "idle@example.com", "secret", true)
		unused := b.newSession(t, userID)
		inUse := b.newSession(t, userID)

		// Used every few minutes: written, and alive long past the timeout.
		for range 8 {
			b.clock.Advance(3 * time.Minute)
			_, err := b.sessions.GetSessionFromToken(b.ctx, inUse.Token)
			require.NoError(t, err)
			require.NoError(t, b.sessions.WriteUsage(b.ctx))
		}
		// 24 minutes after its creation the unused one is refused, though
		// its cache entry is fresh (CacheTTL is an hour) and its expiry a
		// year away.
		_, err := b.sessions.GetSessionFromToken(b.ctx, unused.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
		_, err = b.sessions.GetSessionFromToken(b.ctx, inUse.Token)
		require.NoError(t, err)

		// Never early: unused for the timeout exactly, it is still found
		// (and so used again).
		fresh := b.newSession(t, userID)
		for range 2 {
			b.clock.Advance(idle / 2)
			_, err = b.sessions.GetSessionFromToken(b.ctx, inUse.Token)
			require.NoError(t, err)
			require.NoError(t, b.sessions.WriteUsage(b.ctx))
		}
		_, err = b.sessions.GetSessionFromToken(b.ctx, fresh.Token)
		require.NoError(t, err, "refused at the idle timeout, before the slack of the last-use write")

		// The clean-up removes the idle ones and keeps the one in use.
		for range 8 {
			b.clock.Advance(3 * time.Minute)
			_, err = b.sessions.GetSessionFromToken(b.ctx, inUse.Token)
			require.NoError(t, err)
			require.NoError(t, b.sessions.WriteUsage(b.ctx))
		}
		removed, err := b.sessions.CleanExpiredSessions(b.ctx, 100)
		require.NoError(t, err)
		require.Equal(t, 2, removed, "the unused and the fresh session")
		require.Nil(t, b.sessionRow(t, unused.Token))
		require.NotNil(t, b.sessionRow(t, inUse.Token))
	})
}

// Without an idle timeout an unused session lives to its expiry.
func TestNoIdleTimeoutByDefault(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "noidle@example.com", "secret", true)
		cs := b.newSession(t, userID)
		b.clock.Advance(100 * 24 * time.Hour)
		_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
	})
}

// A session row keeps the client address and user agent of the request
// that wrote it for MetadataRetention; the clean-up erases them then and
// keeps the session.
func TestClientMetadataIsErasedAfterRetention(t *testing.T) {
	const retention = 90 * 24 * time.Hour
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "kept@example.com", "secret", true)
		ctx := clientinfo.With(b.ctx, clientinfo.Info{Address: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"})
		ch := b.defaultChannel.ID
		old, err := b.sessions.CreateNewAuthenticatedSession(ctx, session.NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: "native", ActiveChannelID: &ch})
		require.NoError(t, err)
		guest, err := b.sessions.CreateAnonymousSession(ctx, &ch)
		require.NoError(t, err)
		require.NoError(t, audit.Record(b.ctx, b.db, b.clock.Now(), audit.Actor{Identifier: "superadmin", ClientAddress: "203.0.113.9"},
			audit.Entry{Action: audit.Created, EntityType: audit.Channel, Detail: "code: x"}))
		row := b.sessionRow(t, old.Token)
		require.Equal(t, "203.0.113.9", *row.ClientAddress)
		require.Equal(t, "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", *row.UserAgent)
		require.Equal(t, "203.0.113.9", *b.sessionRow(t, guest.Token).ClientAddress)

		b.clock.Advance(retention - time.Hour)
		recent, err := b.sessions.CreateNewAuthenticatedSession(ctx, session.NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: "native", ActiveChannelID: &ch})
		require.NoError(t, err)
		_, err = b.sessions.CleanExpiredSessions(b.ctx, 1)
		require.NoError(t, err)
		require.NotNil(t, b.sessionRow(t, old.Token).ClientAddress, "erased before its retention ended")

		b.clock.Advance(2 * time.Hour)
		_, err = b.sessions.CleanExpiredSessions(b.ctx, 1) // batches of one: the loop goes on
		require.NoError(t, err)
		row = b.sessionRow(t, old.Token)
		require.NotNil(t, row, "the session itself is kept")
		require.Nil(t, row.ClientAddress)
		require.Nil(t, row.UserAgent)
		require.Nil(t, b.sessionRow(t, guest.Token), "the guest expired (30 days)")
		var entry audit.Row
		require.NoError(t, b.db.NewSelect().Model(&entry).Where("detail = ?", "code: x").Scan(b.ctx))
		require.Empty(t, entry.ClientAddress, "the audit entry's client address is erased too")
		require.Equal(t, "superadmin", entry.ActorIdentifier)
		kept := b.sessionRow(t, recent.Token)
		require.Equal(t, "203.0.113.9", *kept.ClientAddress)
		_, err = b.sessions.GetSessionFromToken(b.ctx, old.Token)
		require.NoError(t, err)
	})
}

// A session idle past the timeout is not among the user's active
// sessions, and ending the others does not count it: the list follows the
// lookup's rule.
func TestIdleSessionsAreNotListedAsActive(t *testing.T) {
	const idle = 10 * time.Minute
	eachDB(t, bundleOpts{IdleTimeout: idle}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "listed@example.com", "secret", true)
		idleOne := b.newSession(t, userID)
		inUse := b.newSession(t, userID)
		for range 5 {
			b.clock.Advance(3 * time.Minute)
			_, err := b.sessions.GetSessionFromToken(b.ctx, inUse.Token)
			require.NoError(t, err)
			require.NoError(t, b.sessions.WriteUsage(b.ctx))
		}
		self := session.Self{UserID: userID, SessionID: inUse.ID}
		list, err := b.sessions.ListOwnSessions(b.ctx, self)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, inUse.ID, list[0].ID)
		ended, err := b.sessions.RevokeOwnSession(b.ctx, self, idleOne.ID)
		require.NoError(t, err)
		require.False(t, ended, "an idle session is already over")
		n, err := b.sessions.RevokeOtherOwnSessions(b.ctx, self)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
