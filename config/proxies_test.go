package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := ParseTrustedProxies([]string{"10.1.2.3/8", " 192.0.2.1 ", "::ffff:192.0.2.2", "2001:db8::/32"})
	require.NoError(t, err)
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.1/32", "192.0.2.2/32", "2001:db8::/32"}, s)
	_, err = ParseTrustedProxies([]string{"10.0.0.0/8", "proxy", "fe80::1%eth0", "1.2.3.4/40"})
	require.EqualError(t, err, `not a CIDR or an IP address: "proxy", "fe80::1%eth0", "1.2.3.4/40"`)
}
