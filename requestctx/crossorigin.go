package requestctx

import (
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/gqlerr"
)

// crossOriginRefusal is the answer to a cookie-authenticated request that a
// page on a foreign origin sent (refuseCrossOrigin): FORBIDDEN, with HTTP
// status 403 rather than Vendure's 200, since no GraphQL ran.
func crossOriginRefusal() *gqlerror.Error {
	return gqlerr.New(gqlerr.CodeForbidden, gqlerr.MsgCrossOrigin)
}

// refuseCrossOrigin reports whether r must be refused before anything else
// is done for it (no channel or session lookup, no session created, no
// resolver): a request that carries the session cookie (withCookie: a
// non-empty one, read as TOKEN_METHOD says), may change state,
// and was sent by a browser page that is neither on the API's own origin
// nor on an origin Config.OriginAllowed accepts. It returns the Origin
// header for the log.
//
// Which requests may change state: every one but GET, HEAD and OPTIONS.
// A GET runs queries only (the GET transport refuses a mutation) and
// creates no session (RequestContext.EnsureSession); every POST counts,
// whatever operation its document holds or names, so the check needs no
// parse and a document cannot slip a mutation past it under a query's
// name. A query refused this way loses nothing: a page that CORS does not
// let read a credentialed answer could not have read it.
//
// Which pages are foreign: the browser says so, through
// http.CrossOriginProtection, the standard library's check. A request whose
// Sec-Fetch-Site is same-origin (the Playground on the API's own origin,
// whatever proxies rewrite Host on the way) or none (typed by the user)
// passes; without Sec-Fetch-Site (browsers before 2023), an Origin whose
// host equals the request's Host passes. A request with neither header
// (curl, a server-side storefront, a mobile app) passes: only a browser
// holds a victim's cookie and sends it on a page's behalf. Any other
// request passes only when its Origin is accepted by OriginAllowed.
//
// Only the cookie is guarded. A bearer token or vendure-auth-token header
// is attached by the page's own code, which a foreign page cannot do with a
// victim's token, so such requests are never refused here. With both a
// cookie and a bearer header the cookie wins (build), so the request
// counts as cookie-authenticated.
func refuseCrossOrigin(r *http.Request, cfg *Config, withCookie bool) (origin string, refuse bool) {
	if !withCookie {
		return "", false
	}
	if cfg.crossOrigin.Check(r) == nil {
		return "", false
	}
	origin = r.Header.Get("Origin")
	if origin != "" && cfg.OriginAllowed != nil && cfg.OriginAllowed(origin) {
		return origin, false
	}
	return origin, true
}
