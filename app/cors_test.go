package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/requestctx"
)

// corsConfig is the default configuration, as New completes it, with
// CORS_ORIGINS and TOKEN_METHOD set.
func corsConfig(origins []string, methods ...string) config.Config {
	c := WithDefaults(config.Defaults())
	c.CORSOrigins = origins
	if len(methods) > 0 {
		c.TokenMethods = methods
	}
	return c
}

// corsDo sends one request through cors to a handler that answers 200 "ok",
// and returns the recorded response and whether the handler ran.
func corsDo(t *testing.T, cfg config.Config, method, origin string, header map[string]string) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	reached := false
	h := cors(cfg, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached = true
		_, _ = w.Write([]byte("ok"))
	}))
	r := httptest.NewRequest(method, "http://api.example.com/shop-api", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, reached
}

func preflightHeaders() map[string]string {
	return map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "content-type,x-evil",
	}
}

// The CORS decision for each kind of origin, on a plain POST.
func TestCORSDecisions(t *testing.T) {
	t.Parallel()
	listed := []string{"https://shop.example.com", "http://localhost:4200"}
	cases := []struct {
		name        string
		origins     []string
		origin      string
		wantACAO    string // "" = no Access-Control-Allow-Origin
		credentials bool
	}{
		{"listed origin", listed, "https://shop.example.com", "https://shop.example.com", true},
		{"listed loopback origin", listed, "http://localhost:4200", "http://localhost:4200", true},
		{"listed origin, other port", listed, "https://shop.example.com:8443", "", false},
		{"listed origin, other scheme", listed, "http://shop.example.com", "", false},
		{"sibling subdomain", listed, "https://evil.example.com", "", false},
		{"suffix trick", listed, "https://shop.example.com.evil.test", "", false},
		{"unlisted loopback when a list is set", listed, "http://localhost:3001", "", false},
		{"null with a list", listed, "null", "", false},
		{"no origin", listed, "", "", false},

		{"default: localhost any port", nil, "http://localhost:4200", "http://localhost:4200", true},
		{"default: localhost no port", nil, "http://localhost", "http://localhost", true},
		{"default: https 127.0.0.1", nil, "https://127.0.0.1:8443", "https://127.0.0.1:8443", true},
		{"default: [::1]", nil, "http://[::1]:3000", "http://[::1]:3000", true},
		{"default: other host", nil, "https://shop.example.com", "", false},
		{"default: localhost lookalike", nil, "http://localhost.evil.test", "", false},
		{"default: user info", nil, "http://localhost@evil.test", "", false},
		{"default: other 127/8 address", nil, "http://127.0.0.2:4200", "", false},
		{"default: not http", nil, "ftp://localhost", "", false},
		{"default: null", nil, "null", "", false},

		{"star: listed origin keeps credentials", []string{"*", "https://shop.example.com"}, "https://shop.example.com", "https://shop.example.com", true},
		{"star: other origin reads without credentials", []string{"https://shop.example.com", "*"}, "https://other.example.net", "*", false},
		{"star: null reads without credentials", []string{"*"}, "null", "*", false},
		{"star alone: loopback is not credentialed", []string{"*"}, "http://localhost:4200", "*", false},

		{"config normalised: case and default port", []string{"HTTPS://Shop.Example.com:443"}, "https://shop.example.com", "https://shop.example.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				w, reached := corsDo(t, corsConfig(tc.origins), method, tc.origin, nil)
				require.True(t, reached, "a non-preflight request always reaches the API")
				require.Equal(t, "ok", w.Body.String())
				require.Equal(t, []string{"Origin, Cookie"}, w.Header().Values("Vary"), "the default TOKEN_METHOD has cookie")
				require.Equal(t, []string{"private, no-store"}, w.Header().Values("Cache-Control"))
				require.Equal(t, tc.wantACAO, w.Header().Get("Access-Control-Allow-Origin"))
				if tc.credentials {
					require.Equal(t, "true", w.Header().Get("Access-Control-Allow-Credentials"))
				} else {
					require.Empty(t, w.Header().Values("Access-Control-Allow-Credentials"))
				}
				if tc.wantACAO == "" {
					require.Empty(t, w.Header().Values("Access-Control-Expose-Headers"), "nothing is exposed to a refused origin")
				} else {
					require.Equal(t, []string{"vendure-auth-token, Retry-After, X-Request-Id"}, w.Header().Values("Access-Control-Expose-Headers"))
				}
				require.Empty(t, w.Header().Values("Access-Control-Allow-Headers"), "allow headers belong to preflights")
				require.Empty(t, w.Header().Values("Access-Control-Max-Age"))
			}
		})
	}
}

