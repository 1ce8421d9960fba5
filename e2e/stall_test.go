package e2e_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// stallTimeout is DB_QUERY_TIMEOUT in these tests, the default: a request
// stuck on the stalled database fails when it ends, and it leaves every
// other query (the start-up's migrations and seed, the working phases)
// room on a loaded machine. Nothing is asserted about time: the
// stalls last until the test ends them, so a request that waited for one
// would never return (the test client's timeout is the hang guard).
const stallTimeout = database.DefaultQueryTimeout

const activeCustomerQuery = `{ activeCustomer { id } }`

// newOwnDBEnv starts a server that opens its own database from
// databaseURL, as production does (newEnv hands the app a shared pool),
// with DB_QUERY_TIMEOUT=stallTimeout, the memory cache and a cache TTL of
// a second, so that advancing the clock makes the next lookup read the
// database.
func newOwnDBEnv(t *testing.T, databaseURL string) *env {
	t.Helper()
	cfg := config.Defaults()
	cfg.BcryptCost = 4
	cfg.DefaultChannelToken = "e2e-default-channel"
	cfg.SessionCacheStrategy = "memory"
	cfg.DatabaseURL = databaseURL
	cfg.DBQueryTimeout = stallTimeout
	cfg.SessionDuration, cfg.SessionCacheTTL = 365*24*time.Hour, time.Second
	e := &env{t: t, clock: testenv.NewClock()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.DiscardHandler), NowFunc: e.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	e.app, e.db = a, a.DB
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// requireUnavailable asserts a request failed because of the database:
// INTERNAL_SERVER_ERROR, HTTP 503, the generic message, and none of
// secrets (compared case-insensitively) anywhere in its body.
func requireUnavailable(t *testing.T, r *testenv.Response, what string, secrets ...string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"errors": r.Errors, "data": r.Data})
	require.NoError(t, err)
	require.NotEmpty(t, r.Errors, "%s: %s", what, raw)
	require.Equal(t, "INTERNAL_SERVER_ERROR", r.ErrorCode(), "%s: %s", what, raw)
	require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s: %s", what, raw)
	require.Equal(t, "Internal server error", r.Errors[0].Message, what)
	for _, s := range secrets {
		require.NotContains(t, strings.ToLower(string(raw)), strings.ToLower(s), "%s leaks %q", what, s)
	}
}

// outage is one way a database can fail.
type outage struct {
	name    string
	figure  string // its name in the figures (testenv.Outage)
	start   func()
	secrets []string // what the responses must not show
}

// tally counts r in fig: served when it is a 200 without errors, failed
// otherwise. It returns r.
func tally(fig *testenv.Outage, r *testenv.Response) *testenv.Response {
	if r.Status == http.StatusOK && len(r.Errors) == 0 {
		fig.Served++
	} else {
		fig.Failed++
	}
	return r
}

// While PostgreSQL is stalled (packets go nowhere) or refuses connections,
// login, logout, guest-session creation and a me that must read the
// session each fail with INTERNAL_SERVER_ERROR (503) without waiting for
// the database, and a client's token is kept; once the database is back
// the same requests succeed, with no restart. Each outage reports its
// figures (testenv.ReportOutage): no recovery time, since the first
// requests after it must succeed.
func TestPostgresStallAndOutage(t *testing.T) {
	t.Parallel()
	dbURL := testenv.PostgresURL(t) // skips without TEST_DATABASE_URL
	u, err := url.Parse(dbURL)
	require.NoError(t, err, "%s must be a URL", testenv.PostgresURLEnv)
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	proxy := testenv.NewProxy(t, u.Hostname()+":"+port)
	proxied := *u
	proxied.Host = proxy.Addr()
	e := newOwnDBEnv(t, proxied.String())

	_, proxyPort, _ := strings.Cut(proxy.Addr(), ":")
	secrets := []string{u.User.Username(), strings.TrimPrefix(u.Path, "/"), u.Hostname(), proxyPort, port}
	outages := []outage{
		{"stalled", "postgres-stall", proxy.Stall, secrets},
		{"refused", "postgres-cut", proxy.Refuse, secrets},
		{"stalled again", "postgres-stall-again", proxy.Stall, secrets}, // after connections were reset
	}

	admin := e.admin(testenv.Bearer)
	requireLogin(t, admin)
	for _, o := range outages {
		t.Log(o.name)
		// The session is fresh in the cache: logout goes straight to
		// the database.
		token := admin.Token
		fig := testenv.Outage{Name: o.figure, Backend: "postgres+memory"}
		o.start()

		requireUnavailable(t, tally(&fig, e.admin(testenv.Bearer).Do(loginMutation, creds("superadmin", "superadmin"))), o.name+" login", o.secrets...)
		requireUnavailable(t, tally(&fig, admin.Do(logoutMutation, nil)), o.name+" logout", o.secrets...)
		requireGuestDuringOutage(t, e, &fig, o.name, o.secrets...)
		e.clock.Advance(2 * time.Second) // the cached session is stale: me reads the database
		r := tally(&fig, admin.Do(meQuery, nil))
		requireUnavailable(t, r, o.name+" uncached me", o.secrets...)
		_, sent := r.TokenHeader()
		require.False(t, sent, "an outage logs nobody out")
		require.Equal(t, token, admin.Token)

		proxy.Resume()
		requireRecovered(t, e, admin)
		testenv.ReportOutage(t, fig)
	}
}

