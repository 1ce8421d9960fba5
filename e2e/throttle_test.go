package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// The throttling attacks, with the default limits (ratelimit.DefaultLimits):
// 10 failed logins a minute per identifier and client address, 100 per
// identifier, 3 mails an hour per e-mail address, 10 unknown tokens per
// client address, 20 mail requests per client address. Time moves on the
// injected clock, which the Redis limiter uses too.

// withTrustedProxies trusts the test's loopback peer, so that each client
// names its address in X-Forwarded-For.
func withTrustedProxies() envOption {
	return func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1", "::1"} }
}

// throttled is the configuration of these tests: the defaults, with a
// Redis deadline long enough that a loaded machine never sends a count to
// the in-memory fallback (which would make the counts depend on load).
func throttled(opts ...envOption) []envOption {
	return append(opts, func(c *config.Config) { c.Throttle.RedisTimeout = 10 * time.Second })
}

func withThrottle(on bool) envOption {
	return func(c *config.Config) { c.Throttle.Enabled = on }
}

// from makes c send its requests as coming from addr, through a proxy.
func from(c *testenv.Client, addr string) *testenv.Client {
	c.Header = map[string]string{"X-Forwarded-For": addr}
	return c
}

// requireThrottled checks a TOO_MANY_REQUESTS answer: a GraphQL error with
// retryAfter, its Retry-After header and status 200; it returns the wait.
func requireThrottled(t *testing.T, r *testenv.Response) int {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, r.Errors, 1, "%s", r.Data)
	e := r.Errors[0]
	require.Equal(t, "TOO_MANY_REQUESTS", e.Code(), e.Message)
	secs, ok := e.Extensions["retryAfter"].(float64)
	require.True(t, ok, "retryAfter: %v", e.Extensions)
	require.GreaterOrEqual(t, secs, 1.0)
	require.Equal(t, fmt.Sprint(int(secs)), r.Header.Get("Retry-After"))
	want := fmt.Sprintf("Too many attempts; try again in %d seconds", int(secs))
	if secs == 1 {
		want = "Too many attempts; try again in 1 second"
	}
	require.Equal(t, want, e.Message)
	return int(secs)
}

func loginAs(c *testenv.Client, username, pw string) *testenv.Response {
	return c.Do(loginMutation, creds(username, pw))
}

func requireLoginOutcome(t *testing.T, r *testenv.Response, typename string) {
	t.Helper()
	require.Empty(t, r.Errors)
	require.Empty(t, r.Header.Values("Retry-After"))
	require.Equal(t, typename, decodeLogin(t, r).Login.Typename)
}

// TestThrottleLoginGuessing: 30 wrong passwords for one account from one
// address. From the 11th on, TOO_MANY_REQUESTS, the right password
// included; the owner, from an address that has not failed, logs in all
// along; after the window the right password works from the attacker's
// address too. 100 failures from many addresses reach the per-identifier
// ceiling, which then stops the owner as well, until it slides.
func TestThrottleLoginGuessing(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled(withTrustedProxies())...)
		const victim = "victim@example.com"
		newCustomer(t, e, victim)
		attacker := from(e.shop(testenv.Bearer), "198.51.100.7")
		owner := from(e.shop(testenv.Bearer), "203.0.113.50")

		for i := 1; i <= 30; i++ {
			r := loginAs(attacker, victim, fmt.Sprint("guess-", i))
			if i <= 10 {
				requireLoginOutcome(t, r, "InvalidCredentialsError")
				continue
			}
			wait := requireThrottled(t, r)
			require.LessOrEqual(t, wait, 60)
			if i == 20 {
				requireThrottled(t, loginAs(attacker, victim, "test"))
				requireLoginOutcome(t, loginAs(owner, victim, "test"), "CurrentUser")
				// Another spelling of the identifier is the same identifier.
				requireThrottled(t, loginAs(attacker, " VICTIM@example.com ", "guess"))
			}
			e.clock.Advance(time.Second)
		}
		// The ten failures were at 0 s, the refusals from 0 s to 19 s:
		// the clock is at 20 s.
		require.Equal(t, 40, requireThrottled(t, loginAs(attacker, victim, "test")))
		e.clock.Advance(40 * time.Second)
		requireLoginOutcome(t, loginAs(attacker, victim, "test"), "CurrentUser")

		// The per-identifier ceiling: 100 failures within 15 minutes,
		// 10 from each of 10 addresses (with the 10 above: 110 counted
		// failures, of which the window still holds all).
		for a := range 9 {
			c := from(e.shop(testenv.Bearer), fmt.Sprintf("198.51.100.%d", 100+a))
			for range 10 {
				requireLoginOutcome(t, loginAs(c, victim, "guess"), "InvalidCredentialsError")
			}
		}
		requireThrottled(t, loginAs(owner, victim, "test"))
		requireThrottled(t, loginAs(from(e.shop(testenv.Bearer), "192.0.2.1"), victim, "test"))
		requireLoginOutcome(t, loginAs(owner, "someone-else@example.com", "x"), "InvalidCredentialsError")
		e.clock.Advance(15 * time.Minute)
		requireLoginOutcome(t, loginAs(owner, victim, "test"), "CurrentUser")
	})
}

