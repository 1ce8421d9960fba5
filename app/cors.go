package app

import (
	"net/http"
	"strings"

	"github.com/shopsession/sessionserver/config"
)

// cors applies Vendure's default CORS policy ({origin: true, credentials:
// true}): the request's origin is reflected and credentials are allowed.
// When bearer tokens are on, the token header is exposed so browser code can
// read it (Vendure issue #137).
func cors(cfg config.Config, next http.Handler) http.Handler {
	allowHeaders := strings.Join([]string{"Content-Type", "Authorization", cfg.ChannelTokenKey, "Apollo-Require-Preflight"}, ", ")
	expose := ""
	if cfg.UsesBearer() {
		expose = cfg.AuthTokenHeaderKey
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The answer depends on Origin, with or without one: a shared cache
		// must not serve a response without CORS headers to a browser.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if expose != "" {
			h.Set("Access-Control-Expose-Headers", expose)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			} else {
				h.Set("Access-Control-Allow-Headers", allowHeaders)
			}
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
