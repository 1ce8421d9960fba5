package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/throttle"
)

// throttleOverridden is what EveryVariableOverridden's THROTTLE_* give.
var throttleOverridden = func() ThrottleConfig {
	t := DefaultThrottle()
	t.Enabled = false
	t.Limits.LoginFailures = throttle.Rate{Limit: 5, Window: 30 * time.Second}
	t.Limits.MailsPerEmailAddress = throttle.Rate{}
	t.Limits.Registrations = throttle.Rate{Limit: 2, Window: time.Hour}
	t.MemoryKeys = 1000
	return t
}()

func TestThrottleDefaults(t *testing.T) {
	t.Parallel()
	minute := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	require.Equal(t, ThrottleConfig{
		Enabled: true,
		Limits: ratelimit.Limits{
			LoginFailures:              throttle.Rate{Limit: 10, Window: minute(1)},
			LoginFailuresPerIdentifier: throttle.Rate{Limit: 100, Window: minute(15)},
			LoginFailuresPerAddress:    throttle.Rate{Limit: 50, Window: minute(15)},
			TokenFailures:              throttle.Rate{Limit: 10, Window: minute(15)},
			MailRequests:               throttle.Rate{Limit: 20, Window: minute(15)},
			MailsPerEmailAddress:       throttle.Rate{Limit: 3, Window: minute(60)},
			Registrations:              throttle.Rate{Limit: 10, Window: minute(60)},
			CheckoutPerSession:         throttle.Rate{Limit: 20, Window: minute(15)},
			CheckoutPerEmailAddress:    throttle.Rate{Limit: 20, Window: minute(15)},
			CheckoutPerAddress:         throttle.Rate{Limit: 60, Window: minute(15)},
		},
		MemoryKeys:   100000,
		RedisTimeout: 100 * time.Millisecond,
	}, Defaults().Throttle)
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
	for in, want := range map[string]throttle.Rate{
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
