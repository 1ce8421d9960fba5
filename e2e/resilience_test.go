package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// A cache that fails counts as a miss: with Redis gone, requests are served
// from the database and keep their tokens; when it returns, it is used again
// from the first background sync round that finds it answering. The test
// runs those rounds itself and reports the figures (testenv.ReportOutage).
func TestRedisOutageFallsBackToDatabase(t *testing.T) {
	t.Parallel()
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			_, mr := testenv.Miniredis(t)
			e := newEnv(t, backend{"sqlite+miniredis", "sqlite", strategy}, withMiniredis(mr.Addr()))
			e.app.CacheSync.Stop() // the test counts the rounds
			admin := e.admin(testenv.Bearer)
			admin.Do(loginMutation, creds("superadmin", "superadmin"))
			token := admin.Token

			mr.Close()
			fig := testenv.Outage{Name: "redis-cut", Backend: "sqlite+" + strategy}
			for range 3 {
				r := admin.Do(meQuery, nil)
				_, present := r.TokenHeader() // a cache outage must not log anyone out
				if me := decodeMe(t, r).Me; len(r.Errors) == 0 && !present && me != nil && me.Identifier == "superadmin" {
					fig.Served++
				} else {
					fig.Failed++
				}
			}

			require.NoError(t, mr.Restart())
			rounds := 0
			for {
				e.takeCalls()
				r := admin.Do(meQuery, nil)
				require.Empty(t, r.Errors)
				if e.takeCalls().Gets > 0 {
					break // the lookup reads the cache again
				}
				require.Less(t, rounds, 5, "the cache was not read again after %d sync rounds", rounds)
				require.NoError(t, e.app.Sessions.SyncCache(context.Background()))
				rounds++
			}
			fig.RecoverSeconds = float64(rounds) * e.app.CacheSync.Interval().Seconds()
			testenv.ReportOutage(t, fig)
			require.Equal(t, testenv.Outage{Name: fig.Name, Backend: fig.Backend, Served: 3, RecoverSeconds: fig.RecoverSeconds}, fig,
				"every request during the outage is served from the database, its token kept")
			require.Equal(t, token, admin.Token)

			e.clock.Advance(time.Hour)
			r := admin.Do(meQuery, nil)
			require.Empty(t, r.Errors)
			require.Positive(t, len(mr.Keys()), "the session is cached again")
		})
	}
}

// A database failure during the session lookup fails the request with
// INTERNAL_SERVER_ERROR and leaves the client's token alone: an outage must
// not log everyone out. No SQL text reaches the client.
func TestDatabaseOutageKeepsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], withSession(365*24*time.Hour, time.Second))
	admin := e.admin(testenv.Bearer)
	admin.Do(loginMutation, creds("superadmin", "superadmin"))
	token := admin.Token
	e.clock.Advance(2 * time.Second) // the cached entry is stale: the next lookup reads the database

	require.NoError(t, e.db.Close())
	r := admin.Do(meQuery, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	require.Equal(t, "INTERNAL_SERVER_ERROR", r.ErrorCode())
	require.Equal(t, "Internal server error", r.Errors[0].Message)
	_, present := r.TokenHeader()
	require.False(t, present)
	require.Nil(t, r.SessionCookie("session"))
	require.Equal(t, token, admin.Token)
}

// A logout while Redis is unreachable cannot evict the cached session; once
// Redis answers again the cache is cleared, so the logged-out token does not
// come back to life from the stale entry.
func TestLogoutDuringRedisOutage(t *testing.T) {
	t.Parallel()
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			_, mr := testenv.Miniredis(t)
			e := newEnv(t, backend{"sqlite+miniredis", "sqlite", strategy}, withMiniredis(mr.Addr()))
			admin := e.admin(testenv.Bearer)
			admin.Do(loginMutation, creds("superadmin", "superadmin"))
			token := admin.Token
			require.Empty(t, admin.Do(meQuery, nil).Errors)

			mr.SetError("LOADING Redis is loading the dataset in memory") // every command fails; the data stays
			r := admin.Do(logoutMutation, nil)
			require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
			mr.SetError("")

			e.clock.Advance(2 * time.Second) // past the retry interval, well within the cache TTL
			admin.Token = token
			r = admin.Do(meQuery, nil)
			require.Equal(t, "FORBIDDEN", r.ErrorCode(), "the logged-out token must stay dead")
		})
	}
}

// Redis keys expire when the entry goes stale (SESSION_CACHE_TTL), so
// abandoned sessions do not hold Redis memory for a day.
func TestRedisKeysExpireWithTheCacheTTL(t *testing.T) {
	t.Parallel()
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			_, mr := testenv.Miniredis(t)
			e := newEnv(t, backend{"sqlite+miniredis", "sqlite", strategy}, withMiniredis(mr.Addr()), withSession(time.Hour, 90*time.Second))
			admin := e.admin(testenv.Bearer)
			admin.Do(loginMutation, creds("superadmin", "superadmin"))
			keys := mr.Keys()
			require.Len(t, keys, 1)
			require.Equal(t, 90*time.Second, mr.TTL(keys[0]))
		})
	}
}
