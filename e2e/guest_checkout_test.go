package e2e_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// probeMutation is setCustomerForOrder as an attacker sends it: every
// field of the answer that could tell a registered address from an
// unknown one.
const probeMutation = `mutation probe($input: CreateCustomerInput!) {
  setCustomerForOrder(input: $input) {
    __typename
    ... on Order { id code state active totalQuantity customer { id title firstName lastName phoneNumber emailAddress } }
    ... on ErrorResult { errorCode message }
  }
}`

// guestWithCart is a new guest session holding a cart of one item.
func guestWithCart(t *testing.T, e *env, variant string) *testenv.Client {
	t.Helper()
	shop := e.shop(testenv.Bearer)
	o := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": variant, "quantity": 1}), "addItemToOrder")
	require.Equal(t, "Order", o.Typename)
	return shop
}

func guestInput(email string) map[string]any {
	return map[string]any{"input": map[string]any{
		"title": "Mx", "firstName": "Probe", "lastName": "Er", "phoneNumber": "+1 (555) 010-0199", "emailAddress": email,
	}}
}

// countGuestCustomers counts the customer rows without an account.
func countGuestCustomers(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.db.NewSelect().Model((*entity.Customer)(nil)).Where("user_id IS NULL").Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// The attack: one guest cart probes setCustomerForOrder with a registered
// verified address, a registered unverified one (in another letter case)
// and an unknown one. Every answer is the same Order, byte for byte apart
// from the address echoed back; no EMAIL_ADDRESS_CONFLICT_ERROR. A fresh
// cart per address answers alike too, apart from its ids and code.
func TestGuestCheckoutAnswersAlikeForAnyAddress(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		newCustomer(t, e, "verified@example.com")
		require.True(t, do(t, e.shop(testenv.Bearer), registerMutation, register("pending@example.com", "pending-pw")).Success)
		probes := []struct{ sent, echoed string }{
			{"verified@example.com", "verified@example.com"},
			{"PENDING@Example.COM", "pending@example.com"},
			{"unknown@example.com", "unknown@example.com"},
		}

		attacker := guestWithCart(t, e, v[0])
		require.Empty(t, attacker.Do(probeMutation, guestInput("warm-up@example.com")).Errors)
		var bodies []string
		for _, p := range probes {
			r := attacker.Do(probeMutation, guestInput(p.sent))
			require.Empty(t, r.Errors)
			require.Equal(t, 200, r.Status)
			body := string(r.Data)
			require.Contains(t, body, `"__typename":"Order"`, p.sent)
			require.NotContains(t, body, "EMAIL_ADDRESS_CONFLICT_ERROR")
			require.Contains(t, body, `"emailAddress":"`+p.echoed+`"`)
			bodies = append(bodies, strings.ReplaceAll(body, p.echoed, "ADDRESS"))
		}
		require.Equal(t, bodies[0], bodies[1], "registered verified vs registered unverified")
		require.Equal(t, bodies[0], bodies[2], "registered vs unknown")

		ids := regexp.MustCompile(`"(id|code)":"[^"]*"`)
		bodies = bodies[:0]
		for _, p := range probes {
			r := guestWithCart(t, e, v[0]).Do(probeMutation, guestInput(p.sent))
			require.Empty(t, r.Errors)
			body := ids.ReplaceAllString(strings.ReplaceAll(string(r.Data), p.echoed, "ADDRESS"), `"$1":"…"`)
			bodies = append(bodies, body)
		}
		require.Equal(t, bodies[0], bodies[1])
		require.Equal(t, bodies[0], bodies[2])
		require.Contains(t, bodies[0], `"__typename":"Order"`)
	})
}

