package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// Vendure's session-management.e2e-spec.ts, with a spying cache and
// sessionCacheTTL 2 s; time moves by the injected clock, not by sleeping.
func TestSessionCacheLifecycle(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withSession(365*24*time.Hour, 2*time.Second))
		admin := e.admin(testenv.Bearer)
		e.takeCalls()

		// 1. Login puts exactly one entry in the cache with one set.
		r := admin.Do(loginMutation, creds("superadmin", "superadmin"))
		require.Empty(t, r.Errors)
		require.Equal(t, 1, e.takeCalls().Sets)
		require.Equal(t, 1, e.spy.Held())

		// 2. me is served from the cache: one get, no set.
		r = admin.Do(meQuery, nil)
		require.Empty(t, r.Errors)
		calls := e.takeCalls()
		require.Equal(t, 1, calls.Gets)
		require.Equal(t, 0, calls.Sets)

		// 3. Fresh entry: no set; after the TTL, exactly one refresh.
		admin.Do(meQuery, nil)
		admin.Do(meQuery, nil)
		require.Equal(t, 0, e.takeCalls().Sets)
		e.clock.Advance(2*time.Second + time.Millisecond)
		r = admin.Do(meQuery, nil)
		require.Empty(t, r.Errors)
		require.Equal(t, 1, e.takeCalls().Sets)

		// 4. Logout empties the cache.
		r = admin.Do(logoutMutation, nil)
		require.Empty(t, r.Errors)
		require.GreaterOrEqual(t, e.takeCalls().Deletes, 1)
		require.Equal(t, 0, e.spy.Held())
	})
}

// Sliding expiry with sessionDuration 3 s and sessionCacheTTL 1 s: requests
// every second keep the session alive; 3.5 s of silence ends it.
func TestSlidingExpiry(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withSession(3*time.Second, time.Second))
		admin := e.admin(testenv.Bearer)
		r := admin.Do(loginMutation, creds("superadmin", "superadmin"))
		require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
		token := admin.Token

		for i := range 4 {
			e.clock.Advance(time.Second)
			r = admin.Do(meQuery, nil)
			require.Empty(t, r.Errors, "me #%d after %d s", i+1, i+1)
			require.Equal(t, token, admin.Token, "the token must not change while the session lives")
		}

		e.clock.Advance(3500 * time.Millisecond)
		r = admin.Do(meQuery, nil)
		require.Equal(t, "FORBIDDEN", r.ErrorCode())
		require.Contains(t, r.Errors[0].Message, "You are not currently authorized to perform this action")
		require.NotEqual(t, token, admin.Token, "the expired token is replaced")
	})
}

// A session that expired is never revived, and its cache entry is evicted.
func TestExpiredSessionIsCleared(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withSession(time.Hour, time.Minute))
		shop := e.shop(testenv.Bearer)
		shop.Do(`{ activeCustomer { id } }`, nil)
		require.NotEmpty(t, shop.Token)
		e.clock.Advance(time.Hour + time.Second)

		r := shop.Do(activeChannel, nil)
		require.Empty(t, r.Errors)
		tok, present := r.TokenHeader()
		require.True(t, present, "an expired token is cleared with an empty header")
		require.Empty(t, tok)
		require.GreaterOrEqual(t, e.takeCalls().Deletes, 1)
		require.Equal(t, 0, e.spy.Held())
	})
}

// The session table holds the SHA-256 of the token, never the token.
func TestNoRawTokenInDatabase(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.admin(testenv.Bearer)
		admin.Do(loginMutation, creds("superadmin", "superadmin"))
		require.Regexp(t, `^[0-9a-f]{64}$`, admin.Token)

		var rows []map[string]any
		require.NoError(t, e.db.NewRaw("SELECT * FROM session").Scan(context.Background(), &rows))
		require.Len(t, rows, 1)
		for col, v := range rows[0] {
			require.NotContains(t, toString(v), admin.Token, "column %s holds the raw token", col)
		}
		require.Equal(t, sha256Hex(admin.Token), toString(rows[0]["token_hash"]))
	})
}