// A stalled SQLite is a lock another connection holds: a login waits
// busy_timeout (DB_QUERY_TIMEOUT) for it, then fails with
// INTERNAL_SERVER_ERROR instead of hanging, and succeeds once the lock is
// released.
func TestSQLiteLockedDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db")
	e := newOwnDBEnv(t, "sqlite://"+path)
	admin := e.admin(testenv.Bearer)
	requireLogin(t, admin)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	other, err := sql.Open("sqlite", database.SQLiteDSN(path, stallTimeout))
	require.NoError(t, err)
	defer other.Close()
	holder, err := other.Conn(ctx)
	require.NoError(t, err)
	defer holder.Close()
	_, err = holder.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	fig := testenv.Outage{Name: "sqlite-locked", Backend: "sqlite+memory"}
	requireUnavailable(t, tally(&fig, e.admin(testenv.Bearer).Do(loginMutation, creds("superadmin", "superadmin"))), "login", path)
	requireGuestDuringOutage(t, e, &fig, "locked", path)
	r := tally(&fig, admin.Do(meQuery, nil)) // a cached session needs no lock
	require.Empty(t, r.Errors)

	_, err = holder.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	requireRecovered(t, e, admin)
	testenv.ReportOutage(t, fig)
}

func requireLogin(t *testing.T, c *testenv.Client) {
	t.Helper()
	r := c.Do(loginMutation, creds("superadmin", "superadmin"))
	require.Empty(t, r.Errors)
	require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
	require.NotEmpty(t, c.Token)
}

// requireGuestDuringOutage shows a new guest during a database outage: its
// session holds nothing, so it lives in the cache only (GUEST_SESSIONS=lazy)
// and the request is served; its first cart write needs its row, and fails
// like any other database write. Both requests are counted in fig.
func requireGuestDuringOutage(t *testing.T, e *env, fig *testenv.Outage, what string, secrets ...string) {
	t.Helper()
	guest := e.shop(testenv.Bearer)
	r := tally(fig, guest.Do(activeCustomerQuery, nil))
	require.Empty(t, r.Errors, what+": a new guest needs no database")
	require.NotEmpty(t, guest.Token, what)
	r = tally(fig, guest.Do(addItemMutation, map[string]any{"productVariantId": "1", "quantity": 1}))
	requireUnavailable(t, r, what+" first cart write", secrets...)
}

// requireRecovered shows every request of the outage tests working again,
// and leaves admin logged in with a fresh cached session.
func requireRecovered(t *testing.T, e *env, admin *testenv.Client) {
	t.Helper()
	requireLogin(t, e.admin(testenv.Bearer))

	guest := e.shop(testenv.Bearer)
	r := guest.Do(activeCustomerQuery, nil)
	require.Empty(t, r.Errors)
	require.NotEmpty(t, guest.Token, "a guest session was created")

	e.clock.Advance(2 * time.Second)
	r = admin.Do(meQuery, nil) // read from the database
	require.Empty(t, r.Errors)
	require.Equal(t, "superadmin", decodeMe(t, r).Me.Identifier)

	r = admin.Do(logoutMutation, nil)
	require.Empty(t, r.Errors)
	require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
	requireLogin(t, admin)
}
