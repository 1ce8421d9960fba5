package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// logBuffer collects a server's log lines; safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// linesWith returns the lines holding every one of parts.
func (l *logBuffer) linesWith(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.buf.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// loggedServer is a server on a fresh database of the given dialect with
// the memory cache, whose log is captured.
type loggedServer struct {
	app  *app.App
	url  string
	logs *logBuffer
}

func newLoggedServer(t *testing.T, dialect string, configure func(*config.Config)) *loggedServer {
	t.Helper()
	cfg := config.Defaults()
	cfg.BcryptCost = 4
	cfg.DefaultChannelToken = "e2e-default-channel"
	cfg.SessionCacheStrategy = "memory"
	if configure != nil {
		configure(&cfg)
	}
	logs := &logBuffer{}
	a, err := app.New(context.Background(), cfg, app.Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), DB: testenv.DialectDB(t, dialect),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &loggedServer{app: a, url: srv.URL, logs: logs}
}

func (s *loggedServer) client(t *testing.T, path string) *testenv.Client {
	return testenv.NewClient(t, s.url+path, testenv.Bearer)
}

// eachDialect runs f on SQLite, and on PostgreSQL when TEST_DATABASE_URL
// is set.
func eachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	t.Helper()
	dialects := []string{"sqlite"}
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		dialects = append(dialects, "postgres")
	}
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// A resolver whose database is gone: gqlgen wraps its error before the
// presenter sees it. The client gets INTERNAL_SERVER_ERROR, the generic
// message and a 503, nothing of the driver's text; the log gets exactly one
// line with the request id and the operation name.
func TestInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		s := newLoggedServer(t, dialect, nil)
		// A session in the cache, for the GET below, whose resolver reads
		// the database (a GET creates no session, so a tokenless one would
		// need none).
		login := s.client(t, app.AdminPath).Do(loginMutation, creds("superadmin", "superadmin"))
		require.Empty(t, login.Errors)
		token, _ := login.TokenHeader()
		require.NotEmpty(t, token)
		require.NoError(t, s.app.DB.Close())

		for _, tc := range []struct{ api, requestID string }{
			{app.ShopPath, "shop-login-" + dialect},
			{app.AdminPath, "admin-login-" + dialect},
		} {
			c := testenv.NewClient(t, s.url+tc.api, testenv.Bearer)
			c.Header = map[string]string{"X-Request-Id": tc.requestID}
			r := c.Do(loginMutation, creds("superadmin", "superadmin"))
			require.Equal(t, http.StatusServiceUnavailable, r.Status)
			require.Len(t, r.Errors, 1)
			require.Equal(t, "INTERNAL_SERVER_ERROR", r.ErrorCode())
			require.Equal(t, "Internal server error", r.Errors[0].Message)
			require.Equal(t, []any{"login"}, r.Errors[0].Path)
			require.Equal(t, tc.requestID, r.Header.Get("X-Request-Id"))
			raw, _ := json.Marshal(r.Errors)
			for _, leak := range []string{"sql", "closed", "database", "postgres", "5432", "127.0.0.1"} {
				require.NotContains(t, strings.ToLower(string(raw)), leak)
			}

			lines := s.logs.linesWith("requestId="+tc.requestID, "operation=Login")
			require.Len(t, lines, 1, "logged once: %v", lines)
			require.Contains(t, lines[0], "level=ERROR")
			require.Contains(t, lines[0], "path=login")
			require.Contains(t, lines[0], "database is closed", "the log has the real error")
		}

		// GET answers 503 too: the administrator cannot be read.
		req, err := http.NewRequest(http.MethodGet, s.url+app.AdminPath+"?query="+"%7B%20activeAdministrator%20%7B%20id%20%7D%20%7D", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", body)
		require.Contains(t, string(body), `"code":"INTERNAL_SERVER_ERROR"`)
		require.NotContains(t, string(body), "closed")
		require.Regexp(t, `^[0-9a-f]{32}$`, resp.Header.Get("X-Request-Id"), "generated when the client sends none")
	})
}

// A request whose deadline (REQUEST_TIMEOUT) has passed is answered with
// REQUEST_TIMEOUT and a 503 instead of being worked on: here the deadline
// passed before the request reached the GraphQL handler.
func TestRequestPastItsDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		var req *http.Request
		if method == http.MethodGet {
			req = httptest.NewRequestWithContext(ctx, method, app.ShopPath+"?query=%7BactiveChannel%7Bid%7D%7D", nil)
		} else {
			req = httptest.NewRequestWithContext(ctx, method, app.ShopPath, strings.NewReader(`{"query":"{ activeChannel { id } }"}`))
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		e.app.Handler().ServeHTTP(w, req)
		require.Equal(t, http.StatusServiceUnavailable, w.Code, method)
		require.JSONEq(t, `{"errors":[{"message":"The request took too long and was stopped","extensions":{"code":"REQUEST_TIMEOUT"}}],"data":null}`, w.Body.String())
	}
}

