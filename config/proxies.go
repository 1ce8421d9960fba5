package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads TRUSTED_PROXIES' entries (Config.TrustedProxies):
// CIDRs ("10.0.0.0/8", "2001:db8::/32"), or single addresses, which stand
// for themselves (/32 or /128). Every bad entry is reported. Validate
// checks the entries with it; the server builds the request middleware's
// list with it.
func ParseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	var (
		out []netip.Prefix
		bad []string
	)
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, fmt.Sprintf("%q", e))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("not a CIDR or an IP address: %s", strings.Join(bad, ", "))
	}
	return out, nil
}