// Preflights are answered by the CORS layer: a fixed list of request
// headers (not the requested ones), ten minutes of max age, and no allow
// headers at all for a refused origin.
func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	wantHeaders := []string{
		"content-type", "authorization", "vendure-token", "vendure-auth-token",
		"apollo-require-preflight", "x-apollo-operation-name",
		"apollographql-client-name", "apollographql-client-version", "x-request-id",
	}
	cases := []struct {
		name     string
		origins  []string
		origin   string
		wantACAO string
	}{
		{"listed", []string{"https://shop.example.com"}, "https://shop.example.com", "https://shop.example.com"},
		{"loopback default", nil, "http://127.0.0.1:5173", "http://127.0.0.1:5173"},
		{"star", []string{"*"}, "https://other.example.net", "*"},
		{"unlisted", []string{"https://shop.example.com"}, "https://evil.example.com", ""},
		{"null", nil, "null", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, reached := corsDo(t, corsConfig(tc.origins), http.MethodOptions, tc.origin, preflightHeaders())
			require.False(t, reached, "the API never sees a preflight")
			require.Equal(t, http.StatusNoContent, w.Code)
			require.Equal(t, []string{"Origin"}, w.Header().Values("Vary"), "a preflight carries no cookie")
			require.Equal(t, []string{"private, no-store"}, w.Header().Values("Cache-Control"))
			require.Equal(t, tc.wantACAO, w.Header().Get("Access-Control-Allow-Origin"))
			require.Empty(t, w.Header().Values("Access-Control-Expose-Headers"))
			if tc.wantACAO == "" {
				for _, h := range []string{"Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
					require.Empty(t, w.Header().Values(h), h)
				}
				return
			}
			require.Equal(t, tc.wantACAO != "*", w.Header().Get("Access-Control-Allow-Credentials") == "true")
			require.Equal(t, "600", w.Header().Get("Access-Control-Max-Age"))
			require.Equal(t, "GET, POST, OPTIONS", w.Header().Get("Access-Control-Allow-Methods"))
			got := strings.Split(w.Header().Get("Access-Control-Allow-Headers"), ", ")
			require.Equal(t, wantHeaders, got)
			require.NotContains(t, got, "x-evil", "requested headers are not reflected")
		})
	}
}

// The header names follow CHANNEL_TOKEN_KEY and AUTH_TOKEN_HEADER_KEY, and
// the token header is exposed only when bearer tokens are on.
func TestCORSHeaderNamesFollowConfig(t *testing.T) {
	t.Parallel()
	cfg := corsConfig(nil, "bearer")
	cfg.ChannelTokenKey = "X-Channel"
	cfg.AuthTokenHeaderKey = "X-Auth-Token"
	w, _ := corsDo(t, cfg, http.MethodOptions, "http://localhost:3000", preflightHeaders())
	allow := strings.Split(w.Header().Get("Access-Control-Allow-Headers"), ", ")
	require.Contains(t, allow, "x-channel")
	require.Contains(t, allow, "x-auth-token")
	require.NotContains(t, allow, "vendure-token")

	w, _ = corsDo(t, cfg, http.MethodPost, "http://localhost:3000", nil)
	require.Equal(t, []string{"X-Auth-Token, Retry-After, X-Request-Id"}, w.Header().Values("Access-Control-Expose-Headers"))
	require.Equal(t, []string{"Origin"}, w.Header().Values("Vary"), "bearer only: the cookie decides nothing")

	w, _ = corsDo(t, corsConfig(nil, "cookie"), http.MethodPost, "http://localhost:3000", nil)
	require.Equal(t, []string{"Retry-After, X-Request-Id"}, w.Header().Values("Access-Control-Expose-Headers"), "cookie mode sends no token header")
	require.Equal(t, []string{"Origin, Cookie"}, w.Header().Values("Vary"))
}

