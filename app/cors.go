package app

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/requestctx"
)

// preflightMaxAge is how long a browser may cache a preflight answer, in
// seconds: ten minutes, so a narrowed CORS_ORIGINS or header list takes
// effect soon after a restart (the old value, 24 h, pinned a browser to a
// stale answer for a day where the browser allowed it).
const preflightMaxAge = "600"

// corsPolicy decides what a browser origin may do with this server's
// responses (CORS_ORIGINS):
//
//   - an origin listed exactly, or, when the list is empty, a loopback origin
//     (http or https on localhost, 127.0.0.1 or [::1], any port), is a
//     credentialed origin: its page may send the session cookie and read the
//     response (Access-Control-Allow-Origin: <origin> and
//     Access-Control-Allow-Credentials: true);
//   - with "*" in the list, every other origin, "null" included, may read
//     responses but never with credentials (Access-Control-Allow-Origin: *,
//     which browsers refuse for a request sent with credentials);
//   - any other origin gets no CORS header at all: its page can read nothing,
//     and its JSON POST never leaves the browser, since the preflight fails.
//     Answering it "without credentials" (its own origin, no
//     Allow-Credentials) would open the API to every page on the web for
//     bearer-token clients, which is what "*" is for; leaving it closed
//     keeps that an explicit choice, and a failed preflight also keeps a
//     cross-site JSON mutation from reaching a resolver with the user's
//     cookie.
//
// "null" (sandboxed frames, file: pages, some redirects) is never a
// credentialed origin: any such page would share it. Request headers are a
// fixed list rather than a reflection of Access-Control-Request-Headers, so
// a page cannot smuggle a header we do not expect, and the preflight answer
// does not vary with the request.
type corsPolicy struct {
	credentialed map[string]bool // normalised listed origins
	loopback     bool            // no list: loopback origins are credentialed
	public       bool            // "*" listed: other origins read without credentials

	allowHeaders  string
	exposeHeaders string // one comma-separated list
	// apiVary is the Vary of an API answer: Origin, and Cookie when the
	// session may come from a cookie (TOKEN_METHOD has cookie).
	apiVary string
}

func newCORSPolicy(cfg config.Config) *corsPolicy {
	p := &corsPolicy{
		credentialed: map[string]bool{},
		loopback:     len(cfg.CORSOrigins) == 0,
		allowHeaders: strings.Join([]string{
			"content-type", "authorization",
			strings.ToLower(cfg.ChannelTokenKey), strings.ToLower(cfg.AuthTokenHeaderKey),
			// Apollo Client's CSRF-prevention and client-awareness headers.
			"apollo-require-preflight", "x-apollo-operation-name",
			"apollographql-client-name", "apollographql-client-version",
			"x-request-id",
		}, ", "),
	}
	for _, o := range cfg.CORSOrigins {
		if o == "*" {
			p.public = true
			continue
		}
		p.credentialed[normalizeOrigin(o)] = true
	}
	// Browser code can read only the response headers it is told it may:
	// the token header, which matters only when tokens travel as bearer
	// tokens; Retry-After, which a throttled answer carries; the request id.
	var expose []string
	if cfg.UsesBearer() {
		expose = append(expose, cfg.AuthTokenHeaderKey)
	}
	p.exposeHeaders = strings.Join(append(expose, "Retry-After", "X-Request-Id"), ", ")
	p.apiVary = "Origin"
	if cfg.UsesCookie() {
		p.apiVary = "Origin, Cookie"
	}
	return p
}

// corsAnswer is what one origin is allowed.
type corsAnswer int

const (
	corsNone         corsAnswer = iota // no CORS header
	corsPublic                         // Access-Control-Allow-Origin: *
	corsCredentialed                   // the origin itself, with credentials
)

// credentialedOrigin reports whether a page on origin may send the session
// cookie and read the answer: a listed origin, or a loopback one when no
// list is set. "*" never makes an origin credentialed, nor is "null" ever
// one. The request-context middleware refuses a cookie-authenticated
// cross-origin request from any other origin.
func (p *corsPolicy) credentialedOrigin(origin string) bool {
	return p.decide(origin) == corsCredentialed
}