// A resolver stuck on the database past REQUEST_TIMEOUT: the request ends
// with REQUEST_TIMEOUT (503) when its deadline passes, not when the database
// lets go. SQLite: the test holds the app's only connection. PostgreSQL: it
// holds a lock on the session table that login must write.
func TestRequestDeadlineStopsAStuckResolver(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		s := newLoggedServer(t, dialect, func(c *config.Config) { c.RequestTimeout = 300 * time.Millisecond })
		ctx := context.Background()
		conn, err := s.app.DB.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		if dialect == "postgres" {
			tx, err := conn.BeginTx(ctx, nil)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback() }()
			_, err = tx.ExecContext(ctx, `LOCK TABLE session IN ACCESS EXCLUSIVE MODE`)
			require.NoError(t, err)
		}

		c := testenv.NewClient(t, s.url+app.AdminPath, testenv.Bearer)
		c.Header = map[string]string{"X-Request-Id": "stuck-" + dialect}
		r := c.Do(loginMutation, creds("superadmin", "superadmin"))
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		require.Equal(t, "REQUEST_TIMEOUT", r.ErrorCode())
		require.Equal(t, "The request took too long and was stopped", r.Errors[0].Message)
		require.Len(t, s.logs.linesWith("requestId=stuck-"+dialect, "operation=Login", "level=WARN"), 1)
	})
}

// X-Request-Id: a sane incoming id is kept and echoed, anything else is
// replaced by a generated one.
func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tc := range []struct{ in, want string }{
		{"abc-123_XYZ.trace/1", "abc-123_XYZ.trace/1"},
		{"", ""},
		{"has spaces", ""},
		{"new\u00e9line", ""},
		{strings.Repeat("x", 129), ""},
		{strings.Repeat("y", 128), strings.Repeat("y", 128)},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+app.ShopPath, strings.NewReader(`{"query":"{ activeChannel { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		if tc.in != "" {
			req.Header.Set("X-Request-Id", tc.in)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		if tc.want != "" {
			require.Equal(t, tc.want, got)
		} else {
			require.Regexp(t, generated, got, "for %q", tc.in)
		}
	}
}

// The POST body must be exactly one JSON object: a batch array, a second
// value or garbage after it, or a field of the wrong type is a 400 with a
// GraphQL error whose message names no Go type.
func TestPOSTBodyIsOneJSONObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	for _, tc := range []struct{ body, message string }{
		{`[{"query":"{ activeChannel { id } }"},{"query":"{ activeChannel { id } }"}]`, "Batched requests are not supported; send one operation per request"},
		{` [ ]`, "Batched requests are not supported; send one operation per request"},
		{`{"query":"{ activeChannel { id } }"} {"query":"mutation { logout { success } }"}`, "json request body could not be decoded: data after the JSON object (send one JSON object per request)"},
		{`{"query":"{ activeChannel { id } }"}garbage`, "json request body could not be decoded: data after the JSON object (send one JSON object per request)"},
		{`{"query":5}`, `json request body could not be decoded: "query" must not be a JSON number`},
		{`{"query":"{ activeChannel { id } }","variables":[]}`, `json request body could not be decoded: "variables" must not be a JSON array`},
		{`"{ activeChannel { id } }"`, "json request body could not be decoded: the body must be a JSON object"},
		{`{not json`, "json request body could not be decoded: invalid character 'n' looking for beginning of object key string"},
		{``, "json request body could not be decoded: the body is empty"},
	} {
		resp, err := http.Post(e.srv.URL+app.ShopPath, "application/json", strings.NewReader(tc.body))
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.body)
		var out testenv.Response
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		require.Len(t, out.Errors, 1, "%s", raw)
		require.Equal(t, tc.message, out.Errors[0].Message)
		require.Equal(t, "BAD_REQUEST", out.ErrorCode(), tc.body)
		require.NotContains(t, string(raw), "graphql.")
		require.NotContains(t, string(raw), "RawParams")
	}
	// Trailing white space is fine.
	resp, err := http.Post(e.srv.URL+app.ShopPath, "application/json", strings.NewReader("{\"query\":\"{ activeChannel { id } }\"}\r\n\t "))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// A mistake inside a fragment is one error, however many operations spread
// the fragment (gqlparser's validator walks it for each of them and once on
// its own); two mistakes stay two, and the same mistake in two places is
// reported at each.
func TestFragmentValidationErrorReportedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	const msg = `Cannot query field "nope" on type "Channel". Did you mean "code"?`
	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"in a fragment", `query { activeChannel { ...F } } fragment F on Channel { id nope }`, []string{msg}},
		{"in a nested fragment", `query { activeChannel { ...F } } fragment F on Channel { ...G } fragment G on Channel { nope }`, []string{msg}},
		{"spread twice", `query { a: activeChannel { ...F } b: activeChannel { ...F } } fragment F on Channel { nope }`, []string{msg}},
		{"two mistakes", `query { activeChannel { ...F } } fragment F on Channel { nope code { x } }`,
			[]string{msg, `Cannot query field "x" on type "String".`, `Field "code" must not have a selection since type "String" has no subfields.`}},
		{"one in the fragment, one in the operation", `query { activeChannel { nope ...F } } fragment F on Channel { nope }`, []string{msg, msg}},
	}
	for _, c := range cases {
		for _, api := range []*testenv.Client{e.shop(testenv.Bearer), e.admin(testenv.Bearer)} {
			r := api.Do(c.query, nil)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, c.name)
			var got []string
			for _, e := range r.Errors {
				require.Equal(t, "GRAPHQL_VALIDATION_FAILED", e.Code(), c.name)
				got = append(got, e.Message)
			}
			require.Equal(t, c.want, got, c.name)
		}
	}
}
