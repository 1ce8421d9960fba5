package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	neturl "net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// withCORSOrigins sets CORS_ORIGINS.
func withCORSOrigins(origins ...string) envOption {
	return func(c *config.Config) { c.CORSOrigins = origins }
}

// withCookie sets COOKIE_SAMESITE, COOKIE_SECURE ("auto", "true" or
// "false") and COOKIE_DOMAIN.
func withCookie(sameSite, secure, domain string) envOption {
	return func(c *config.Config) { c.CookieSameSite, c.CookieSecure, c.CookieDomain = sameSite, secure, domain }
}

// rawResponse is an HTTP response with its body read.
type rawResponse struct {
	*http.Response
	body []byte
}

// rawRequest sends a request as a browser would, with an Origin (when not
// empty) and extra headers, and reads the whole response.
func rawRequest(t *testing.T, method, url, origin string, body any, header map[string]string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResponse{resp, b}
}

func preflight(t *testing.T, url, origin string) rawResponse {
	t.Helper()
	return rawRequest(t, http.MethodOptions, url, origin, nil, map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "content-type,vendure-token,x-not-on-the-list",
	})
}

func gql(query string, vars map[string]any) map[string]any {
	return map[string]any{"query": query, "variables": vars}
}

// requireCredentialed asserts the headers that let a page on origin read a
// credentialed response.
func requireCredentialed(t *testing.T, r rawResponse, origin string) {
	t.Helper()
	require.Equal(t, origin, r.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, []string{"true"}, r.Header.Values("Access-Control-Allow-Credentials"))
	requireVaryOrigin(t, r)
}

// requireVaryOrigin asserts one Vary line that names Origin.
func requireVaryOrigin(t *testing.T, r rawResponse) {
	t.Helper()
	vary := r.Header.Values("Vary")
	require.Len(t, vary, 1)
	require.Contains(t, strings.Split(vary[0], ", "), "Origin")
}

// requireNoCORS asserts a response that no cross-origin page can read.
func requireNoCORS(t *testing.T, r rawResponse) {
	t.Helper()
	for _, h := range []string{
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers",
	} {
		require.Empty(t, r.Header.Values(h), h)
	}
	requireVaryOrigin(t, r)
}

// CORS_ORIGINS on the real handler: a listed origin logs in with
// credentials; an unlisted one, a sibling subdomain or "null" gets no CORS
// header at all, on the preflight or on the request, and its request with
// the session cookie is refused.
func TestCORSListedOrigins(t *testing.T) {
	t.Parallel()
	const shop = "https://shop.example.com"
	e := newEnv(t, backends()[0], withCORSOrigins(shop), withTokenMethods("cookie"))
	admin := e.srv.URL + app.AdminPath

	r := preflight(t, admin, shop)
	require.Equal(t, http.StatusNoContent, r.StatusCode)
	requireCredentialed(t, r, shop)
	require.Equal(t, "600", r.Header.Get("Access-Control-Max-Age"))
	require.Equal(t, "GET, POST, OPTIONS", r.Header.Get("Access-Control-Allow-Methods"))
	require.Equal(t, "content-type, authorization, vendure-token, vendure-auth-token, apollo-require-preflight, "+
		"x-apollo-operation-name, apollographql-client-name, apollographql-client-version, x-request-id",
		r.Header.Get("Access-Control-Allow-Headers"), "a fixed list, not the requested headers")

	r = rawRequest(t, http.MethodPost, admin, shop, gql(loginMutation, creds("superadmin", "superadmin")), nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	requireCredentialed(t, r, shop)
	require.Equal(t, []string{"Retry-After, X-Request-Id"}, r.Header.Values("Access-Control-Expose-Headers"), "cookie mode exposes no token header")
	require.Contains(t, string(r.body), `"identifier":"superadmin"`)
	var session *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "session" {
			session = c
		}
	}
	require.NotNil(t, session)
	cookie := map[string]string{"Cookie": "session=" + session.Value}

	for _, origin := range []string{"https://evil.example.com", "https://shop.example.com:8443", "http://shop.example.com", "null", "http://localhost:4200"} {
		r = preflight(t, admin, origin)
		require.Equal(t, http.StatusNoContent, r.StatusCode, origin)
		requireNoCORS(t, r)

		// Sending the cookie from there is refused (crossorigin_test.go).
		r = rawRequest(t, http.MethodPost, admin, origin, gql(meQuery, nil), cookie)
		require.Equal(t, http.StatusForbidden, r.StatusCode, "%s: %s", origin, r.body)
		require.NotContains(t, string(r.body), "superadmin")
		requireNoCORS(t, r)
	}

	// Without an Origin (curl, server-side rendering) nothing changes.
	r = rawRequest(t, http.MethodPost, admin, "", gql(meQuery, nil), cookie)
	require.Contains(t, string(r.body), `"identifier":"superadmin"`)
	requireNoCORS(t, r)
}

