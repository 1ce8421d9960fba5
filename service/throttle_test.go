package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/service/clientinfo"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/throttle"
)

func newTestThrottle(t testing.TB, clock *testenv.Clock) *ratelimit.Throttle {
	t.Helper()
	th, err := ratelimit.New(ratelimit.Config{
		Limiter: throttle.NewMemory(throttle.MemoryOptions{NowFunc: clock.Now}),
		Limits:  ratelimit.DefaultLimits(),
	})
	require.NoError(t, err)
	return th
}

// TestThrottleIPv6Block: an IPv6 client that rotates through the addresses
// of its /64 is one client; the next /64 is another.
func TestThrottleIPv6Block(t *testing.T) {
	t.Parallel()
	th := newTestThrottle(t, testenv.NewClock())
	at := func(addr string) context.Context {
		return clientinfo.With(context.Background(), clientinfo.Info{Address: addr})
	}
	for i := range 10 {
		ctx := at(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		require.NoError(t, th.CheckLogin(ctx, auth.ShopAPI, "victim@example.com"))
		th.LoginDone(ctx, auth.ShopAPI, "victim@example.com", &outcome.InvalidCredentialsError{})
	}
	err := th.CheckLogin(at("2001:db8:1:2:ffff:ffff:ffff:ffff"), auth.ShopAPI, "victim@example.com")
	var tooMany *outcome.TooManyRequestsError
	require.ErrorAs(t, err, &tooMany)
	require.Equal(t, time.Minute, tooMany.RetryAfter)
	require.NoError(t, th.CheckLogin(at("2001:db8:1:3::a"), auth.ShopAPI, "victim@example.com"))
	require.NoError(t, th.CheckLogin(at("2001:db8:1:2::a"), auth.AdminAPI, "victim@example.com"), "the Admin API's identifiers are apart")
}

// TestThrottleCountsOnlyWrongPasswords: a correct password of an
// unverified account and a fault count nothing; a nil Throttle allows
// everything.
func TestThrottleCountsOnlyWrongPasswords(t *testing.T) {
	t.Parallel()
	th := newTestThrottle(t, testenv.NewClock())
	ctx := clientinfo.With(context.Background(), clientinfo.Info{Address: "203.0.113.1"})
	for range 20 {
		th.LoginDone(ctx, auth.ShopAPI, "u@example.com", &outcome.NotVerifiedError{})
		th.LoginDone(ctx, auth.ShopAPI, "u@example.com", context.DeadlineExceeded)
	}
	require.NoError(t, th.CheckLogin(ctx, auth.ShopAPI, "u@example.com"))

	var none *ratelimit.Throttle
	require.NoError(t, none.CheckLogin(ctx, auth.ShopAPI, "u@example.com"))
	require.True(t, none.TakeMail(ctx, "u@example.com"))
}

func TestTooManyRequestsError(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                       "Too many attempts; try again in 1 second",
		time.Millisecond:        "Too many attempts; try again in 1 second",
		time.Second:             "Too many attempts; try again in 1 second",
		time.Second + 1:         "Too many attempts; try again in 2 seconds",
		15 * time.Minute:        "Too many attempts; try again in 900 seconds",
		59*time.Second + 999999: "Too many attempts; try again in 60 seconds",
	} {
		require.Equal(t, want, (&outcome.TooManyRequestsError{RetryAfter: d}).Error(), d)
	}
}
