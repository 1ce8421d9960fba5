package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

const day = 24 * time.Hour

// The defaults of the guest settings, spelled out: the tests below are
// about these numbers.
func TestGuestSessionDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, 30*day, session.DefaultAnonymousSessionDuration)
	require.Equal(t, 7*day, session.DefaultAnonymousIdleTimeout)
	require.Equal(t, 30*day, session.DefaultAnonymousCartIdleTimeout)
}

// A guest's cart is not kept for a year: unused for
// AnonymousCartIdleTimeout, the session is not found any more (whether or
// not the clean-up has run) and the clean-up removes it; a cart in use is
// written every half of it and kept.
func TestGuestCartIdle(t *testing.T) {
	t.Parallel()

	t.Run("IdleCartRefusedThenRemoved", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cs, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 42)
			require.NoError(t, err)

			b.clock.Advance(30*day + time.Second)
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound, "refused before the clean-up runs")
			require.NotNil(t, b.sessionRow(t, cs.Token))

			n, err := b.sessions.CleanExpiredSessions(b.ctx, 1000)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			require.Nil(t, b.sessionRow(t, cs.Token))
		})
	})

	t.Run("CartInUseKept", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cs, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 42)
			require.NoError(t, err)
			// A visit every 20 days for 200 days, the clean-up running
			// daily: never 30 days without a write.
			for d := 1; d <= 200; d++ {
				b.clock.Advance(day)
				_, err := b.sessions.CleanExpiredSessions(b.ctx, 1000)
				require.NoError(t, err)
				if d%20 == 0 {
					got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
					require.NoError(t, err, "day %d", d)
					require.Equal(t, entity.ID(42), *got.ActiveOrderID)
				}
			}
			require.NotNil(t, b.sessionRow(t, cs.Token))
		})
	})

	t.Run("OwnSetting", func(t *testing.T) {
		eachDB(t, bundleOpts{AnonymousCartIdleTimeout: 2 * day}, func(t *testing.T, b *testBundle) {
			cs, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 42)
			require.NoError(t, err)
			b.clock.Advance(day + time.Minute) // renewed: half of 2 days has passed
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			requireTimeEqual(t, b.clock.Now(), b.sessionRow(t, cs.Token).UpdatedAt)
			b.clock.Advance(2*day + time.Second)
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("IdleGuestWithoutOrderRefusedToo", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			b.clock.Advance(7*day + time.Second)
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})
}

// A guest session that holds nothing lives 30 days and is renewed while in
// use; one that gets an order, or logs in, lives the full SessionDuration.
func TestGuestSessionLifetime(t *testing.T) {
	t.Parallel()

	t.Run("NewGuestExpiresAfter30Days", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			t0 := b.clock.Now()
			cs := b.anonymous(t)
			requireTimeEqual(t, t0.Add(30*day), cs.Expires)
			requireTimeEqual(t, t0.Add(30*day), b.sessionRow(t, cs.Token).Expires)

			// Unused for 30 days: the cached entry has expired too.
			b.clock.Advance(30 * day)
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("CappedBySessionDuration", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: time.Hour}, func(t *testing.T, b *testBundle) {
			t0 := b.clock.Now()
			requireTimeEqual(t, t0.Add(time.Hour), b.anonymous(t).Expires)
		})
	})

	t.Run("RenewedEveryHalfIdleTimeoutWhileInUse", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			t0 := b.clock.Now()
			cs := b.anonymous(t)

			// 3.5 days: the entry is stale, the lookup reads the row, and
			// half the idle timeout has not passed: no write.
			b.clock.Advance(3*day + 12*time.Hour)
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			requireTimeEqual(t, t0.Add(30*day), got.Expires)
			requireTimeEqual(t, t0, b.sessionRow(t, cs.Token).UpdatedAt, "no write")

			// Past it (and past the entry the lookup cached): renewed to
			// 30 days from now.
			b.clock.Advance(301 * time.Second)
			now := b.clock.Now()
			got, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(30*day), got.Expires)
			row := b.sessionRow(t, cs.Token)
			requireTimeEqual(t, now.Add(30*day), row.Expires)
			requireTimeEqual(t, now, row.UpdatedAt)
			requireTimeEqual(t, now.Add(30*day), b.cache.Peek(b.ctx, session.HashToken(cs.Token)).Expires)
		})
	})

	t.Run("GuestInUseOutlivesIdleTimeoutAndDuration", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			// One request every 3 days for 60 days, the clean-up running
			// daily: the session is never idle for 7 days, never expires.
			for d := 1; d <= 60; d++ {
				b.clock.Advance(day)
				_, err := b.sessions.CleanExpiredSessions(b.ctx, 1000)
				require.NoError(t, err)
				if d%3 == 0 {
					_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
					require.NoError(t, err, "day %d", d)
				}
			}
			require.NotNil(t, b.sessionRow(t, cs.Token))
		})
	})

	t.Run("ActiveOrderGivesFullDuration", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			b.clock.Advance(time.Hour)
			now := b.clock.Now()
			cs, err := b.sessions.SetActiveOrder(b.ctx, cs, 42)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(oneYear), cs.Expires)
			requireTimeEqual(t, now.Add(oneYear), b.sessionRow(t, cs.Token).Expires)
			requireTimeEqual(t, now.Add(oneYear), b.cache.Peek(b.ctx, session.HashToken(cs.Token)).Expires)

			// A cart is written once half of the cart idle timeout (15
			// days) has passed: not before.
			b.clock.Advance(14 * day)
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(oneYear), got.Expires)
			requireTimeEqual(t, now, b.sessionRow(t, cs.Token).UpdatedAt, "no write")

			// Past it (and past the entry cached above): renewed.
			b.clock.Advance(day + time.Hour)
			now = b.clock.Now()
			got, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(oneYear), got.Expires)
			requireTimeEqual(t, now, b.sessionRow(t, cs.Token).UpdatedAt)

			// The order is gone (paid): a guest holding nothing again.
			b.clock.Advance(time.Hour)
			now = b.clock.Now()
			cs, err = b.sessions.UnsetActiveOrder(b.ctx, got)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(30*day), cs.Expires)
			requireTimeEqual(t, now.Add(30*day), b.sessionRow(t, cs.Token).Expires)
		})
	})

	t.Run("LoggedInSessionKeepsItsExpiryWithAnOrder", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			t0 := b.clock.Now()
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			requireTimeEqual(t, t0.Add(oneYear), cs.Expires)
			b.clock.Advance(day)
			cs, err := b.sessions.SetActiveOrder(b.ctx, cs, 42)
			require.NoError(t, err)
			requireTimeEqual(t, t0.Add(oneYear), cs.Expires, "Vendure's rule: setting an order does not renew")
			cs, err = b.sessions.UnsetActiveOrder(b.ctx, cs)
			require.NoError(t, err)
			requireTimeEqual(t, t0.Add(oneYear), cs.Expires)
		})
	})

	t.Run("GuestLoginGetsFullDuration", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			guest := b.anonymous(t)
			b.clock.Advance(day)
			now := b.clock.Now()
			cs, err := b.authenticate(auth.AdminAPI, superadminLogin, superadminPassword, guest)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(oneYear), cs.Expires)
		})
	})

	t.Run("LongLivedGuestBroughtBackTo30Days", func(t *testing.T) {
		// A guest row from before the setting (or whose order is gone by
		// other means) with a year left: its next lookup gives it 30 days.
		eachDB(t, bundleOpts{NewCache: noopCache}, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()
			tok := b.insertSession(t, entity.Session{Expires: now.Add(oneYear), UpdatedAt: now.Add(-day)})
			got, err := b.sessions.GetSessionFromToken(b.ctx, tok)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(30*day), got.Expires)
			row := b.sessionRow(t, tok)
			requireTimeEqual(t, now.Add(30*day), row.Expires)
			requireTimeEqual(t, now, row.UpdatedAt)
		})
	})
}
