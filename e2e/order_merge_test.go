package e2e_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

func withMergeStrategy(name string) envOption {
	return func(c *config.Config) { c.OrderMergeStrategy = name }
}

// guestCart adds quantities of variants (by index) as a new guest and
// returns the client.
func guestCart(t *testing.T, e *env, v []string, items ...[2]int) *testenv.Client {
	t.Helper()
	c := e.shop(testenv.Bearer)
	for _, it := range items {
		o := orderField(t, c.Do(addItemMutation, map[string]any{"productVariantId": v[it[0]], "quantity": it[1]}), "addItemToOrder")
		require.Equal(t, "Order", o.Typename)
	}
	return c
}

// Vendure §9.5 6, 7, 9, 10, 11: a guest cart survives login with every
// strategy; a cart with a customer is never merged into another's (vendure#263);
// a session pointing at a deleted order does not break login (vendure#1454).
func TestMergeOnLogin(t *testing.T) {
	t.Parallel()
	type step struct {
		existing, guest [][2]int
		want            []string
	}
	cases := map[string][]step{
		"MergeOrdersStrategy": {
			{nil, [][2]int{{0, 1}}, []string{"SKU-1×1"}},
			{nil, [][2]int{{1, 1}}, []string{"SKU-1×1", "SKU-2×1"}},
			{nil, [][2]int{{0, 3}}, []string{"SKU-1×3", "SKU-2×1"}},
		},
		"UseGuestStrategy": {
			{nil, [][2]int{{0, 1}, {2, 1}}, []string{"SKU-1×1", "SKU-3×1"}},
			{nil, [][2]int{{4, 3}}, []string{"SKU-5×3"}},
			{nil, [][2]int{{2, 3}}, []string{"SKU-3×3"}},
		},
		"UseExistingStrategy": {
			{nil, [][2]int{{3, 1}}, []string{"SKU-4×1"}},
			{nil, [][2]int{{4, 3}}, []string{"SKU-4×1"}},
		},
		"UseGuestIfExistingEmptyStrategy": {
			{nil, [][2]int{{1, 3}}, []string{"SKU-2×3"}},
			{nil, [][2]int{{4, 5}}, []string{"SKU-2×3"}},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, func(t *testing.T, b backend) {
				e := newEnv(t, b, withMergeStrategy(name))
				v := seedVariants(t, e, 5)
				newCustomer(t, e, "b@example.com")
				var orderID string
				for i, s := range steps {
					c := guestCart(t, e, v, s.guest...)
					shopLogin(t, c, "b@example.com")
					got := orderField(t, c.Do(activeOrderQuery, nil), "activeOrder")
					require.Equal(t, s.want, got.variants(), "step %d", i)
					require.Equal(t, "b@example.com", got.Customer.EmailAddress)
					if orderID != "" {
						require.Equal(t, orderID, got.ID, "the customer keeps one active order")
					}
					orderID = got.ID
				}
			})
		})
	}

	t.Run("NeverStealsAnotherCart", func(t *testing.T) {
		t.Parallel()
		eachBackend(t, func(t *testing.T, b backend) {
			e := newEnv(t, b)
			v := seedVariants(t, e, 3)
			newCustomer(t, e, "b@example.com")
			newCustomer(t, e, "c@example.com")
			c := guestCart(t, e, v, [2]int{0, 1}, [2]int{1, 1})
			shopLogin(t, c, "b@example.com")
			// Logged in as B (with a cart), log in as C without logging out.
			shopLogin(t, c, "c@example.com")
			require.Nil(t, orderField(t, c.Do(activeOrderQuery, nil), "activeOrder"), "C does not get B's cart")
			orderField(t, c.Do(addItemMutation, map[string]any{"productVariantId": v[2], "quantity": 1}), "addItemToOrder")
			shopLogin(t, c, "b@example.com")
			got := orderField(t, c.Do(activeOrderQuery, nil), "activeOrder")
			require.Equal(t, []string{"SKU-1×1", "SKU-2×1"}, got.variants(), "B's cart is B's")
		})
	})

	t.Run("DeletedOrderOnSession", func(t *testing.T) {
		t.Parallel()
		eachBackend(t, func(t *testing.T, b backend) {
			e := newEnv(t, b)
			v := seedVariants(t, e, 2)
			newCustomer(t, e, "b@example.com")
			c := e.shop(testenv.Bearer)
			shopLogin(t, c, "b@example.com")
			orderField(t, c.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
			// The client drops its token, shops as a new guest and logs in.
			c.Token = ""
			orderField(t, c.Do(addItemMutation, map[string]any{"productVariantId": v[1], "quantity": 1}), "addItemToOrder")
			l := shopLogin(t, c, "b@example.com")
			require.NotEmpty(t, l.Login.ID)
			got := orderField(t, c.Do(activeOrderQuery, nil), "activeOrder")
			require.Equal(t, []string{"SKU-1×1", "SKU-2×1"}, got.variants())

			// A guest whose session names an order that is gone logs in.
			g := guestCart(t, e, v, [2]int{0, 2})
			gOrder := orderField(t, g.Do(activeOrderQuery, nil), "activeOrder")
			_, err := e.db.NewDelete().Model((*entity.Order)(nil)).Where("id = ?", gOrder.ID).Exec(context.Background())
			require.NoError(t, err)
			shopLogin(t, g, "b@example.com")
			got = orderField(t, g.Do(activeOrderQuery, nil), "activeOrder")
			require.Equal(t, []string{"SKU-1×1", "SKU-2×1"}, got.variants())
		})
	})
}

// 10 concurrent logins with one guest cart leave exactly one merged order,
// no line lost or doubled (vendure#4481): the login, merge included, is one
// transaction, and the guest order is locked first.
func TestConcurrentLoginsMergeOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 4)
		newCustomer(t, e, "b@example.com")
		// The customer already has a cart: [SKU-1×1, SKU-4×2].
		owner := guestCart(t, e, v, [2]int{0, 1}, [2]int{3, 2})
		shopLogin(t, owner, "b@example.com")
		guest := guestCart(t, e, v, [2]int{1, 2}, [2]int{2, 3}, [2]int{0, 5})

		const n = 10
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				c := e.shop(testenv.Bearer)
				c.Token = guest.Token
				r := c.Do(loginMutation, creds("b@example.com", "test"))
				require.Empty(t, r.Errors)
				require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
			})
		}
		wg.Wait()
		got := orderField(t, owner.Do(activeOrderQuery, nil), "activeOrder")
		require.ElementsMatch(t, []string{"SKU-1×5", "SKU-4×2", "SKU-2×2", "SKU-3×3"}, got.variants())
		count, err := e.db.NewSelect().Model((*entity.Order)(nil)).Count(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, count, "the guest order was merged and deleted")
	})
}
