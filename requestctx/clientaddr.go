package requestctx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddressOf is the address of the client that sent r.
//
// Without trusted proxies it is the connection's peer (RemoteAddr without
// its port). When the peer is a trusted proxy, X-Forwarded-For is read
// from right to left (each proxy appends the address it received the
// request from), skipping trusted proxies: the first address that is not
// one is the client. A client can put anything at the left of the header,
// but not at its right, which its own proxy writes; so a forged entry is
// never reached unless every proxy between it and us is trusted. When
// every entry is trusted, the leftmost is taken; an entry that is not an
// address stops the walk at the trusted hop that sent it.
func clientAddressOf(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddress(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(addr, trusted) {
		return peer
	}
	client := addr
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, ok := parseHop(hops[j])
			if !ok {
				return client.String()
			}
			client = hop
			if !isTrusted(hop, trusted) {
				return client.String()
			}
		}
	}
	return client.String()
}

// peerAddress strips the port from a RemoteAddr ("203.0.113.7:51234",
// "[2001:db8::1]:443"); a value without a port is kept as is. An
// IPv4-mapped IPv6 address is written as IPv4.
func peerAddress(remoteAddr string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("203.0.113.7:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