// The attack: oversized and malformed guest customer fields. Each is a
// USER_INPUT_ERROR naming the field, and nothing is stored. Registration
// and updateCustomer apply the same rules.
func TestGuestCustomerFieldsAreBounded(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		shop := guestWithCart(t, e, v[0])
		input := func(over map[string]any) map[string]any {
			in := guestInput("shopper@example.com")["input"].(map[string]any)
			for k, val := range over {
				in[k] = val
			}
			return map[string]any{"input": in}
		}
		for _, c := range []struct {
			field string
			over  map[string]any
		}{
			{"firstName", map[string]any{"firstName": strings.Repeat("A", 200_000)}},
			{"lastName", map[string]any{"lastName": strings.Repeat("é", 256)}},
			{"title", map[string]any{"title": strings.Repeat("t", 256)}},
			{"emailAddress", map[string]any{"emailAddress": strings.Repeat("a", 200_000) + "@example.com"}},
			{"emailAddress", map[string]any{"emailAddress": "not-an-email"}},
			{"emailAddress", map[string]any{"emailAddress": "Victim <victim@example.com>"}},
			{"emailAddress", map[string]any{"emailAddress": "a@example.com, b@example.com"}},
			{"emailAddress", map[string]any{"emailAddress": "   "}},
			{"phoneNumber", map[string]any{"phoneNumber": "call me maybe"}},
			{"phoneNumber", map[string]any{"phoneNumber": strings.Repeat("1", 33)}},
			{"lastName", map[string]any{"lastName": "Er\r\nBcc: x@example.com"}},
			{"firstName", map[string]any{"firstName": "Pro\x00be"}},
		} {
			r := shop.Do(setCustomerMutation, input(c.over))
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%s: %s", c.field, r.Data)
			require.Contains(t, r.Errors[0].Message, c.field)
			require.Less(t, len(r.Errors[0].Message), 200, "the message does not echo the input")
		}
		require.Zero(t, countGuestCustomers(t, e), "nothing stored")
		require.Nil(t, orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder").Customer)

		ok := orderField(t, shop.Do(setCustomerMutation, input(map[string]any{
			"firstName": strings.Repeat("A", 255), "phoneNumber": "+44 (0)20 7946.0000",
		})), "setCustomerForOrder")
		require.Equal(t, "Order", ok.Typename, "the limits themselves are accepted")

		// The same rule at registration and in updateCustomer.
		anon := e.shop(testenv.Bearer)
		for _, in := range []map[string]any{
			{"emailAddress": "not-an-email", "password": "pw-1234"},
			{"emailAddress": "Name <reg@example.com>", "password": "pw-1234"},
			{"emailAddress": "reg@example.com", "phoneNumber": "call me", "password": "pw-1234"},
			{"emailAddress": "reg@example.com", "firstName": "Reg\nIster", "password": "pw-1234"},
		} {
			r := anon.Do(registerMutation, map[string]any{"input": in})
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%v", in)
		}
		require.Zero(t, e.tokens.count())
		newCustomer(t, e, "member@example.com")
		member := e.shop(testenv.Bearer)
		shopLogin(t, member, "member@example.com")
		r := member.Do(updateCustomerMutation, map[string]any{"input": map[string]any{"phoneNumber": "555-CALL-NOW"}})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode())
		require.Contains(t, r.Errors[0].Message, "phoneNumber")
	})
}

// The attack: 100 setCustomerForOrder calls on one order. The order has one
// guest customer, created by the first call and updated in place by the
// others. Two orders with one address get a guest customer each, and
// nothing entered for one reaches the other.
func TestOneGuestCustomerPerOrder(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		// Throttling (20 calls per session) is TestThrottleCheckout's.
		e := newEnv(t, b, withThrottle(false))
		v := seedVariants(t, e, 1)
		shop := guestWithCart(t, e, v[0])
		var first string
		for i := range 100 {
			in := guestInput("same@example.com")
			in["input"].(map[string]any)["firstName"] = "Call" + strings.Repeat("!", i%3)
			in["input"].(map[string]any)["emailAddress"] = []string{"same@example.com", "other@example.com"}[i%2]
			o := orderField(t, shop.Do(setCustomerMutation, in), "setCustomerForOrder")
			require.Equal(t, "Order", o.Typename)
			if first == "" {
				first = o.Customer.ID
			}
			require.Equal(t, first, o.Customer.ID, "updated in place")
		}
		require.Equal(t, 1, countGuestCustomers(t, e), "one guest customer row for 100 calls")
		var c entity.Customer
		require.NoError(t, e.db.NewSelect().Model(&c).Where("user_id IS NULL").Scan(context.Background()))
		require.Equal(t, "other@example.com", c.EmailAddress, "the last call's values")
		require.Equal(t, "Call", c.FirstName)

		other := guestWithCart(t, e, v[0])
		in := guestInput("other@example.com")
		in["input"].(map[string]any)["firstName"] = "Someone Else"
		o := orderField(t, other.Do(setCustomerMutation, in), "setCustomerForOrder")
		require.NotEqual(t, first, o.Customer.ID, "an order never reuses another order's customer")
		require.Equal(t, 2, countGuestCustomers(t, e))
		require.NoError(t, e.db.NewSelect().Model(&c).Where("id = ?", c.ID).Scan(context.Background()))
		require.Equal(t, "Call", c.FirstName, "the first order's customer is untouched")

		// Concurrent calls on one order serialize on its row: still one.
		racer := guestWithCart(t, e, v[0])
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				c := e.shop(testenv.Bearer)
				c.Token = racer.Token
				require.Equal(t, "Order", orderField(t, c.Do(setCustomerMutation, guestInput("race@example.com")), "setCustomerForOrder").Typename)
			})
		}
		wg.Wait()
		require.Equal(t, 3, countGuestCustomers(t, e))
	})
}

