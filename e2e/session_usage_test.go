package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/session"
)

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

func withIdleTimeout(d time.Duration) envOption {
	return func(c *config.Config) { c.SessionIdleTimeout = d }
}

// sessionRowOf returns the row of the session whose token a client holds.
func (e *env) sessionRowOf(t *testing.T, token string) *entity.Session {
	t.Helper()
	var rows []entity.Session
	require.NoError(t, e.db.NewSelect().Model(&rows).Where("token_hash = ?", session.HashToken(token)).Scan(t.Context()))
	if len(rows) == 0 {
		return nil
	}
	return &rows[0]
}

// A storefront that keeps calling `me` from the cache keeps its session:
// the sliding expiry renews it in the background (Vendure renews only when
// the session is read from the database), and the session remembers its
// client and last use.
func TestSlidingExpiryWhileAnsweredFromTheCache(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		const duration = 20 * time.Minute
		e := newEnv(t, b, withSession(duration, 15*time.Minute))
		e.newCustomer(t, "sliding@example.com", "Sliding")
		shop := e.shop(testenv.Bearer)
		shop.Header = map[string]string{"User-Agent": firefoxUA}
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("sliding@example.com", "test"))).Login.Typename)
		token := shop.Token
		row := e.sessionRowOf(t, token)
		require.NotNil(t, row)
		require.Equal(t, firefoxUA, *row.UserAgent)
		require.Equal(t, "127.0.0.1", *row.ClientAddress)
		created := row.Expires

		e.clock.Advance(11 * time.Minute) // less than half left; the entry is fresh
		reads := e.app.Sessions.LookupStats().DatabaseReads
		require.NotNil(t, decodeMe(t, shop.Do(meQuery, nil)).Me)
		require.Equal(t, reads, e.app.Sessions.LookupStats().DatabaseReads, "answered from the cache")
		require.True(t, created.Equal(e.sessionRowOf(t, token).Expires), "the request wrote the row")

		// The background writer's round.
		require.NoError(t, e.app.Sessions.WriteUsage(t.Context()))
		row = e.sessionRowOf(t, token)
		require.True(t, e.clock.Now().Add(duration).Equal(row.Expires), "renewed: %v", row.Expires)
		require.True(t, e.clock.Now().Equal(*row.LastUsedAt))

		// Past the first expiry, still signed in.
		e.clock.Advance(10 * time.Minute)
		require.NotNil(t, decodeMe(t, shop.Do(meQuery, nil)).Me)
	})
}

// With SESSION_IDLE_TIMEOUT a device left alone is signed out; one in use
// stays signed in long past it.
func TestIdleTimeoutSignsOutAnUnusedDevice(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withIdleTimeout(10*time.Minute))
		e.newCustomer(t, "idle@example.com", "Idle")
		used, left := e.shop(testenv.Bearer), e.shop(testenv.Cookie)
		for _, c := range []*testenv.Client{used, left} {
			require.Equal(t, "CurrentUser", decodeLogin(t, c.Do(loginMutation, creds("idle@example.com", "test"))).Login.Typename)
		}
		for range 10 {
			e.clock.Advance(3 * time.Minute)
			require.NotNil(t, decodeMe(t, used.Do(meQuery, nil)).Me)
			require.NoError(t, e.app.Sessions.WriteUsage(t.Context()))
		}
		r := left.Do(meQuery, nil)
		require.Equal(t, "FORBIDDEN", r.ErrorCode(), "the device left alone for 30 minutes is signed out")
		require.NotNil(t, decodeMe(t, used.Do(meQuery, nil)).Me)
	})
}

// A guest's row, written when it first holds something, carries the
// client of that request; the metadata is erased after its retention.
func TestClientMetadataOfGuestsAndItsRetention(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		guest := e.shop(testenv.Bearer)
		guest.Header = map[string]string{"User-Agent": firefoxUA}
		v := seedVariants(t, e, 1)
		orderField(t, guest.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		row := e.sessionRowOf(t, guest.Token)
		require.NotNil(t, row, "a guest with a cart has a row")
		require.Equal(t, firefoxUA, *row.UserAgent)
		require.Equal(t, "127.0.0.1", *row.ClientAddress)

		e.newCustomer(t, "kept@example.com", "Kept")
		customer := e.shop(testenv.Bearer)
		customer.Header = map[string]string{"User-Agent": firefoxUA}
		require.Equal(t, "CurrentUser", decodeLogin(t, customer.Do(loginMutation, creds("kept@example.com", "test"))).Login.Typename)
		require.NotNil(t, e.sessionRowOf(t, customer.Token).UserAgent)

		e.clock.Advance(session.DefaultMetadataRetention + time.Hour)
		_, err := e.app.Sessions.CleanExpiredSessions(t.Context(), 100)
		require.NoError(t, err)
		row = e.sessionRowOf(t, customer.Token)
		require.NotNil(t, row, "the session is kept")
		require.Nil(t, row.UserAgent)
		require.Nil(t, row.ClientAddress)
		require.NotNil(t, decodeMe(t, customer.Do(meQuery, nil)).Me, "and still signed in")
	})
}