// TestThrottleAdminLogin: the Admin API's login is throttled the same way;
// an administrator's identifier and a customer's are counted apart.
func TestThrottleAdminLogin(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled()...)
		admin := e.admin(testenv.Bearer)
		for range 10 {
			requireLoginOutcome(t, loginAs(admin, "superadmin", "wrong"), "InvalidCredentialsError")
		}
		requireThrottled(t, loginAs(admin, "superadmin", "superadmin"))
		r := admin.Do(authenticateMutation, map[string]any{"input": map[string]any{"native": creds("superadmin", "superadmin")}})
		requireThrottled(t, r)
		// The Shop API's "superadmin" is another identifier (no customer has it).
		requireLoginOutcome(t, loginAs(e.shop(testenv.Bearer), "superadmin", "x"), "InvalidCredentialsError")

		e.clock.Advance(time.Minute)
		requireLoginOutcome(t, loginAs(admin, "superadmin", "superadmin"), "CurrentUser")
		// A success forgets this address's failures: 10 more before a refusal.
		for range 10 {
			requireLoginOutcome(t, loginAs(admin, "superadmin", "wrong"), "InvalidCredentialsError")
		}
		requireThrottled(t, loginAs(admin, "superadmin", "wrong"))
	})
}

// TestThrottleSpoofedForwardedFor: without TRUSTED_PROXIES, a client that
// sends a new X-Forwarded-For with each guess is still one address (the
// connection's) and is throttled at the 11th; with the proxy trusted, the
// header is honoured and names distinct clients.
func TestThrottleSpoofedForwardedFor(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		t.Run("Untrusted", func(t *testing.T) {
			e := newEnv(t, b, throttled()...)
			newCustomer(t, e, "victim@example.com")
			c := e.shop(testenv.Bearer)
			for i := 1; i <= 11; i++ {
				r := loginAs(from(c, fmt.Sprintf("10.0.%d.%d", i, i)), "victim@example.com", "guess")
				if i <= 10 {
					requireLoginOutcome(t, r, "InvalidCredentialsError")
				} else {
					requireThrottled(t, r)
				}
			}
		})
		t.Run("Trusted", func(t *testing.T) {
			e := newEnv(t, b, throttled(withTrustedProxies())...)
			newCustomer(t, e, "victim@example.com")
			c := e.shop(testenv.Bearer)
			for i := 1; i <= 30; i++ {
				requireLoginOutcome(t, loginAs(from(c, fmt.Sprintf("10.0.%d.%d", i, i)), "victim@example.com", "guess"), "InvalidCredentialsError")
			}
			// A client's own forged entry at the left changes nothing.
			for range 10 {
				loginAs(from(c, "6.6.6.6, 198.51.100.1"), "victim@example.com", "guess")
			}
			requireThrottled(t, loginAs(from(c, "7.7.7.7, 198.51.100.1"), "victim@example.com", "guess"))
		})
	})
}

// TestThrottleResetMails: 20 requestPasswordReset for one address send 3
// mails, and every one of them is answered Success, as for an unknown
// address; the token of the last mail sent still works (the requests
// beyond the cap issued none); an hour later a request sends a mail again.
// The 21st request from one client address is refused.
func TestThrottleResetMails(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled()...)
		const victim = "victim@example.com"
		newCustomer(t, e, victim)
		shop := e.shop(testenv.Bearer)
		for range 20 {
			require.True(t, do(t, shop, requestResetMutation, map[string]any{"emailAddress": victim}).Success)
		}
		require.Equal(t, 3, e.tokens.count())
		requireThrottled(t, shop.Do(requestResetMutation, map[string]any{"emailAddress": "nobody@example.com"}))

		token := e.tokens.last(t, entity.TokenPasswordReset, victim)
		res := do(t, e.shop(testenv.Bearer), resetMutation, map[string]any{"token": token, "password": "new-pw"})
		require.Equal(t, "CurrentUser", res.Typename, "%+v", res)

		e.clock.Advance(time.Hour)
		require.True(t, do(t, shop, requestResetMutation, map[string]any{"emailAddress": victim}).Success)
		require.Equal(t, 4, e.tokens.count())
	})
}

