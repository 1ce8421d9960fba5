package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// throttleOverridden is what EveryVariableOverridden's THROTTLE_* give:
// the rates set, "off" as the zero Rate, the others nil (their defaults).
var throttleOverridden = ThrottleConfig{
	Enabled: false,
	Limits: ThrottleLimits{
		LoginFailures:        &Rate{Limit: 5, Window: 30 * time.Second},
		MailsPerEmailAddress: &Rate{},
		Registrations:        &Rate{Limit: 2, Window: time.Hour},
	},
	MemoryKeys: 1000,
}

// The throttle is on; its rates, key bound and Redis timeout are left to
// the packages that apply them (app's TestWithDefaults checks those).
func TestThrottleDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, ThrottleConfig{Enabled: true}, Defaults().Throttle)
	require.Empty(t, Defaults().TrustedProxies)
}

func TestThrottleMistakes(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"THROTTLE":                "sometimes",
		"THROTTLE_LOGIN_FAILURES": "10",
		"THROTTLE_MAIL_REQUESTS":  "0/1m",
		"THROTTLE_REGISTRATIONS":  "5/0s",
		"THROTTLE_MEMORY_KEYS":    "0",
		"TRUSTED_PROXIES":         "10.0.0.0/8, proxy.internal, 10.0.0.1/33",
	}))
	msgs := problems(t, err)
	require.Len(t, msgs, 6, msgs)
	require.Contains(t, msgs[0], "THROTTLE: ")
	require.Contains(t, msgs[1], `THROTTLE_LOGIN_FAILURES: "10" is not a rate (use LIMIT/WINDOW`)
	require.Contains(t, msgs[2], "THROTTLE_MAIL_REQUESTS: ")
	require.Contains(t, msgs[3], "THROTTLE_REGISTRATIONS: ")
	require.Contains(t, msgs[4], "THROTTLE_MEMORY_KEYS: 0 is too small")
	require.Contains(t, msgs[5], `TRUSTED_PROXIES: not a CIDR or an IP address: "proxy.internal", "10.0.0.1/33"`)
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Rate{
		"10/1m": {Limit: 10, Window: time.Minute}, " 3 / 1h ": {Limit: 3, Window: time.Hour},
		"5/90": {Limit: 5, Window: 90 * time.Second}, "OFF": {},
	} {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "10", "/1m", "x/1m", "-1/1m", "10/", "10/-1m", "10/soon"} {
		_, err := ParseRate(in)
		require.Error(t, err, in)
	}
}