// The default (no CORS_ORIGINS) gives credentials to loopback origins only,
// so local storefront development works; with bearer tokens the token header
// is exposed.
func TestCORSLoopbackDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	shopAPI := e.srv.URL + app.ShopPath
	for _, origin := range []string{"http://localhost:4200", "http://127.0.0.1:3001", "https://localhost", "http://[::1]:8080"} {
		r := preflight(t, shopAPI, origin)
		requireCredentialed(t, r, origin)
		require.Equal(t, "600", r.Header.Get("Access-Control-Max-Age"))

		r = rawRequest(t, http.MethodPost, shopAPI, origin, gql(`{ activeCustomer { id } }`, nil), nil)
		requireCredentialed(t, r, origin)
		require.Equal(t, []string{"vendure-auth-token, Retry-After, X-Request-Id"}, r.Header.Values("Access-Control-Expose-Headers"))
		require.Regexp(t, `^[0-9a-f]{64}$`, r.Header.Get("vendure-auth-token"))
	}
	for _, origin := range []string{"https://shop.example.com", "http://localhost.example.com", "null"} {
		requireNoCORS(t, preflight(t, shopAPI, origin))
		requireNoCORS(t, rawRequest(t, http.MethodPost, shopAPI, origin, gql(activeChannel, nil), nil))
	}
}

// "*" lets any other origin read responses without credentials (a
// bearer-token storefront anywhere); listed origins keep theirs.
func TestCORSStar(t *testing.T) {
	t.Parallel()
	const shop = "https://shop.example.com"
	e := newEnv(t, backends()[0], withCORSOrigins(shop, "*"))
	shopAPI := e.srv.URL + app.ShopPath

	requireCredentialed(t, preflight(t, shopAPI, shop), shop)
	for _, origin := range []string{"https://anyone.example.net", "null", "http://localhost:4200"} {
		r := preflight(t, shopAPI, origin)
		require.Equal(t, "*", r.Header.Get("Access-Control-Allow-Origin"), origin)
		require.Empty(t, r.Header.Values("Access-Control-Allow-Credentials"), origin)
		require.Equal(t, "600", r.Header.Get("Access-Control-Max-Age"))
		require.NotContains(t, r.Header.Get("Access-Control-Allow-Headers"), "x-not-on-the-list")

		r = rawRequest(t, http.MethodPost, shopAPI, origin, gql(`{ activeCustomer { id } }`, nil), nil)
		require.Equal(t, "*", r.Header.Get("Access-Control-Allow-Origin"))
		require.Empty(t, r.Header.Values("Access-Control-Allow-Credentials"))
		require.Equal(t, []string{"vendure-auth-token, Retry-After, X-Request-Id"}, r.Header.Values("Access-Control-Expose-Headers"),
			"a bearer client on any origin reads its token")
	}
}

// cookieLines returns the raw Set-Cookie lines of the session cookie.
func cookieLines(h http.Header) []string {
	var out []string
	for _, l := range h.Values("Set-Cookie") {
		if strings.HasPrefix(l, "session=") {
			out = append(out, l)
		}
	}
	return out
}

// Every Set-Cookie — guest session, login, logout, a cleared unknown token —
// carries COOKIE_SAMESITE, COOKIE_DOMAIN and COOKIE_SECURE, the deletion
// included: a browser only deletes a cookie with the same Domain, Path and
// partition, and ignores a SameSite=None cookie that is not Secure.
// SameSite=None cookies are Partitioned too (see browser_test.go).
func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opt    envOption
		attrs  []string // attributes every Set-Cookie line carries
		absent []string // attributes none carries
		same   http.SameSite
	}{
		{"default (on loopback: not Secure)", withCookie("lax", "auto", ""), []string{"Path=/", "HttpOnly", "SameSite=Lax"}, []string{"Domain=", "Secure", "Partitioned"}, http.SameSiteLaxMode},
		{"strict", withCookie("strict", "true", ""), []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict"}, []string{"Domain=", "Partitioned"}, http.SameSiteStrictMode},
		{"none, secure, domain", withCookie("none", "auto", "sessions.test"),
			[]string{"Path=/", "Domain=sessions.test", "HttpOnly", "Secure", "SameSite=None", "Partitioned"}, nil, http.SameSiteNoneMode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, backends()[0], withTokenMethods("cookie"), tc.opt)
			check := func(r *testenv.Response, what string, deleted bool) {
				t.Helper()
				lines := cookieLines(r.Header)
				require.Len(t, lines, 1, what)
				for _, a := range tc.attrs {
					require.Contains(t, lines[0], "; "+a, "%s: %s", what, lines[0])
				}
				for _, a := range tc.absent {
					require.NotContains(t, lines[0], "; "+a, "%s: %s", what, lines[0])
				}
				c := r.SessionCookie("session")
				require.Equal(t, tc.same, c.SameSite)
				if deleted {
					require.Empty(t, c.Value, what)
					require.Contains(t, lines[0], "; Max-Age=0", what)
				} else {
					require.Regexp(t, `^[0-9a-f]{64}$`, c.Value, what)
				}
			}

			shop := e.shop(testenv.Cookie)
			check(shop.Do(`{ activeCustomer { id } }`, nil), "guest session", false)

			admin := e.admin(testenv.Cookie)
			check(admin.Do(loginMutation, map[string]any{"username": "superadmin", "password": "superadmin", "rememberMe": true}), "login", false)
			me := decodeMe(t, admin.Do(meQuery, nil))
			require.NotNil(t, me.Me)
			check(admin.Do(logoutMutation, nil), "logout", true)

			stale := e.shop(testenv.Cookie)
			stale.Header = map[string]string{"Cookie": "session=" + strings.Repeat("ef", 32)}
			check(stale.Do(activeChannel, nil), "unknown token cleared", true)
		})
	}
}

