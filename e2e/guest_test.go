package e2e_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/session"
)

// Guest sessions written lazily (GUEST_SESSIONS=lazy, the default): what a
// storefront sees is unchanged, what the database sees is not.

// Tokenless requests to Owner fields get working guest tokens and write no
// session rows: 100 guests, each with its own token, each served again
// under it without a new one, and the session table stays empty.
func TestTokenlessOwnerRequestsWriteNoRows(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		seen := map[string]bool{}
		var guests []*testenv.Client
		for range 100 {
			shop := e.shop(testenv.Bearer)
			r := shop.Do(`{ activeCustomer { id } activeOrder { id } }`, nil)
			require.Empty(t, r.Errors)
			require.JSONEq(t, `{"activeCustomer":null,"activeOrder":null}`, string(r.Data))
			require.Regexp(t, `^[0-9a-f]{64}$`, shop.Token)
			require.False(t, seen[shop.Token])
			seen[shop.Token] = true
			guests = append(guests, shop)
		}
		for _, shop := range guests {
			token := shop.Token
			r := shop.Do(activeOrderQuery, nil)
			require.Empty(t, r.Errors)
			_, sent := r.TokenHeader()
			require.False(t, sent, "the guest keeps its token")
			require.Equal(t, token, shop.Token)
		}
		require.Zero(t, countSessionRows(t, e), "no session rows")
	})
}

// A guest's first cart write stores its session in the transaction that
// creates the order: a write that fails (an unknown variant rolls the
// transaction back) leaves neither the order nor the session row; one that
// succeeds leaves both, the row holding the order, under the same token.
func TestFirstCartWriteStoresTheGuest(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 2)
		shop := newGuest(t, e)
		token := shop.Token

		r := shop.Do(addItemMutation, map[string]any{"productVariantId": "999999", "quantity": 1})
		require.Equal(t, "ENTITY_NOT_FOUND", r.ErrorCode())
		require.Zero(t, countSessionRows(t, e), "rolled back with the order")
		require.Zero(t, countOrders(t, e))

		cart := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 2}), "addItemToOrder")
		require.Equal(t, "Order", cart.Typename)
		require.Equal(t, token, shop.Token, "same token")
		require.Equal(t, 1, countSessionRows(t, e))
		var row entity.Session
		require.NoError(t, e.db.NewSelect().Model(&row).Where("token_hash = ?", session.HashToken(token)).Scan(context.Background()))
		require.Equal(t, entity.SessionAnonymous, row.Type)
		require.NotNil(t, row.ActiveOrderID)
		require.Equal(t, cart.ID, row.ActiveOrderID.String(), "the row holds the order")
		require.True(t, row.Expires.After(e.clock.Now().Add(300*24*time.Hour)),
			"a guest with a cart lives SESSION_DURATION, not the 30 days of one without: %v", row.Expires)

		cart = orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[1], "quantity": 1}), "addItemToOrder")
		require.Equal(t, 3, cart.TotalQuantity)
		got := orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, cart.ID, got.ID)
		require.Equal(t, 1, countSessionRows(t, e))
		require.Equal(t, 1, countOrders(t, e))
	})
}

// Concurrent first cart writes of one guest (a storefront firing several
// add-to-cart requests at once) store one session and create one order
// holding every line: the first write's row lock serializes the others.
func TestConcurrentFirstCartWritesOfOneGuest(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		shop := newGuest(t, e)
		token := shop.Token

		const n = 8
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for range n {
			wg.Go(func() {
				c := e.shop(testenv.Bearer)
				c.Token = token
				r := c.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1})
				if len(r.Errors) > 0 {
					errs <- r.Errors[0].Message
				}
			})
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
		require.Equal(t, 1, countSessionRows(t, e))
		require.Equal(t, 1, countOrders(t, e))
		got := orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, n, got.TotalQuantity)
	})
}

// newGuest returns a Shop API client holding a new guest token.
func newGuest(t *testing.T, e *env) *testenv.Client {
	t.Helper()
	shop := e.shop(testenv.Bearer)
	require.Empty(t, shop.Do(`{ activeCustomer { id } }`, nil).Errors)
	require.NotEmpty(t, shop.Token)
	return shop
}

func countSessionRows(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.db.NewSelect().Model((*entity.Session)(nil)).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func countOrders(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.db.NewSelect().Model((*entity.Order)(nil)).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}
