package service_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// 10,000 lookups of random tokens cost at most 10,000 database reads, and
// the same 10,000 again cost none; a revoked token is remembered as
// unknown too; a session's token is still found among them; and once
// DefaultNegativeCacheTTL has passed, an unknown token is read again.
func TestUnknownTokensCostOneReadEach(t *testing.T) {
	eachDB(t, bundleOpts{NegativeCacheSize: 20_000}, func(t *testing.T, b *testBundle) {
		userID := b.createCustomer(t, "known@example.com", "secret", true)
		known := b.login(t, auth.ShopAPI, "known@example.com", "secret")
		tokens := make([]string, 10_000)
		for i := range tokens {
			var err error
			tokens[i], err = session.GenerateToken()
			require.NoError(t, err)
		}
		lookupAll := func() {
			t.Helper()
			for _, token := range tokens {
				_, err := b.sessions.GetSessionFromToken(b.ctx, token)
				require.ErrorIs(t, err, outcome.ErrNotFound)
			}
		}
		start := b.sessions.LookupStats()
		lookupAll()
		first := b.sessions.LookupStats()
		require.LessOrEqual(t, first.DatabaseReads-start.DatabaseReads, int64(10_000))
		lookupAll()
		again := b.sessions.LookupStats()
		require.Equal(t, first.DatabaseReads, again.DatabaseReads, "the same tokens again: no read")
		require.Equal(t, int64(10_000), again.NegativeHits-first.NegativeHits)

		_, err := b.sessions.GetSessionFromToken(b.ctx, known.Token)
		require.NoError(t, err, "a session's token is found")

		// Revoked: not found, then remembered.
		require.NoError(t, b.sessions.DeleteSessionsByUser(b.ctx, userID))
		_, err = b.sessions.GetSessionFromToken(b.ctx, known.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
		revoked := b.sessions.LookupStats()
		_, err = b.sessions.GetSessionFromToken(b.ctx, known.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
		require.Equal(t, revoked.DatabaseReads, b.sessions.LookupStats().DatabaseReads)

		// Remembered for DefaultNegativeCacheTTL only.
		b.clock.Advance(session.DefaultNegativeCacheTTL)
		_, err = b.sessions.GetSessionFromToken(b.ctx, tokens[0])
		require.ErrorIs(t, err, outcome.ErrNotFound)
		require.Equal(t, revoked.DatabaseReads+1, b.sessions.LookupStats().DatabaseReads)
	})
}
