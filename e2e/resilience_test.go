package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// A cache that fails counts as a miss: with Redis gone, requests are served
// from the database and keep their tokens; when it returns, it is used again.
func TestRedisOutageFallsBackToDatabase(t *testing.T) {
	t.Parallel()
	_, mr := testenv.Miniredis(t)
	e := newEnv(t, backend{"sqlite+miniredis", "sqlite", "redis"}, withMiniredis(mr.Addr()))
	admin := e.admin(testenv.Bearer)
	admin.Do(loginMutation, creds("superadmin", "superadmin"))
	token := admin.Token

	mr.Close()
	for range 3 {
		r := admin.Do(meQuery, nil)
		require.Empty(t, r.Errors)
		require.Equal(t, "superadmin", decodeMe(t, r).Me.Identifier)
		_, present := r.TokenHeader()
		require.False(t, present, "a cache outage must not log anyone out")
	}
	require.Equal(t, token, admin.Token)

	require.NoError(t, mr.Restart())
	e.clock.Advance(time.Hour)
	r := admin.Do(meQuery, nil)
	require.Empty(t, r.Errors)
	require.Positive(t, len(mr.Keys()), "the session is cached again")
}
