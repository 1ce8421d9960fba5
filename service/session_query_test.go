package service_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// hangGuard bounds what a broken build could make wait forever; nothing
// is asserted about time.
const hangGuard = 30 * time.Second

// openPostgres opens a fresh migrated PostgreSQL database through
// database.Open as the server does, with the given pool size and query
// timeout, through proxy when it is not nil.
func openPostgres(t *testing.T, maxConns int32, timeout time.Duration, held chan struct{}) (*bun.DB, *testenv.Proxy) {
	t.Helper()
	dsn := testenv.PostgresURL(t) // skips without TEST_DATABASE_URL
	var proxy *testenv.Proxy
	if held != nil {
		u, err := url.Parse(dsn)
		require.NoError(t, err, "%s must be a URL for this test", testenv.PostgresURLEnv)
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		proxy = testenv.NewProxyHeld(t, u.Hostname()+":"+port, held)
		u.Host = proxy.Addr()
		dsn = u.String()
	}
	db, err := database.Open(t.Context(), database.Postgres, dsn, database.Options{MaxConns: maxConns, QueryTimeout: timeout})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, proxy
}

// The lookup of a token is sent with the token hash bound to $1: on a
// one-connection pool, looking up two tokens leaves one prepared
// statement, executed for both.
func TestLookupIsPreparedOnce(t *testing.T) {
	t.Parallel()
	db, _ := openPostgres(t, 1, 0, nil)
	b := newTestBundle(t, db, bundleOpts{NewCache: noopCache})
	for range 2 {
		cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
		for range 3 {
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
		}
	}
	var prepared []struct {
		Statement string `bun:"statement"`
	}
	require.NoError(t, db.NewRaw(`SELECT statement FROM pg_prepared_statements
		WHERE statement LIKE ? AND statement NOT LIKE '%pg_prepared_statements%'`, // not this one
		"%FROM session AS s%s.token_hash = $1%").Scan(b.ctx, &prepared))
	require.Len(t, prepared, 1, "one statement for every token")
}

// A session lookup that reaches a stalled database fails once the
// SessionService's QueryTimeout has passed, though its caller gave no
// deadline and the database's own bounds are far longer; and one whose
// caller cancels stops then, though no deadline is near.
func TestLookupStalledDatabase(t *testing.T) {
	t.Parallel()
	const long = time.Hour // the bounds that must not be what ends a call
	for _, tc := range []struct {
		name         string
		queryTimeout time.Duration
		want         error
	}{
		{"deadline", time.Second, context.DeadlineExceeded},
		{"cancelled", long, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			held := make(chan struct{}, 1)
			db, proxy := openPostgres(t, 2, long, held)
			b := newTestBundle(t, db, bundleOpts{NewCache: noopCache, QueryTimeout: tc.queryTimeout})
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)

			proxy.Stall()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := b.sessions.GetSessionFromToken(ctx, cs.Token)
				done <- err
			}()
			select {
			case <-held: // the lookup is at the stalled proxy
			case <-time.After(hangGuard):
				t.Fatal("the lookup never reached the database")
			}
			if tc.want == context.Canceled {
				cancel()
			}
			select {
			case err := <-done:
				require.ErrorIs(t, err, tc.want)
			case <-time.After(hangGuard):
				t.Fatal("the lookup hangs on a stalled database")
			}

			proxy.Resume()
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err, "recovered")
		})
	}
}
