package session_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/session"
)

// User-Agent headers of real browsers and a crawler, as a session stores
// them, and what activeSessions shows of them.
const (
	firefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	safariIPad    = "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
	chromeAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	edgeMac       = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	googlebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

func TestParseUserAgent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, header string
		want         session.Client
	}{
		{"firefox on linux", firefoxLinux, session.Client{Browser: "Firefox", OperatingSystem: "Linux", DeviceType: session.DeviceDesktop}},
		{"chrome on windows", chromeWindows, session.Client{Browser: "Chrome", OperatingSystem: "Windows", DeviceType: session.DeviceDesktop}},
		{"safari on an iphone", safariIPhone, session.Client{Browser: "Safari", OperatingSystem: "iOS", DeviceType: session.DeviceMobile}},
		{"safari on an ipad", safariIPad, session.Client{Browser: "Safari", OperatingSystem: "iOS", DeviceType: session.DeviceTablet}},
		{"chrome on android", chromeAndroid, session.Client{Browser: "Chrome", OperatingSystem: "Android", DeviceType: session.DeviceMobile}},
		{"edge on a mac", edgeMac, session.Client{Browser: "Edge", OperatingSystem: "MacOS", DeviceType: session.DeviceDesktop}},
		{"a crawler", googlebot, session.Client{DeviceType: session.DeviceBot}},
		{"none", "", session.Client{DeviceType: session.DeviceUnknown}},
		// The parser counts a command-line client among the bots.
		{"a script", "curl/8.5.0", session.Client{DeviceType: session.DeviceBot}},
		{"unknown words", "Something Else Entirely", session.Client{DeviceType: session.DeviceUnknown}},
		{"garbage", "\x00\xff((((;;;//", session.Client{DeviceType: session.DeviceUnknown}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, session.ParseUserAgent(c.header))
		})
	}
}

// Whatever a client sends as its User-Agent (at most clientinfo's bound, as
// stored) is described without a panic, as a known device type.
func FuzzParseUserAgent(f *testing.F) {
	for _, s := range []string{firefoxLinux, safariIPhone, googlebot, "", "(((((", strings.Repeat("Chrome/", 80), strings.Repeat("9.", 300)} {
		f.Add(s)
	}
	known := map[session.DeviceType]bool{
		session.DeviceDesktop: true, session.DeviceMobile: true, session.DeviceTablet: true,
		session.DeviceTV: true, session.DeviceBot: true, session.DeviceUnknown: true,
	}
	f.Fuzz(func(t *testing.T, header string) {
		if len(header) > clientinfo.MaxUserAgent {
			header = header[:clientinfo.MaxUserAgent]
		}
		require.True(t, known[session.ParseUserAgent(header).DeviceType])
	})
}

// The cost of describing one listed session (the parser is built before
// the timer starts).
func BenchmarkParseUserAgent(b *testing.B) {
	session.ParseUserAgent(chromeWindows)
	for b.Loop() {
		session.ParseUserAgent(safariIPhone)
	}
}