// The attack: someone registers the owner's address and never verifies.
// The owner's guest checkout with that address goes through to payment,
// and the placed order joins no account: the registration was never
// proven.
func TestUnverifiedRegistrationDoesNotBlockGuestCheckout(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		require.True(t, do(t, e.shop(testenv.Bearer), registerMutation, register("owner@example.com", "squatter-pw")).Success)

		owner := guestWithCart(t, e, v[0])
		sc := orderField(t, owner.Do(setCustomerMutation, guestInput("Owner@Example.com")), "setCustomerForOrder")
		require.Equal(t, "Order", sc.Typename)
		require.Equal(t, "owner@example.com", sc.Customer.EmailAddress)
		require.Equal(t, "ArrangingPayment", orderField(t, owner.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"}), "transitionOrderToState").State)
		paid := orderField(t, owner.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
		require.Equal(t, "PaymentSettled", paid.State)

		var o entity.Order
		require.NoError(t, e.db.NewSelect().Model(&o).Where("code = ?", paid.Code).Scan(context.Background()))
		require.Nil(t, o.AccountCustomerID, "an unverified account gets no order")
		require.Equal(t, paid.ID, orderField(t, owner.Do(orderByCodeQuery, map[string]any{"code": paid.Code}), "orderByCode").ID,
			"the guest's confirmation page")
	})
}

// A guest checks out with a verified customer's address. While the order
// is a cart it is the guest session's alone: the customer's own session
// neither holds it nor reads it. Once placed it is in the customer's order
// history (order(id), orderByCode), its customer is still the guest
// customer (the account's profile is never shown through it), and it
// never becomes the customer's active order. Without REQUIRE_VERIFICATION
// nothing proves who holds an address, and guest orders join no account.
func TestPlacedGuestOrderJoinsAccountHistory(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 2)
		newCustomer(t, e, "kim@example.com")
		kim := e.shop(testenv.Bearer)
		shopLogin(t, kim, "kim@example.com")
		kimCustomerID := queryActiveCustomer(t, kim).ActiveCustomer.ID

		guest := guestWithCart(t, e, v[0])
		cart := orderField(t, guest.Do(setCustomerMutation, guestInput("KIM@example.com")), "setCustomerForOrder")
		require.NotEqual(t, kimCustomerID, cart.Customer.ID)
		require.Equal(t, "ArrangingPayment", orderField(t, guest.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"}), "transitionOrderToState").State)

		require.Nil(t, orderField(t, kim.Do(activeOrderQuery, nil), "activeOrder"), "not the customer's cart")
		require.Nil(t, orderField(t, kim.Do(orderByIDQuery, map[string]any{"id": cart.ID}), "order"), "not hers before it is placed")
		require.Equal(t, "FORBIDDEN", kim.Do(orderByCodeQuery, map[string]any{"code": cart.Code}).ErrorCode())
		relogin := e.shop(testenv.Bearer)
		shopLogin(t, relogin, "kim@example.com")
		require.Nil(t, orderField(t, relogin.Do(activeOrderQuery, nil), "activeOrder"))

		paid := orderField(t, guest.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
		require.Equal(t, "PaymentSettled", paid.State)
		require.Equal(t, cart.Customer.ID, paid.Customer.ID, "the guest sees its own customer, not the account's")

		hist := orderField(t, kim.Do(orderByIDQuery, map[string]any{"id": cart.ID}), "order")
		require.NotNil(t, hist, "the placed order is in the customer's history")
		require.Equal(t, "PaymentSettled", hist.State)
		require.Equal(t, cart.Customer.ID, hist.Customer.ID)
		require.Equal(t, cart.ID, orderField(t, kim.Do(orderByCodeQuery, map[string]any{"code": cart.Code}), "orderByCode").ID)
		require.Equal(t, cart.ID, orderField(t, guest.Do(orderByCodeQuery, map[string]any{"code": cart.Code}), "orderByCode").ID,
			"the guest's confirmation page")

		require.Nil(t, orderField(t, kim.Do(activeOrderQuery, nil), "activeOrder"), "never her active order")
		kim.Do(`mutation { logout { success } }`, nil)
		shopLogin(t, kim, "kim@example.com")
		require.Nil(t, orderField(t, kim.Do(activeOrderQuery, nil), "activeOrder"))
		own := orderField(t, kim.Do(addItemMutation, map[string]any{"productVariantId": v[1], "quantity": 1}), "addItemToOrder")
		require.NotEqual(t, cart.ID, own.ID)
		require.Equal(t, []string{"SKU-2×1"}, own.variants())
		require.Equal(t, kimCustomerID, own.Customer.ID)

		stranger := e.shop(testenv.Bearer)
		newCustomer(t, e, "stranger@example.com")
		shopLogin(t, stranger, "stranger@example.com")
		require.Nil(t, orderField(t, stranger.Do(orderByIDQuery, map[string]any{"id": cart.ID}), "order"))
	})
	t.Run("without verification", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, backends()[0], withRequireVerification(false))
		v := seedVariants(t, e, 1)
		newCustomer(t, e, "kim@example.com")
		guest := guestWithCart(t, e, v[0])
		cart := orderField(t, guest.Do(setCustomerMutation, guestInput("kim@example.com")), "setCustomerForOrder")
		guest.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"})
		paid := orderField(t, guest.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
		require.Equal(t, "PaymentSettled", paid.State)
		kim := e.shop(testenv.Bearer)
		shopLogin(t, kim, "kim@example.com")
		require.Nil(t, orderField(t, kim.Do(orderByIDQuery, map[string]any{"id": cart.ID}), "order"))
	})
}