// decide says what a request's Origin header value is allowed.
func (p *corsPolicy) decide(origin string) corsAnswer {
	switch {
	case origin == "":
		return corsNone
	case origin != "null" && p.credentialed[origin]:
		return corsCredentialed
	case origin != "null" && p.loopback && isLoopbackOrigin(origin):
		return corsCredentialed
	case p.public:
		return corsPublic
	default:
		return corsNone
	}
}

// cors answers preflights, adds CORS headers per corsPolicy, and tells
// caches what an answer depends on:
//
//   - every answer varies on Origin (Vary: Origin), with or without one: a
//     shared cache must not serve one origin's answer to another;
//   - every answer of the two APIs (ShopPath, AdminPath) — data, errors and
//     refusals of any status alike, preflights included — is
//     "Cache-Control: private, no-store": it may depend on the session,
//     so no cache, shared or the browser's, keeps it; and, when the
//     session may come from a cookie, an API answer that is not a preflight
//     also varies on Cookie (Vary: Origin, Cookie);
//   - other paths (/health, the playground's immutable assets) set their
//     own Cache-Control.
//
// List-valued headers (Vary, Access-Control-Expose-Headers) are written as
// one line each.
func cors(cfg config.Config, next http.Handler) http.Handler {
	return newCORSPolicy(cfg).handler(next)
}

// handler is cors with the policy p.
func (p *corsPolicy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		answer := p.decide(origin)
		preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
		api := r.URL.Path == ShopPath || r.URL.Path == AdminPath
		// Assigned, not Set: the keys are canonical already.
		h["Vary"] = []string{"Origin"}
		if api {
			h["Cache-Control"] = []string{"private, no-store"}
			if !preflight {
				h["Vary"] = []string{p.apiVary}
			}
		}
		switch answer {
		case corsCredentialed:
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		case corsPublic:
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if preflight {
			// A preflight is answered here, never by the API: a refused
			// origin gets a bare 204 without allow headers, which the
			// browser reads as a refusal.
			if answer != corsNone {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", p.allowHeaders)
				h.Set("Access-Control-Max-Age", preflightMaxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if answer != corsNone {
			h.Set("Access-Control-Expose-Headers", p.exposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

// normalizeOrigin writes a configured origin as a browser serialises it:
// lower-case scheme and host, no default port. Browsers send Origin in that
// form, so a request's Origin is compared as it comes.
func normalizeOrigin(o string) string {
	u, err := url.Parse(o)
	if err != nil {
		return o
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if port := u.Port(); (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return scheme + "://" + host
}

// isLoopbackOrigin reports whether origin is http or https on localhost,
// 127.0.0.1 or [::1], with any port.
func isLoopbackOrigin(origin string) bool {
	if !config.IsOrigin(origin) {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// cookieName is the session cookie's name: COOKIE_NAME, after
// COOKIE_HOST_PREFIX's "__Host-" when that is on.
func cookieName(cfg config.Config) string {
	if cfg.CookieHostPrefix {
		return config.HostCookiePrefix + cfg.CookieName
	}
	return cfg.CookieName
}

// secureMode maps COOKIE_SECURE ("auto", "true", "false") to the
// middleware's; config.Validate has refused anything else.
func secureMode(mode string) requestctx.SecureMode {
	switch mode {
	case config.CookieSecureTrue:
		return requestctx.SecureAlways
	case config.CookieSecureFalse:
		return requestctx.SecureNever
	default:
		return requestctx.SecureAuto
	}
}

// sameSite maps COOKIE_SAMESITE ("lax", "strict", "none") to the cookie
// attribute; config.Validate has refused anything else.
func sameSite(mode string) http.SameSite {
	switch mode {
	case "strict":
		return http.SameSiteStrictMode
	case "none":
		return http.SameSiteNoneMode
	default:
		return http.SameSiteLaxMode
	}
}