// TestThrottleVerificationMails: a registration's mail and 50
// refreshCustomerVerification, from many addresses, send 3 mails in all,
// each request answered Success; from one address the 21st request is
// refused.
func TestThrottleVerificationMails(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled(withTrustedProxies())...)
		const email = "new@example.com"
		require.True(t, do(t, e.shop(testenv.Bearer), registerMutation, register(email, "pw-1234")).Success)
		for i := range 50 {
			c := from(e.shop(testenv.Bearer), fmt.Sprintf("198.51.100.%d", i))
			require.True(t, do(t, c, refreshVerificationMutation, map[string]any{"emailAddress": email}).Success)
		}
		require.Equal(t, 3, e.tokens.count())

		one := from(e.shop(testenv.Bearer), "203.0.113.9")
		for range 20 {
			require.True(t, do(t, one, refreshVerificationMutation, map[string]any{"emailAddress": "other@example.com"}).Success)
		}
		requireThrottled(t, one.Do(refreshVerificationMutation, map[string]any{"emailAddress": "other@example.com"}))
		require.Equal(t, 3, e.tokens.count())
	})
}

// TestThrottleTokenGuessing: random verification and reset tokens from one
// address are refused after 10, the two flows counted together; even a
// valid token is then refused from that address (nothing is looked up),
// while another address uses it.
func TestThrottleTokenGuessing(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled(withTrustedProxies())...)
		require.True(t, do(t, e.shop(testenv.Bearer), registerMutation, register("new@example.com", "pw-1234")).Success)
		attacker := from(e.shop(testenv.Bearer), "198.51.100.7")
		random := func() string {
			var b [32]byte
			_, _ = rand.Read(b[:])
			return hex.EncodeToString(b[:])
		}
		for range 5 {
			res := do(t, attacker, verifyMutation, map[string]any{"token": random()})
			require.Equal(t, "VERIFICATION_TOKEN_INVALID_ERROR", res.ErrorCode)
			res = do(t, attacker, resetMutation, map[string]any{"token": random(), "password": "pw-1234"})
			require.Equal(t, "PASSWORD_RESET_TOKEN_INVALID_ERROR", res.ErrorCode)
		}
		requireThrottled(t, attacker.Do(verifyMutation, map[string]any{"token": random()}))
		requireThrottled(t, attacker.Do(resetMutation, map[string]any{"token": random(), "password": "pw-1234"}))
		token := e.tokens.last(t, entity.TokenVerification, "new@example.com")
		requireThrottled(t, attacker.Do(verifyMutation, map[string]any{"token": token}))

		owner := from(e.shop(testenv.Bearer), "203.0.113.50")
		require.Equal(t, "CurrentUser", do(t, owner, verifyMutation, map[string]any{"token": token}).Typename)
	})
}

// TestThrottleRegistrations: 10 registrations an hour per client address.
func TestThrottleRegistrations(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled()...)
		shop := e.shop(testenv.Bearer)
		for i := range 10 {
			require.True(t, do(t, shop, registerMutation, register(fmt.Sprintf("r%d@example.com", i), "pw-1234")).Success)
		}
		requireThrottled(t, shop.Do(registerMutation, register("r10@example.com", "pw-1234")))
		e.clock.Advance(time.Hour)
		require.True(t, do(t, shop, registerMutation, register("r10@example.com", "pw-1234")).Success)
	})
}

// TestThrottleCheckout: setCustomerForOrder probes from one guest session
// are refused after 20.
func TestThrottleCheckout(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, throttled()...)
		v := seedVariants(t, e, 1)
		shop := e.shop(testenv.Bearer)
		orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		probe := func(i int) *testenv.Response {
			return shop.Do(setCustomerMutation, map[string]any{"input": map[string]any{
				"firstName": "G", "lastName": "Uest", "emailAddress": fmt.Sprintf("probe-%d@example.com", i),
			}})
		}
		for i := range 20 {
			require.Empty(t, probe(i).Errors)
		}
		requireThrottled(t, probe(20))
	})
}

// TestThrottleOff: THROTTLE=off, for load tests, lifts every limit.
func TestThrottleOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], withThrottle(false))
	admin := e.admin(testenv.Bearer)
	for range 30 {
		requireLoginOutcome(t, loginAs(admin, "superadmin", "wrong"), "InvalidCredentialsError")
	}
	requireLoginOutcome(t, loginAs(admin, "superadmin", "superadmin"), "CurrentUser")
}
