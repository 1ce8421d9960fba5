package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// Bounded guests: a flood of new guest sessions can neither grow the
// session cache (Redis) without bound nor lock real shoppers out, and a
// guest's cart does not live for a year.

// withGuestLimits sets GUEST_ADDRESS_LIMIT, GUEST_ADDRESS_WINDOW and
// GUEST_CACHE_LIMIT.
func withGuestLimits(perAddress int, window time.Duration, perInstance int) envOption {
	return func(c *config.Config) {
		c.GuestAddressLimit, c.GuestAddressWindow, c.GuestCacheLimit = perAddress, window, perInstance
	}
}

// guestFrom sends a Shop API document from a client address (the
// connection's, as a server without trusted proxies sees it) straight to
// the handler, with token as the bearer token when not empty.
func guestFrom(t *testing.T, e *env, addr, token, query string) (*httptest.ResponseRecorder, testenv.Response) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/shop-api", bytes.NewReader(body))
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.app.Handler().ServeHTTP(w, req)
	var out testenv.Response
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), "%s", w.Body)
	return w, out
}

// redisSessionKeys counts the session keys under the test's Redis prefix
// (each session is one key: the prefix and a 64-digit token hash).
func (e *env) redisSessionKeys(t *testing.T) int {
	t.Helper()
	n := 0
	iter := e.redis.Scan(context.Background(), 0, e.redisPrefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		if len(strings.TrimPrefix(iter.Val(), e.redisPrefix)) == 64 {
			n++
		}
	}
	require.NoError(t, iter.Err())
	return n
}

// The attack: one address asks for new guest sessions as fast as it can
// (every tokenless request to an Owner field makes one). After
// GUEST_ADDRESS_LIMIT (300 by default) in the window it gets
// TOO_MANY_REQUESTS with retryAfter and a Retry-After header, and no new
// session. The shoppers at that address who already hold a session keep
// it and their cart, requests that need no session still work, another
// address is not affected, and the next window admits new guests again.
func TestGuestFloodFromOneAddress(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		// Within the first minute of a five-minute window.
		now := e.clock.Now()
		e.clock.Advance(now.Truncate(5 * time.Minute).Add(6 * time.Minute).Sub(now))

		shopper := newGuest(t, e) // from 127.0.0.1, as the flood
		cart := orderField(t, shopper.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 2}), "addItemToOrder")
		browser := newGuest(t, e)

		for i := range config.DefaultGuestAddressLimit - 2 {
			flood := e.shop(testenv.Bearer)
			r := flood.Do(`{ activeCustomer { id } }`, nil)
			require.Empty(t, r.Errors, "guest %d", i)
			require.NotEmpty(t, flood.Token)
		}
		flood := e.shop(testenv.Bearer)
		r := flood.Do(`{ activeCustomer { id } }`, nil)
		require.Equal(t, "TOO_MANY_REQUESTS", r.ErrorCode(), "%+v", r.Errors)
		require.Equal(t, float64(240), r.Errors[0].Extensions["retryAfter"], "until the window ends")
		require.Equal(t, "240", r.Header.Get("Retry-After"))
		require.Empty(t, flood.Token, "no session")
		require.JSONEq(t, `{"activeCustomer":null}`, string(r.Data))
		// The same through the cart mutation a bot would send.
		r = flood.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1})
		require.Equal(t, "TOO_MANY_REQUESTS", r.ErrorCode())
		require.Empty(t, flood.Token)

		// The shoppers already there are not affected.
		token := shopper.Token
		got := orderField(t, shopper.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, cart.ID, got.ID)
		got = orderField(t, shopper.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		require.Equal(t, 3, got.TotalQuantity)
		require.Equal(t, token, shopper.Token)
		r = browser.Do(`{ activeCustomer { id } }`, nil)
		require.Empty(t, r.Errors)
		// A request that needs no session.
		r = flood.Do(`{ activeChannel { code } }`, nil)
		require.Empty(t, r.Errors)
		// Another address.
		w, other := guestFrom(t, e, "198.51.100.20", "", `{ activeCustomer { id } }`)
		require.Empty(t, other.Errors)
		require.NotEmpty(t, w.Header().Get("vendure-auth-token"))

		// The next window.
		e.clock.Advance(4 * time.Minute)
		r = flood.Do(`{ activeCustomer { id } }`, nil)
		require.Empty(t, r.Errors)
		require.NotEmpty(t, flood.Token)
	})
}