// An OPTIONS request that is not a preflight (no Origin or no
// Access-Control-Request-Method) goes to the API.
func TestCORSPlainOptions(t *testing.T) {
	t.Parallel()
	_, reached := corsDo(t, corsConfig(nil), http.MethodOptions, "", map[string]string{"Access-Control-Request-Method": "POST"})
	require.True(t, reached)
	_, reached = corsDo(t, corsConfig(nil), http.MethodOptions, "http://localhost:3000", nil)
	require.True(t, reached)
}

func TestSameSite(t *testing.T) {
	t.Parallel()
	require.Equal(t, http.SameSiteLaxMode, sameSite("lax"))
	require.Equal(t, http.SameSiteStrictMode, sameSite("strict"))
	require.Equal(t, http.SameSiteNoneMode, sameSite("none"))
}

// Only the two APIs' answers are private: /health and the playground's
// assets (which set their own Cache-Control) vary on Origin alone.
func TestCORSCacheHeadersByPath(t *testing.T) {
	t.Parallel()
	h := cors(corsConfig(nil), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for path, want := range map[string][]string{
		ShopPath:                           {"private, no-store"},
		AdminPath:                          {"private, no-store"},
		"/health":                          nil,
		"/playground/assets/x/graphiql.js": nil,
	} {
		r := httptest.NewRequest(http.MethodGet, "http://api.example.com"+path, nil)
		r.Header.Set("Origin", "http://localhost:4200")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, want, w.Header().Values("Cache-Control"), path)
		if want == nil {
			require.Equal(t, []string{"Origin"}, w.Header().Values("Vary"), path)
		} else {
			require.Equal(t, []string{"Origin, Cookie"}, w.Header().Values("Vary"), path)
		}
	}
}

// The origins that may send the session cookie are CORS's credentialed
// ones: listed origins, or loopback ones without a list; "*" and "null"
// never.
func TestCredentialedOrigin(t *testing.T) {
	t.Parallel()
	listed := newCORSPolicy(corsConfig([]string{"https://shop.example.com", "*"}))
	for origin, want := range map[string]bool{
		"https://shop.example.com": true, "https://shop.example.com:8443": false, "http://shop.example.com": false,
		"https://evil.example.net": false, "http://localhost:4200": false, "null": false, "*": false, "": false,
	} {
		require.Equal(t, want, listed.credentialedOrigin(origin), origin)
	}
	loopback := newCORSPolicy(corsConfig(nil))
	for origin, want := range map[string]bool{
		"http://localhost:4200": true, "https://127.0.0.1": true, "http://[::1]:8080": true,
		"https://shop.example.com": false, "null": false,
	} {
		require.Equal(t, want, loopback.credentialedOrigin(origin), origin)
	}
}

// COOKIE_HOST_PREFIX and COOKIE_SECURE as the middleware gets them.
func TestCookieSettings(t *testing.T) {
	t.Parallel()
	c := WithDefaults(config.Defaults())
	require.Equal(t, "session", cookieName(c))
	c.CookieHostPrefix = true
	require.Equal(t, "__Host-session", cookieName(c))
	c.CookieName = "sid"
	require.Equal(t, "__Host-sid", cookieName(c))

	require.Equal(t, requestctx.SecureAuto, secureMode(config.Defaults().CookieSecure))
	require.Equal(t, requestctx.SecureAlways, secureMode(config.CookieSecureTrue))
	require.Equal(t, requestctx.SecureNever, secureMode(config.CookieSecureFalse))
}
