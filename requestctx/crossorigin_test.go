package requestctx_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/sessioncache"
)

// listed is the OriginAllowed of these tests: the credentialed origins of a
// CORS_ORIGINS=https://shop.example.com.
func listed(origin string) bool { return origin == "https://shop.example.com" }

// The attack: a page on a foreign origin makes the browser send the
// victim's session cookie with a request that may change state. Such a
// request is refused with FORBIDDEN and HTTP 403 before anything is looked
// up or created; the API's own origin, listed origins, requests without
// an Origin, safe methods and header-authenticated requests pass.
func TestCrossOriginRefusal(t *testing.T) {
	t.Parallel()
	const cookie = "session=good"
	for _, tc := range []struct {
		name    string
		method  string
		host    string // the request's Host; "" is httptest's example.com
		headers map[string]string
		noAllow bool // OriginAllowed is nil
		refused bool
	}{
		// Browsers since 2023 send Sec-Fetch-Site.
		{"cross-site page", http.MethodPost, "", map[string]string{"Cookie": cookie, "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, true},
		{"same-site sibling", http.MethodPost, "api.example.com", map[string]string{"Cookie": cookie, "Origin": "https://blog.example.com", "Sec-Fetch-Site": "same-site"}, false, true},
		{"null origin", http.MethodPost, "", map[string]string{"Cookie": cookie, "Origin": "null", "Sec-Fetch-Site": "cross-site"}, false, true},
		{"cross-site without an Origin", http.MethodPost, "", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"}, false, true},
		{"cookie wins over a bearer header", http.MethodPost, "", map[string]string{"Cookie": cookie, "Authorization": "Bearer good", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, true},
		{"an unknown token is not looked up", http.MethodPost, "", map[string]string{"Cookie": "session=forged", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, true},
		{"PUT", http.MethodPut, "", map[string]string{"Cookie": cookie, "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, true},
		{"no OriginAllowed: only the own origin", http.MethodPost, "", map[string]string{"Cookie": cookie, "Origin": "https://shop.example.com", "Sec-Fetch-Site": "cross-site"}, true, true},
		// Older browsers: Origin alone, compared with Host.
		{"old browser, foreign origin", http.MethodPost, "api.example.com", map[string]string{"Cookie": cookie, "Origin": "https://evil.test"}, false, true},
		{"old browser, own host", http.MethodPost, "api.example.com", map[string]string{"Cookie": cookie, "Origin": "https://api.example.com"}, false, false},
		{"old browser, listed origin", http.MethodPost, "api.example.com", map[string]string{"Cookie": cookie, "Origin": "https://shop.example.com"}, false, false},

		{"listed, same-site", http.MethodPost, "api.example.com", map[string]string{"Cookie": cookie, "Origin": "https://shop.example.com", "Sec-Fetch-Site": "same-site"}, false, false},
		{"listed, cross-site", http.MethodPost, "", map[string]string{"Cookie": cookie, "Origin": "https://shop.example.com", "Sec-Fetch-Site": "cross-site"}, false, false},
		// The Playground on the API's own origin, whatever Host a proxy sets.
		{"same origin", http.MethodPost, "10.0.0.5:3000", map[string]string{"Cookie": cookie, "Origin": "https://api.example.com", "Sec-Fetch-Site": "same-origin"}, false, false},
		{"typed by the user", http.MethodPost, "", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "none"}, false, false},
		{"no Origin: curl, server-side storefront, app", http.MethodPost, "", map[string]string{"Cookie": cookie}, false, false},
		{"GET runs queries only", http.MethodGet, "", map[string]string{"Cookie": cookie, "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, false},
		{"bearer", http.MethodPost, "", map[string]string{"Authorization": "Bearer good", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, false},
		{"empty cookie", http.MethodPost, "", map[string]string{"Cookie": "session=", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, false},
		{"another cookie", http.MethodPost, "", map[string]string{"Cookie": "theme=dark", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(func(c *requestctx.Config) {
				if !tc.noAllow {
					c.OriginAllowed = listed
				}
			})
			req := httptest.NewRequest(tc.method, "/shop-api", nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := b.serve(req, func(ctx context.Context, rc *requestctx.RequestContext) {
				_, err := rc.EnsureSession(ctx)
				require.NoError(t, err)
			})
			if !tc.refused {
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				require.NotNil(t, b.seen)
				return
			}
			require.Equal(t, http.StatusForbidden, rec.Code)
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			require.JSONEq(t, `{"errors":[{"message":"Cross-origin request refused: a page on this origin may not use the session cookie (its origin is not in CORS_ORIGINS)","extensions":{"code":"FORBIDDEN"}}],"data":null}`, rec.Body.String())
			require.Nil(t, b.seen, "GraphQL does not run")
			require.Empty(t, b.channels.asked, "no channel lookup")
			require.Empty(t, b.sessions.lookups, "no session lookup")
			require.Zero(t, b.sessions.created, "no session created")
			require.Empty(t, rec.Result().Cookies(), "the cookie is left alone")
			require.Empty(t, rec.Header().Values("vendure-auth-token"))
		})
	}

	t.Run("bearer mode reads no cookie", func(t *testing.T) {
		t.Parallel()
		b := newBundle(func(c *requestctx.Config) { c.UseCookie = false })
		req := request(map[string]string{"Cookie": cookie, "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
		require.Equal(t, http.StatusOK, b.serve(req, nil).Code)
		require.Empty(t, b.seen.Token())
	})

	t.Run("the configured name", func(t *testing.T) {
		t.Parallel()
		b := newBundle(func(c *requestctx.Config) { c.CookieName = "__Host-session" })
		req := request(map[string]string{"Cookie": "session=good", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
		require.Equal(t, http.StatusOK, b.serve(req, nil).Code, "another name is not the session cookie")
		req = request(map[string]string{"Cookie": "__Host-session=good", "Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
		require.Equal(t, http.StatusForbidden, b.serve(req, nil).Code)
	})
}

// A GET never creates a session and sets no cookie: the fields that would
// create a guest answer as without a session. A POST does create one.
func TestGETCreatesNoSession(t *testing.T) {
	t.Parallel()
	b := newBundle(nil)
	ensure := func(want bool) func(context.Context, *requestctx.RequestContext) {
		return func(ctx context.Context, rc *requestctx.RequestContext) {
			s, err := rc.EnsureSession(ctx)
			require.NoError(t, err)
			require.Equal(t, want, s != nil)
			require.Equal(t, want, rc.Session() != nil)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
		rec := b.serve(httptest.NewRequest(method, "/shop-api?query=%7B%20activeOrder%20%7B%20id%20%7D%20%7D", nil), ensure(false))
		require.Zero(t, b.sessions.created, method)
		require.Empty(t, rec.Result().Cookies(), method)
		require.Empty(t, rec.Header().Values("vendure-auth-token"), method)
	}

	// A GET with a session keeps it.
	req := httptest.NewRequest(http.MethodGet, "/shop-api", nil)
	req.Header.Set("Cookie", "session=good")
	rec := b.serve(req, ensure(true))
	require.Empty(t, rec.Result().Cookies())

	rec = b.serve(request(nil), ensure(true))
	require.Equal(t, 1, b.sessions.created, "a POST creates one")
	require.Len(t, rec.Result().Cookies(), 1)
}

// COOKIE_SECURE=auto: Secure unless the request went over plain HTTP to a
// loopback host. Forwarded headers can only make it stricter. A cookie
// browsers accept only when Secure is always Secure; true and false are
// what they say.
func TestSecureCookie(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mode    requestctx.SecureMode
		host    string
		tls     bool
		headers map[string]string
		config  func(*requestctx.Config)
		secure  bool
	}{
		{"public host", requestctx.SecureAuto, "shop.example.com", false, nil, nil, true},
		{"public host, TLS", requestctx.SecureAuto, "shop.example.com", true, nil, nil, true},
		{"localhost", requestctx.SecureAuto, "localhost:3000", false, nil, nil, false},
		{"localhost without a port", requestctx.SecureAuto, "localhost", false, nil, nil, false},
		{"LOCALHOST.", requestctx.SecureAuto, "LOCALHOST.:3000", false, nil, nil, false},
		{"a name under .localhost", requestctx.SecureAuto, "shop.localhost:3000", false, nil, nil, false},
		{"127.0.0.1", requestctx.SecureAuto, "127.0.0.1:3000", false, nil, nil, false},
		{"127.0.0.2", requestctx.SecureAuto, "127.0.0.2", false, nil, nil, false},
		{"::1", requestctx.SecureAuto, "[::1]:3000", false, nil, nil, false},
		{"::1 without a port", requestctx.SecureAuto, "[::1]", false, nil, nil, false},
		{"IPv4-mapped loopback", requestctx.SecureAuto, "[::ffff:127.0.0.1]:3000", false, nil, nil, false},
		{"no Host", requestctx.SecureAuto, "", false, nil, nil, true},
		{"localhost.example.com", requestctx.SecureAuto, "localhost.example.com", false, nil, nil, true},
		{"a private address", requestctx.SecureAuto, "10.0.0.5:3000", false, nil, nil, true},
		{"localhost over TLS", requestctx.SecureAuto, "localhost:3443", true, nil, nil, true},
		{"a proxy says https", requestctx.SecureAuto, "127.0.0.1:3000", false, map[string]string{"X-Forwarded-Proto": "https"}, nil, true},
		{"a proxy chain says https", requestctx.SecureAuto, "127.0.0.1:3000", false, map[string]string{"X-Forwarded-Proto": "http, HTTPS"}, nil, true},
		{"a proxy says http", requestctx.SecureAuto, "127.0.0.1:3000", false, map[string]string{"X-Forwarded-Proto": "http"}, nil, false},
		{"a proxy names a public host", requestctx.SecureAuto, "127.0.0.1:3000", false, map[string]string{"X-Forwarded-Host": "shop.example.com"}, nil, true},
		{"a dev proxy on localhost", requestctx.SecureAuto, "localhost:3000", false, map[string]string{"X-Forwarded-Host": "localhost:5173", "X-Forwarded-Proto": "http"}, nil, false},
		{"a forged header cannot make a public host plain", requestctx.SecureAuto, "shop.example.com", false, map[string]string{"X-Forwarded-Host": "localhost", "X-Forwarded-Proto": "http"}, nil, true},
		{"SameSite=None", requestctx.SecureAuto, "localhost:3000", false, nil, func(c *requestctx.Config) { c.CookieSameSite = http.SameSiteNoneMode }, true},
		{"Partitioned", requestctx.SecureAuto, "localhost:3000", false, nil, func(c *requestctx.Config) { c.CookiePartitioned = true }, true},
		{"__Host- name", requestctx.SecureAuto, "localhost:3000", false, nil, func(c *requestctx.Config) { c.CookieName = "__Host-session" }, true},
		{"__secure- name", requestctx.SecureAuto, "localhost:3000", false, nil, func(c *requestctx.Config) { c.CookieName = "__secure-sid" }, true},
		{"always", requestctx.SecureAlways, "localhost:3000", false, nil, nil, true},
		{"never", requestctx.SecureNever, "shop.example.com", true, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(func(c *requestctx.Config) {
				c.CookieSecure = tc.mode
				if tc.config != nil {
					tc.config(c)
				}
			})
			req := request(tc.headers)
			req.Host = tc.host
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := b.serve(req, func(_ context.Context, rc *requestctx.RequestContext) {
				rc.SetSession(&sessioncache.CachedSession{ID: 8, Token: "new"}, false)
			})
			cookies := rec.Result().Cookies()
			require.Len(t, cookies, 1)
			require.Equal(t, tc.secure, cookies[0].Secure)
		})
	}
}
