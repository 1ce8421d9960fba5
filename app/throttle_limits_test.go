package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/throttle"
)

// THROTTLE_*'s rates reach the service rule for rule: a rate set, a rule
// turned off, and the defaults of the others.
func TestServiceLimits(t *testing.T) {
	t.Parallel()

	require.Equal(t, ratelimit.DefaultLimits(), serviceLimits(config.ThrottleLimits{}))
	require.Equal(t, ratelimit.DefaultLimits(), serviceLimits(WithDefaults(config.Defaults()).Throttle.Limits))

	want := ratelimit.DefaultLimits()
	want.TokenFailures = throttle.Rate{Limit: 3, Window: time.Hour}
	want.CheckoutPerAddress = throttle.Rate{}
	require.Equal(t, want, serviceLimits(config.ThrottleLimits{
		TokenFailures:      &config.Rate{Limit: 3, Window: time.Hour},
		CheckoutPerAddress: &config.Rate{},
	}))

	// Each variable reaches its own rule.
	r := func(n int) *config.Rate { return &config.Rate{Limit: n, Window: time.Second} }
	s := func(n int) throttle.Rate { return throttle.Rate{Limit: n, Window: time.Second} }
	require.Equal(t, ratelimit.Limits{
		LoginFailures: s(1), LoginFailuresPerIdentifier: s(2), LoginFailuresPerAddress: s(3),
		TokenFailures: s(4), MailRequests: s(5), MailsPerEmailAddress: s(6), Registrations: s(7),
		CheckoutPerSession: s(8), CheckoutPerEmailAddress: s(9), CheckoutPerAddress: s(10),
	}, serviceLimits(config.ThrottleLimits{
		LoginFailures: r(1), LoginFailuresPerIdentifier: r(2), LoginFailuresPerAddress: r(3),
		TokenFailures: r(4), MailRequests: r(5), MailsPerEmailAddress: r(6), Registrations: r(7),
		CheckoutPerSession: r(8), CheckoutPerEmailAddress: r(9), CheckoutPerAddress: r(10),
	}))
}
