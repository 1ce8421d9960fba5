package requestctx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// SecureMode says when the session cookie carries the Secure attribute
// (COOKIE_SECURE).
type SecureMode int

const (
	// SecureAuto makes the cookie Secure on every answer except one to a
	// plain-HTTP request to a loopback host (plainLoopback), so that a
	// server run on a laptop works over http://localhost while every other
	// deployment gets Secure cookies without a setting. A cookie that
	// browsers accept only when Secure (SameSite=None, Partitioned, a
	// __Host- or __Secure- name) is Secure on every answer.
	SecureAuto SecureMode = iota
	// SecureAlways makes the cookie Secure on every answer.
	SecureAlways
	// SecureNever never makes it Secure.
	SecureNever
)

// secureCookie reports whether the session cookie in the answer to r is
// Secure.
func (c *Config) secureCookie(r *http.Request) bool {
	switch c.CookieSecure {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	if c.CookieSameSite == http.SameSiteNoneMode || c.CookiePartitioned || hasSecurePrefix(c.CookieName) {
		return true
	}
	return !plainLoopback(r)
}

// hasSecurePrefix reports whether a cookie name begins with a prefix that
// browsers accept only on a Secure cookie, in any case, as browsers compare
// them.
func hasSecurePrefix(name string) bool {
	for _, p := range []string{"__Host-", "__Secure-"} {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// plainLoopback reports whether r reached the server over plain HTTP and
// names a loopback host: it did not arrive over TLS, no X-Forwarded-Proto
// entry says https, its Host is a loopback host (isLoopbackHost), and so is
// every X-Forwarded-Host entry.
//
// The forwarded headers are read from any peer, trusted proxy
// (TRUSTED_PROXIES) or not, because they can only make the cookie
// stricter: a client that forges them gets a Secure cookie for itself, and
// no header makes a request to a public host plain. So a TLS-terminating
// proxy that sends X-Forwarded-Proto: https, or one that keeps the
// browser's Host (or sends it in X-Forwarded-Host), gets Secure cookies
// without being listed. A proxy that rewrites Host to a loopback address
// and sends neither header is indistinguishable from a browser on the
// laptop: set COOKIE_SECURE=true behind it.
func plainLoopback(r *http.Request) bool {
	if r.TLS != nil || !isLoopbackHost(r.Host) {
		return false
	}
	for _, v := range r.Header.Values("X-Forwarded-Proto") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "https") {
				return false
			}
		}
	}
	for _, v := range r.Header.Values("X-Forwarded-Host") {
		for h := range strings.SplitSeq(v, ",") {
			if !isLoopbackHost(strings.TrimSpace(h)) {
				return false
			}
		}
	}
	return true
}

// isLoopbackHost reports whether a Host value (with or without a port)
// names this machine: localhost or a name under .localhost (which browsers
// resolve to loopback themselves), or a loopback address (127.0.0.0/8,
// ::1, an IPv4-mapped 127.x).
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}
