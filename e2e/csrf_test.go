package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/requestctx"
)

// statementsByRequest counts the database statements sent on behalf of each
// HTTP request, by its X-Request-Id, from the moment the request reaches the
// server: the session lookup included, which runs before GraphQL does.
type statementsByRequest struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *statementsByRequest) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if id := requestctx.RequestID(ctx); id != "" {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.n == nil {
			h.n = map[string]int{}
		}
		h.n[id]++
	}
	return ctx
}

func (h *statementsByRequest) AfterQuery(context.Context, *bun.QueryEvent) {}

func (h *statementsByRequest) of(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[id]
}

// allSessionRows counts the rows of the session table.
func allSessionRows(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.db.NewSelect().Table("session").Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// crossOriginMessage is the refusal's message (gqlerr.MsgCrossOrigin).
const crossOriginMessage = "Cross-origin request refused: a page on this origin may not use the session cookie (its origin is not in CORS_ORIGINS)"

// The attack: a page on a foreign origin makes the victim's browser send a
// mutation with the victim's session cookie. It is refused with FORBIDDEN
// and HTTP 403 before any work: no statement, no cache call, no session
// created or ended. Requests the defence must not touch go through: the
// listed storefront's, those without an Origin (curl, a server-side
// storefront), and header-authenticated ones from anywhere.
func TestCrossOriginCookieRefused(t *testing.T) {
	t.Parallel()
	const shop, evil = "https://shop.example.com", "https://evil.example.net"
	eachBackend(t, func(t *testing.T, b backend) {
		statements := &statementsByRequest{}
		e := newEnvOn(t, b, testenv.DialectDB(t, b.dialect).WithQueryHook(statements), withCORSOrigins(shop))
		n := 0
		// as returns a client of api that sends the headers of a page on
		// origin ("" for none), with a request id of its own per call.
		as := func(c *testenv.Client, origin string, extra ...string) string {
			n++
			id := fmt.Sprintf("csrf-%s-%d", b.name, n)
			c.Header = map[string]string{"X-Request-Id": id}
			if origin != "" {
				c.Header["Origin"] = origin
			}
			for i := 0; i+1 < len(extra); i += 2 {
				c.Header[extra[i]] = extra[i+1]
			}
			return id
		}

		// The victim logs in on the listed storefront: cookie + listed origin.
		victim := e.admin(testenv.Cookie)
		id := as(victim, shop, "Sec-Fetch-Site", "cross-site")
		require.Equal(t, "CurrentUser", decodeLogin(t, victim.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		require.NotNil(t, victim.Cookie)
		require.Positive(t, statements.of(id), "the hook sees a request's statements")
		me := func(t *testing.T) {
			t.Helper()
			as(victim, shop, "Sec-Fetch-Site", "cross-site")
			r := victim.Do(meQuery, nil)
			require.Equal(t, http.StatusOK, r.Status)
			got := decodeMe(t, r).Me
			require.NotNil(t, got, "the victim is still logged in: %+v", r.Errors)
			require.Equal(t, "superadmin", got.Identifier)
		}
		me(t)
		rows := allSessionRows(t, e)

		// The victim's browser on the attacker's pages: a cross-site page, a
		// same-site sibling, an old browser without Sec-Fetch-Site, and a
		// sandboxed frame ("null"). Each sends the cookie with logout, or
		// with a document whose named operation is the mutation.
		cookie := victim.Cookie.Name + "=" + victim.Cookie.Value
		const twoOperations = `query Harmless { activeChannel { id } } mutation Evil { logout { success } }`
		for _, tc := range []struct {
			name    string
			origin  string
			headers []string
			doc     string
			op      string
		}{
			{"cross-site", evil, []string{"Sec-Fetch-Site", "cross-site"}, logoutMutation, ""},
			{"same-site sibling", "https://blog.example.com", []string{"Sec-Fetch-Site", "same-site"}, logoutMutation, ""},
			{"old browser", evil, nil, logoutMutation, ""},
			{"null", "null", []string{"Sec-Fetch-Site", "cross-site"}, logoutMutation, ""},
			{"the operation named", evil, []string{"Sec-Fetch-Site", "cross-site"}, twoOperations, "Evil"},
			{"a query: refused too", evil, []string{"Sec-Fetch-Site", "cross-site"}, meQuery, ""},
		} {
			e.takeCalls()
			n++
			id := fmt.Sprintf("csrf-%s-%d", b.name, n)
			header := map[string]string{"Cookie": cookie, "X-Request-Id": id}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				header[tc.headers[i]] = tc.headers[i+1]
			}
			body := map[string]any{"query": tc.doc}
			if tc.op != "" {
				body["operationName"] = tc.op
			}
			r := rawRequest(t, http.MethodPost, e.srv.URL+app.AdminPath, tc.origin, body, header)
			require.Equal(t, http.StatusForbidden, r.StatusCode, tc.name)
			require.JSONEq(t, `{"errors":[{"message":"`+crossOriginMessage+`","extensions":{"code":"FORBIDDEN"}}],"data":null}`, string(r.body), tc.name)
			require.Empty(t, r.Header.Values("Set-Cookie"), "%s: the cookie is left alone", tc.name)
			require.Empty(t, r.Header.Values("Access-Control-Allow-Origin"), tc.name)
			require.Zero(t, statements.of(id), "%s: no database statement", tc.name)
			require.Equal(t, 0, e.takeCalls().Gets, "%s: no session lookup in the cache", tc.name)
			require.Equal(t, rows, allSessionRows(t, e), "%s: no session row written", tc.name)
			me(t)
		}

		// A GET from there runs no mutation (406).
		r := rawRequest(t, http.MethodGet, e.srv.URL+app.AdminPath+"?query="+neturl.QueryEscape(logoutMutation), evil, nil,
			map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"})
		require.Equal(t, http.StatusNotAcceptable, r.StatusCode, "%s", r.body)
		me(t)

		// Header-authenticated: a bearer client anywhere is not affected.
		bearer := e.admin(testenv.Bearer)
		as(bearer, evil, "Sec-Fetch-Site", "cross-site")
		require.Equal(t, "CurrentUser", decodeLogin(t, bearer.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		as(bearer, evil, "Sec-Fetch-Site", "cross-site")
		require.NotNil(t, decodeMe(t, bearer.Do(meQuery, nil)).Me)
		as(bearer, evil, "Sec-Fetch-Site", "cross-site")
		require.Equal(t, `{"logout":{"success":true}}`, string(bearer.Do(logoutMutation, nil).Data))

		// No Origin (curl, a server-side storefront): a second session of
		// the victim's, logged out with its cookie.
		server := e.admin(testenv.Cookie)
		as(server, "")
		require.Equal(t, "CurrentUser", decodeLogin(t, server.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		as(server, "")
		require.Equal(t, `{"logout":{"success":true}}`, string(server.Do(logoutMutation, nil).Data))

		// The listed storefront's own logout goes through.
		me(t)
		as(victim, shop, "Sec-Fetch-Site", "cross-site")
		r2 := victim.Do(logoutMutation, nil)
		require.Equal(t, http.StatusOK, r2.Status)
		require.Equal(t, `{"logout":{"success":true}}`, string(r2.Data))
		require.Nil(t, victim.Cookie, "the cookie is cleared")
	})
}

// "*" lets any origin read answers without credentials; it never lets a
// page send the session cookie. Without CORS_ORIGINS, loopback origins
// (local storefront development) may.
func TestCrossOriginCookieWithStarAndDefault(t *testing.T) {
	t.Parallel()
	login := func(t *testing.T, e *env, origin string) (status int, code string) {
		t.Helper()
		c := e.admin(testenv.Cookie)
		require.Equal(t, "CurrentUser", decodeLogin(t, c.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		c.Header = map[string]string{"Origin": origin, "Sec-Fetch-Site": "cross-site"}
		r := c.Do(logoutMutation, nil)
		return r.Status, r.ErrorCode()
	}

	star := newEnv(t, backends()[0], withCORSOrigins("*"))
	for _, origin := range []string{"https://anyone.example.net", "http://localhost:4200"} {
		status, code := login(t, star, origin)
		require.Equal(t, http.StatusForbidden, status, origin)
		require.Equal(t, "FORBIDDEN", code, origin)
	}

	loopback := newEnv(t, backends()[0])
	for _, origin := range []string{"http://localhost:4200", "http://127.0.0.1:5173"} {
		status, code := login(t, loopback, origin)
		require.Equal(t, http.StatusOK, status, origin)
		require.Empty(t, code, origin)
	}
	status, _ := login(t, loopback, "https://shop.example.com")
	require.Equal(t, http.StatusForbidden, status)
}

// A GET never creates a session nor sets a session cookie: the fields that
// would give a POST a guest session answer as without one. The same query
// by POST does create one, so the GETs could have.
func TestGETCreatesNoSession(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		rows := allSessionRows(t, e)
		get := func(api, query string, header map[string]string) rawResponse {
			t.Helper()
			return rawRequest(t, http.MethodGet, e.srv.URL+api+"?query="+neturl.QueryEscape(query), "", nil, header)
		}
		e.takeCalls()
		for _, tc := range []struct{ api, query, want string }{
			{app.ShopPath, `{ activeCustomer { id } activeOrder { id } }`, `{"data":{"activeCustomer":null,"activeOrder":null}}`},
			{app.ShopPath, `{ orderByCode(code: "ABC") { id } }`, `{"data":{"orderByCode":null},"errors":[{"message":"You are not currently authorized to perform this action","path":["orderByCode"],"extensions":{"code":"FORBIDDEN"}}]}`},
			{app.AdminPath, `{ activeAdministrator { id } }`, `{"data":{"activeAdministrator":null}}`},
		} {
			r := get(tc.api, tc.query, nil)
			require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
			require.JSONEq(t, tc.want, string(r.body), tc.query)
			require.Empty(t, r.Header.Values("Set-Cookie"), tc.query)
			require.Empty(t, r.Header.Values("vendure-auth-token"), tc.query)
		}
		r := get(app.AdminPath, `{ me { id } }`, nil)
		require.Contains(t, string(r.body), `"code":"FORBIDDEN"`, "as for a caller without a session")
		require.Empty(t, r.Header.Values("Set-Cookie"))
		require.Zero(t, e.takeCalls().Sets, "no guest session cached")
		require.Equal(t, rows, allSessionRows(t, e), "no guest session stored")

		// A GET with a session answers with it and sends no cookie.
		shop := e.shop(testenv.Cookie)
		shop.Do(`mutation { addItemToOrder(productVariantId: 1, quantity: 1) { __typename } }`, nil)
		require.NotNil(t, shop.Cookie, "a POST creates a guest session")
		r = get(app.ShopPath, `{ activeOrder { totalQuantity } }`, map[string]string{"Cookie": shop.Cookie.Name + "=" + shop.Cookie.Value})
		require.JSONEq(t, `{"data":{"activeOrder":{"totalQuantity":1}}}`, string(r.body))
		require.Empty(t, r.Header.Values("Set-Cookie"))

		// The control: the same query by POST gives a guest session.
		post := e.shop(testenv.Cookie).Do(`{ activeCustomer { id } }`, nil)
		require.NotNil(t, post.SessionCookie("session"))
	})
}

// hostRequest sends a tokenless POST that creates a guest session, with
// the Host header host and extra headers, and returns its session
// Set-Cookie line.
func hostRequest(t *testing.T, e *env, host string, header map[string]string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+app.ShopPath, strings.NewReader(`{"query":"{ activeCustomer { id } }"}`))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	lines := resp.Header.Values("Set-Cookie")
	require.Len(t, lines, 1)
	return lines[0]
}

// COOKIE_SECURE's default (auto): the session cookie is Secure for a
// request to a public host name, or one a proxy says came over HTTPS, and
// not for plain HTTP to localhost (`go run .` on a laptop); true and false
// are what they say.
func TestCookieSecureDefault(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		port := e.srv.Listener.Addr().String()[strings.LastIndex(e.srv.Listener.Addr().String(), ":"):]
		for _, tc := range []struct {
			host   string
			header map[string]string
			secure bool
		}{
			{"shop.example.com", nil, true},
			{"api.example.com" + port, nil, true},
			{"localhost" + port, nil, false},
			{"127.0.0.1" + port, nil, false},
			{"[::1]" + port, nil, false},
			{"127.0.0.1" + port, map[string]string{"X-Forwarded-Proto": "https"}, true},
			{"127.0.0.1" + port, map[string]string{"X-Forwarded-Host": "shop.example.com"}, true},
		} {
			line := hostRequest(t, e, tc.host, tc.header)
			require.Equal(t, tc.secure, strings.Contains(line, "; Secure"), "%s %v: %s", tc.host, tc.header, line)
		}
	})

	for mode, want := range map[string]bool{"true": true, "false": false} {
		e := newEnv(t, backends()[0], withCookie("lax", mode, ""))
		for _, host := range []string{"shop.example.com", "localhost"} {
			require.Equal(t, want, strings.Contains(hostRequest(t, e, host, nil), "; Secure"), "COOKIE_SECURE=%s, %s", mode, host)
		}
	}
}

// COOKIE_HOST_PREFIX: the cookie is __Host-session, Secure (on localhost
// too), Path=/ and without Domain; it is the only name read.
func TestCookieHostPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], func(c *config.Config) { c.CookieHostPrefix = true })
	admin := e.admin(testenv.Cookie)
	r := admin.Do(loginMutation, creds("superadmin", "superadmin"))
	require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
	lines := r.Header.Values("Set-Cookie")
	require.Len(t, lines, 1)
	require.True(t, strings.HasPrefix(lines[0], "__Host-session="), lines[0])
	for _, a := range []string{"; Path=/", "; Secure", "; HttpOnly"} {
		require.Contains(t, lines[0], a)
	}
	require.NotContains(t, lines[0], "Domain=")
	require.NotNil(t, decodeMe(t, admin.Do(meQuery, nil)).Me, "read back under its name")

	other := e.admin(testenv.Cookie)
	other.Cookie = &http.Cookie{Name: "session", Value: admin.Cookie.Value}
	require.Nil(t, decodeMe(t, other.Do(meQuery, nil)).Me, "the unprefixed name is not read")

	_, err := app.New(context.Background(), func() config.Config {
		c := config.Defaults()
		c.CookieHostPrefix, c.CookieDomain = true, "example.com"
		return c
	}(), app.Options{DB: testenv.DialectDB(t, "sqlite")})
	require.ErrorContains(t, err, "COOKIE_HOST_PREFIX: cannot be used with COOKIE_DOMAIN")
}
