package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// Each situation answers what Vendure answers for it: the same
// extensions.code and message for a thrown error, the same ErrorResult, or
// null. An id that names nothing is ENTITY_NOT_FOUND where Vendure looks the
// entity up by id (a product variant to add), USER_INPUT_ERROR where it
// searches the order's own lines, null where a query finds nothing, and
// FORBIDDEN for an order code (so codes cannot be enumerated).
func TestErrorCodesAsVendure(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		shop := newGuest(t, e)

		lineNotFound := func(r *testenv.Response) {
			t.Helper()
			require.Len(t, r.Errors, 1, "%s", r.Data)
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)
			require.Equal(t, "This order does not contain an OrderLine with the id 999999", r.Errors[0].Message)
		}
		// No active order yet: Vendure makes one, finds no such line in
		// it and rolls back.
		lineNotFound(shop.Do(adjustLineMutation, map[string]any{"orderLineId": "999999", "quantity": 1}))
		lineNotFound(shop.Do(removeLineMutation, map[string]any{"orderLineId": "999999"}))
		require.Zero(t, countOrders(t, e))

		r := shop.Do(addItemMutation, map[string]any{"productVariantId": "999999", "quantity": 1})
		require.Len(t, r.Errors, 1)
		require.Equal(t, "ENTITY_NOT_FOUND", r.ErrorCode())
		require.Equal(t, `No ProductVariant with the id "999999" could be found`, r.Errors[0].Message)
		require.Equal(t, []any{"addItemToOrder"}, r.Errors[0].Path)

		cart := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		require.Equal(t, "Order", cart.Typename)
		lineNotFound(shop.Do(adjustLineMutation, map[string]any{"orderLineId": "999999", "quantity": 1}))
		lineNotFound(shop.Do(removeLineMutation, map[string]any{"orderLineId": "999999"}))

		r = shop.Do(orderByIDQuery, map[string]any{"id": "999999"})
		require.Empty(t, r.Errors)
		require.Nil(t, orderField(t, r, "order"))
		r = shop.Do(orderByCodeQuery, map[string]any{"code": "NO-SUCH-CODE"})
		require.Equal(t, "FORBIDDEN", r.ErrorCode())
		require.Equal(t, "You are not currently authorized to perform this action", r.Errors[0].Message)

		admin := e.admin(testenv.Bearer)
		require.Empty(t, admin.Do(loginMutation, creds("superadmin", "superadmin")).Errors)
		r = admin.Do(`{ productVariant(id: "999999") { id } job(jobId: "999999") { id } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"productVariant":null,"job":null}`, string(r.Data))
	})
}