// The attack from many addresses (a botnet, or one IPv6 network's many
// /64s): each address stays under its own limit, so the instance budget
// (GUEST_CACHE_LIMIT cache-only guests per SESSION_CACHE_TTL) bounds what
// reaches the cache. Every request is still answered with a working
// guest token, nobody is refused, and the cache holds at most the budget;
// a real shopper arriving during the flood can still fill a cart and keep
// it. Once SESSION_CACHE_TTL (and a tenth) has passed the budget is back.
func TestGuestFloodFromManyAddresses(t *testing.T) {
	t.Parallel()
	const budget = 50
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withGuestLimits(config.DefaultGuestAddressLimit, config.DefaultGuestAddressWindow, budget))
		v := seedVariants(t, e, 1)
		before := e.spy.Held()
		redisBefore := 0
		if e.redis != nil {
			redisBefore = e.redisSessionKeys(t)
		}

		for i := range 4 * budget {
			addr := fmt.Sprintf("203.0.%d.%d", i/250, i%250+1)
			if i%2 == 1 {
				addr = fmt.Sprintf("2001:db8:%x::1", i) // a /64 each
			}
			w, r := guestFrom(t, e, addr, "", `{ activeCustomer { id } }`)
			require.Empty(t, r.Errors, "guest %d", i)
			require.Regexp(t, `^[0-9a-f]{64}$`, w.Header().Get("vendure-auth-token"))
		}
		require.Equal(t, budget, e.spy.Held()-before, "the cache holds the budget, not the flood")
		if e.redis != nil {
			require.Equal(t, budget, e.redisSessionKeys(t)-redisBefore, "Redis keys")
		}
		require.Zero(t, countSessionRows(t, e), "and the flood wrote no rows")

		// A shopper arriving now: its first request's cart stores the
		// session, which then works as any other.
		shopper := e.shop(testenv.Bearer)
		cart := orderField(t, shopper.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		require.Equal(t, "Order", cart.Typename)
		got := orderField(t, shopper.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, cart.ID, got.ID)

		// A guest over the budget that holds nothing is replaced on its
		// next request (it lost nothing).
		w, _ := guestFrom(t, e, "192.0.2.78", "", `{ activeCustomer { id } }`)
		uncached := w.Header().Get("vendure-auth-token")
		w, r := guestFrom(t, e, "192.0.2.78", uncached, `{ activeCustomer { id } }`)
		require.Empty(t, r.Errors)
		require.NotEqual(t, uncached, w.Header().Get("vendure-auth-token"))

		// The budget counts in tenths of the TTL: the flood's tenth has
		// left it once TTL and one tenth have passed.
		ttl := e.app.Config.SessionCacheTTL
		e.clock.Advance(ttl + ttl/10)
		held := e.spy.Held()
		w, r = guestFrom(t, e, "192.0.2.79", "", `{ activeCustomer { id } }`)
		require.Empty(t, r.Errors)
		require.Equal(t, held+1, e.spy.Held(), "cached again")
		_, r = guestFrom(t, e, "192.0.2.79", w.Header().Get("vendure-auth-token"), `{ activeCustomer { id } }`)
		require.Empty(t, r.Errors)
	})
}

// A guest's cart idles out: the attack is thousands of addItemToOrder from
// new guests, each leaving a session and an order behind for a year. A
// guest with a cart unused for ANONYMOUS_CART_IDLE_TIMEOUT (30 days) is
// refused by the lookup like an expired session (the client is told to
// drop the token and gets a new guest), whether or not the clean-up has run,
// and the clean-sessions job removes it; a cart in use is kept.
func TestGuestCartIdlesOut(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		abandoned := newGuest(t, e)
		orderField(t, abandoned.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		shopper := newGuest(t, e)
		cart := orderField(t, shopper.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		require.Equal(t, 2, countSessionRows(t, e))

		// The shopper comes back every 20 days; the other never does.
		for range 3 {
			e.clock.Advance(20 * 24 * time.Hour)
			got := orderField(t, shopper.Do(activeOrderQuery, nil), "activeOrder")
			require.Equal(t, cart.ID, got.ID)
		}

		// 60 days on: the abandoned cart's session is refused.
		old := abandoned.Token
		r := abandoned.Do(activeOrderQuery, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"activeOrder":null}`, string(r.Data))
		require.NotEqual(t, old, abandoned.Token, "a new guest instead")
		require.NotEmpty(t, abandoned.Token)

		admin := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		r = admin.Do(`mutation { triggerCleanSessionsJob { `+jobFields+` } }`, nil)
		require.Empty(t, r.Errors)
		var trig struct{ TriggerCleanSessionsJob jobView }
		r.Decode(t, &trig)
		done := waitSettled(t, admin, trig.TriggerCleanSessionsJob.ID)
		require.Equal(t, "COMPLETED", done.State, "error: %s", done.Error)
		var result struct{ SessionsRemoved int }
		require.NoError(t, json.Unmarshal(done.Result, &result))
		require.Equal(t, 1, result.SessionsRemoved, "the idle cart's session")

		var left int
		require.NoError(t, e.db.NewRaw("SELECT count(*) FROM session WHERE user_id IS NULL").Scan(context.Background(), &left))
		require.Equal(t, 1, left, "the shopper's session is kept")
		got := orderField(t, shopper.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, cart.ID, got.ID)
		require.Equal(t, 1, got.TotalQuantity)
	})
}
