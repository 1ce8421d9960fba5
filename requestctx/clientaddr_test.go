package requestctx_test

import (
	"context"
	"net/http"
	"net/netip"
	"testing"

	"github.com/shopsession/sessionserver/service/clientinfo"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/requestctx"
)

// TestClientAddress is the spoofing attack on the client address that the
// throttling rules key on: X-Forwarded-For counts only when the peer is a
// trusted proxy, and then only up to the first hop that is not one.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48"), netip.MustParsePrefix("192.0.2.10/32")}
	for _, tc := range []struct {
		name    string
		trusted bool
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies configured: the header is ignored", false, "203.0.113.7:4711", []string{"198.51.100.1"}, "203.0.113.7"},
		{"an untrusted peer spoofs the header", true, "203.0.113.7:4711", []string{"198.51.100.1, 10.0.0.1"}, "203.0.113.7"},
		{"an untrusted IPv6 peer", true, "[2001:db8::1]:443", []string{"198.51.100.1"}, "2001:db8::1"},
		{"a trusted proxy names the client", true, "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a single trusted address", true, "192.0.2.10:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the client's own forgery stays at the left", true, "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are skipped", true, "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.1, 10.9.9.9, 10.8.8.8"}, "198.51.100.1"},
		{"several header lines read as one list", true, "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"a forged trusted hop at the left is never reached", true, "10.1.2.3:80", []string{"10.0.0.99, 198.51.100.1"}, "198.51.100.1"},
		{"every hop trusted: the leftmost", true, "10.1.2.3:80", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"a trusted proxy without the header", true, "10.1.2.3:80", nil, "10.1.2.3"},
		{"garbage stops at the trusted hop that sent it", true, "10.1.2.3:80", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"hops with ports", true, "10.1.2.3:80", []string{"[2001:db8::5]:1234, 198.51.100.1:999"}, "198.51.100.1"},
		{"IPv6 proxy, IPv4-mapped client", true, "[2001:db8:ffff::1]:80", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"an IPv4-mapped peer is IPv4", false, "[::ffff:203.0.113.7]:80", nil, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(func(c *requestctx.Config) {
				if tc.trusted {
					c.TrustedProxies = trusted
				}
			})
			req := request(nil)
			req.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			var inCtx string
			b.serve(req, func(ctx context.Context, _ *requestctx.RequestContext) { inCtx = clientinfo.From(ctx).Address })
			require.Equal(t, tc.want, b.seen.ClientAddress())
			require.Equal(t, tc.want, inCtx, "the services see the same address")
		})
	}
}

// TestRetryAfterHeader: a field that asks for Retry-After gets it on the
// response, before the body, whatever the status.
func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	b := newBundle(nil)
	rec := b.serve(request(nil), func(_ context.Context, rc *requestctx.RequestContext) {
		rc.SetRetryAfter(30)
		rc.SetRetryAfter(7)
	})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "30", rec.Header().Get("Retry-After"), "the longest wait wins")
	rec = b.serve(request(nil), nil)
	require.Empty(t, rec.Header().Values("Retry-After"))
}