// The attack: a shared cache (a CDN, a corporate proxy) between browsers
// and the server keeps one shopper's answer and serves it to the next.
// Every answer of the two APIs — data, a GraphQL error, a refusal before
// GraphQL ran, a throttled call, a preflight — says "private, no-store";
// with cookie sessions it also varies on Cookie; the headers a page may
// read are one list, Retry-After included.
func TestAPIAnswersAreNotCached(t *testing.T) {
	t.Parallel()
	const origin = "http://localhost:4200"
	e := newEnv(t, backends()[0], withGuestLimits(1, time.Hour, 0))
	for _, path := range []string{app.ShopPath, app.AdminPath} {
		url := e.srv.URL + path
		check := func(r rawResponse, what string, status int, vary string) {
			t.Helper()
			require.Equal(t, status, r.StatusCode, "%s %s: %s", path, what, r.body)
			require.Equal(t, []string{"private, no-store"}, r.Header.Values("Cache-Control"), "%s %s", path, what)
			require.Equal(t, []string{vary}, r.Header.Values("Vary"), "%s %s", path, what)
			if status != http.StatusNoContent {
				require.Equal(t, []string{"vendure-auth-token, Retry-After, X-Request-Id"},
					r.Header.Values("Access-Control-Expose-Headers"), "%s %s", path, what)
			}
		}
		check(rawRequest(t, http.MethodPost, url, origin, gql(activeChannel, nil), nil), "data", http.StatusOK, "Origin, Cookie")
		check(rawRequest(t, http.MethodPost, url, origin, gql(`{ activeChannel { nope } }`, nil), nil), "validation error", http.StatusUnprocessableEntity, "Origin, Cookie")
		check(rawRequest(t, http.MethodGet, url+"?query="+neturl.QueryEscape(`mutation { logout { success } }`), origin, nil, nil), "mutation over GET", http.StatusNotAcceptable, "Origin, Cookie")
		check(rawRequest(t, http.MethodPost, url, origin, gql(activeChannel, nil), map[string]string{"vendure-token": "no-such-channel", "Cookie": "session=" + strings.Repeat("ab", 32)}),
			"unknown channel", http.StatusOK, "Origin, Cookie")
		check(preflight(t, url, origin), "preflight", http.StatusNoContent, "Origin")
	}
	// A throttled answer: the second new guest from this address.
	shop := e.srv.URL + app.ShopPath
	r := rawRequest(t, http.MethodPost, shop, origin, gql(`{ activeCustomer { id } }`, nil), nil)
	require.NotEmpty(t, r.Header.Get("vendure-auth-token"))
	r = rawRequest(t, http.MethodPost, shop, origin, gql(`{ activeCustomer { id } }`, nil), nil)
	require.Contains(t, string(r.body), "TOO_MANY_REQUESTS")
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Equal(t, []string{"private, no-store"}, r.Header.Values("Cache-Control"))
	require.Contains(t, r.Header.Get("Access-Control-Expose-Headers"), "Retry-After", "the page can read how long to wait")

	// The playground page is never kept either; its assets are immutable
	// and public.
	r = rawRequest(t, http.MethodGet, shop, "", nil, map[string]string{"Accept": "text/html"})
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, []string{"private, no-store"}, r.Header.Values("Cache-Control"))
	asset := regexp.MustCompile(`src="(playground/assets/[^"]+)"`).FindStringSubmatch(string(r.body))
	require.NotNil(t, asset, "%s", r.body)
	r = rawRequest(t, http.MethodGet, e.srv.URL+"/"+asset[1], "", nil, nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, []string{"public, max-age=31536000, immutable"}, r.Header.Values("Cache-Control"))
	require.Equal(t, []string{"Origin"}, r.Header.Values("Vary"))

	// Bearer tokens only: the cookie decides nothing, so nothing varies
	// on it; cookies only: the token header is not exposed.
	bearer := newEnv(t, backends()[0], withTokenMethods("bearer"))
	r = rawRequest(t, http.MethodPost, bearer.srv.URL+app.ShopPath, origin, gql(activeChannel, nil), nil)
	require.Equal(t, []string{"private, no-store"}, r.Header.Values("Cache-Control"))
	require.Equal(t, []string{"Origin"}, r.Header.Values("Vary"))
	cookie := newEnv(t, backends()[0], withTokenMethods("cookie"))
	r = rawRequest(t, http.MethodPost, cookie.srv.URL+app.ShopPath, origin, gql(activeChannel, nil), nil)
	require.Equal(t, []string{"Origin, Cookie"}, r.Header.Values("Vary"))
	require.Equal(t, []string{"Retry-After, X-Request-Id"}, r.Header.Values("Access-Control-Expose-Headers"))
}
