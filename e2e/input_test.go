package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/catalog"
	"github.com/shopsession/sessionserver/service/order"
)

// goText is Go's own wording (strconv, encoding/json, fmt, type names),
// which no message a client gets may carry.
var goText = []string{"strconv", "parsing \"", "invalid syntax", "int64", "float64", "json.Number", "%!", "interface {", "graphql.", "sql", "SQL"}

// requireNoGoText fails when any error message of r shows Go's text.
func requireNoGoText(t *testing.T, r *testenv.Response) {
	t.Helper()
	for _, e := range r.Errors {
		for _, s := range goText {
			require.NotContains(t, e.Message, s, "message %q", e.Message)
		}
	}
}

// requireInputError checks that r is refused with USER_INPUT_ERROR, a
// message containing msg and no Go text, and never as a fault (a 503).
func requireInputError(t *testing.T, r *testenv.Response, msg string) {
	t.Helper()
	require.Less(t, r.Status, 500, "%+v", r.Errors)
	require.NotEmpty(t, r.Errors, "%s", r.Data)
	require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)
	require.Contains(t, r.Errors[0].Message, msg)
	requireNoGoText(t, r)
}

// rawPost sends body as is (a Client re-encodes strings, turning invalid
// UTF-8 into U+FFFD) and decodes the answer.
func rawPost(t *testing.T, endpoint, body string, header http.Header) *testenv.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) *testenv.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := &testenv.Response{Status: resp.StatusCode, Header: resp.Header}
	require.NoError(t, json.Unmarshal(raw, out), "%d %s", resp.StatusCode, raw)
	return out
}

// The attack: a NUL byte in a login or a reset address, in any argument or
// input field on either API, variable or literal. It was a 503 with a
// database syntax error in the log; it is a USER_INPUT_ERROR naming the
// field, before any resolver runs, and the server goes on serving.
func TestNULByteIsUserInputError(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		const nul = "victim\x00@example.com"
		for _, tc := range []struct {
			name, api, doc string
			vars           map[string]any
			path           []any
		}{
			{"ShopLoginUsername", app.ShopPath, loginMutation, creds(nul, "test"), []any{"login", "username"}},
			{"ShopLoginPassword", app.ShopPath, loginMutation, creds("a@example.com", "pw\x00"), []any{"login", "password"}},
			{"AdminLogin", app.AdminPath, loginMutation, creds("superadmin\x00", "superadmin"), []any{"login", "username"}},
			{"Authenticate", app.ShopPath, authenticateMutation,
				map[string]any{"input": map[string]any{"native": map[string]any{"username": nul, "password": "x"}}},
				[]any{"authenticate", "input", "native", "username"}},
			{"RequestPasswordReset", app.ShopPath, requestResetMutation, map[string]any{"emailAddress": nul}, []any{"requestPasswordReset", "emailAddress"}},
			{"RefreshVerification", app.ShopPath, refreshVerificationMutation, map[string]any{"emailAddress": nul}, []any{"refreshCustomerVerification", "emailAddress"}},
			{"ResetPasswordToken", app.ShopPath, resetMutation, map[string]any{"token": "t\x00", "password": "secret"}, []any{"resetPassword", "token"}},
			{"VerifyToken", app.ShopPath, verifyMutation, map[string]any{"token": "t\x00"}, []any{"verifyCustomerAccount", "token"}},
			{"Register", app.ShopPath, registerMutation, map[string]any{"input": map[string]any{"emailAddress": nul, "password": "secret"}},
				[]any{"registerCustomerAccount", "input", "emailAddress"}},
			{"OrderByCode", app.ShopPath, orderByCodeQuery, map[string]any{"code": "\x00"}, []any{"orderByCode", "code"}},
			{"Transition", app.ShopPath, transitionMutation, map[string]any{"state": "ArrangingPayment\x00"}, []any{"transitionOrderToState", "state"}},
			{"Literal", app.ShopPath, `mutation { requestPasswordReset(emailAddress: "a\u0000@example.com") { __typename } }`, nil,
				[]any{"requestPasswordReset", "emailAddress"}},
			{"AdminFilter", app.AdminPath, variantsQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"sku": map[string]any{"eq": "\x00"}}}},
				[]any{"productVariants", "options", "filter", "sku", "eq"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := testenv.NewClient(t, e.srv.URL+tc.api, testenv.Bearer)
				r := c.Do(tc.doc, tc.vars)
				require.Equal(t, http.StatusOK, r.Status, "never a 503: %+v", r.Errors)
				requireInputError(t, r, "must not contain a NUL character")
				require.Equal(t, tc.path, r.Errors[0].Path)
			})
		}
		// The server is fine: the same login without the NUL works.
		require.Equal(t, "CurrentUser", decodeLogin(t, e.admin(testenv.Bearer).Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
	})
}

// Invalid UTF-8 in a variable or in the document, over POST or GET, is
// refused before GraphQL runs: encoding/json would otherwise replace each
// bad byte with U+FFFD and the server would check or store a value the
// client never sent.
func TestInvalidUTF8IsUserInputError(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		for _, api := range []string{app.ShopPath, app.AdminPath} {
			for _, body := range []string{
				`{"query":"mutation($u:String!){login(username:$u,password:\"secret\"){__typename}}","variables":{"u":"a` + "\xff" + `b@example.com"}}`,
				`{"query":"mutation{login(username:\"a` + "\xc3\x28" + `\",password:\"secret\"){__typename}}"}`,
				`{"query":"mutation($p:String!){login(username:\"superadmin\",password:$p){__typename}}","variables":{"p":"superadmin` + "\xed\xa0\x80" + `"}}`,
			} {
				r := rawPost(t, e.srv.URL+api, body, nil)
				require.Equal(t, http.StatusBadRequest, r.Status)
				requireInputError(t, r, "not valid UTF-8")
			}
			q := url.Values{"query": {`{ activeChannel { code } }`}, "variables": {`{"x":"` + "\xff" + `"}`}}
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+api+"?"+q.Encode(), nil)
			require.NoError(t, err)
			r := send(t, req)
			require.Equal(t, http.StatusBadRequest, r.Status)
			requireInputError(t, r, "not valid UTF-8")
		}
	})
}

// HTTP-level inputs: a channel token, a bearer token or a session cookie
// with bytes that are not UTF-8 never reach the database as an error (the
// tokens are hashed, the channel token is looked up in memory); a NUL in a
// header is refused by net/http with a 400.
func TestBadBytesInHeadersNeverReachTheDatabase(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withGuestSessions(config.GuestEager))
		const doc = `{"query":"{ activeChannel { code } activeOrder { id } }"}`
		for _, h := range []http.Header{
			{"Vendure-Token": {"\xff\xfe" + strings.Repeat("\xc3", 600)}},
			{"Authorization": {"Bearer \xff\xfe\xfd"}},
			{"Authorization": {"Bearer " + strings.Repeat("\xff", 4000)}},
			{"Cookie": {"session=\xff\xfe; session.sig=\xff"}},
		} {
			r := rawPost(t, e.srv.URL+app.ShopPath, doc, h)
			require.Less(t, r.Status, 500, "%v: %+v", h, r.Errors)
			for _, err := range r.Errors {
				require.NotEqual(t, "INTERNAL_SERVER_ERROR", err.Code(), "%v", h)
			}
			requireNoGoText(t, r)
		}

		// net/http's client will not send a NUL in a header: write it.
		u, err := url.Parse(e.srv.URL)
		require.NoError(t, err)
		for _, header := range []string{"vendure-token: a\x00b", "Authorization: Bearer a\x00b"} {
			conn, err := net.Dial("tcp", u.Host)
			require.NoError(t, err)
			_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
				app.ShopPath, u.Host, header, len(doc), doc)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			resp.Body.Close()
			conn.Close()
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, header)
		}
	})
}

// A megabyte of password is refused by the String bound, and credentials
// longer than any account's (an identifier over 255 characters, a password
// over bcrypt's 72 bytes) get InvalidCredentialsError before any read or
// hash: the log names that reason, not "unknown user".
func TestLongCredentialsCostNothing(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		s := newLoggedServer(t, dialect, nil)
		for _, api := range []string{app.ShopPath, app.AdminPath} {
			c := s.client(t, api)
			r := c.Do(loginMutation, creds("superadmin", strings.Repeat("x", 1<<20-2000)))
			requireInputError(t, r, "String must be at most 4096 bytes long")
			require.Equal(t, []any{"login", "password"}, r.Errors[0].Path)

			for _, cr := range []map[string]any{
				creds("superadmin", "superadmin"+strings.Repeat("x", 63)), // 73 bytes
				creds(strings.Repeat("a", 256), "superadmin"),
			} {
				before := len(s.logs.linesWith("reason=\"identifier or password too long\""))
				r = c.Do(loginMutation, cr)
				require.Empty(t, r.Errors)
				require.Equal(t, "InvalidCredentialsError", decodeLogin(t, r).Login.Typename)
				require.Len(t, s.logs.linesWith("reason=\"identifier or password too long\""), before+1)
			}
		}
		r := s.client(t, app.ShopPath).Do(requestResetMutation, map[string]any{"emailAddress": strings.Repeat("a", 4097)})
		requireInputError(t, r, "String must be at most 4096 bytes long, got 4097")
		require.Empty(t, s.logs.linesWith("level=ERROR"))
	})
}

// GraphQL's Int is 32-bit: 2^31 as a quantity or a page size, as a variable
// (top level or inside an input object) or a literal, is refused with a
// USER_INPUT_ERROR; so is a string where an Int belongs.
func TestIntIs32Bit(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		shop := e.shop(testenv.Bearer)
		for _, q := range []any{int64(1) << 31, int64(-1)<<31 - 1, int64(1) << 40, "12"} {
			r := shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": q})
			requireInputError(t, r, "Int cannot represent")
			require.Equal(t, []any{"addItemToOrder", "quantity"}, r.Errors[0].Path)
		}
		r := shop.Do(fmt.Sprintf(`mutation { addItemToOrder(productVariantId: %s, quantity: 2147483648) { __typename } }`, v[0]), nil)
		requireInputError(t, r, "Int cannot represent a non 32-bit signed integer value: 2147483648")
		// The largest Int is an Int: the order limit refuses it.
		o := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": math.MaxInt32}), "addItemToOrder")
		require.Equal(t, "ORDER_LIMIT_ERROR", o.ErrorCode)
		require.Empty(t, orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder").Lines, "no line kept")

		admin := e.admin(testenv.Bearer)
		admin.Do(loginMutation, creds("superadmin", "superadmin"))
		r = admin.Do(variantsQuery, map[string]any{"options": map[string]any{"take": int64(1) << 31}})
		requireInputError(t, r, "Int cannot represent a non 32-bit signed integer value: 2147483648")
		require.Equal(t, []any{"productVariants", "options", "take"}, r.Errors[0].Path)
		r = admin.Do(`{ productVariants(options: {skip: 4294967296}) { totalItems } }`, nil)
		requireInputError(t, r, "Int cannot represent a non 32-bit signed integer value: 4294967296")
		r = admin.Do(`{ jobs(options: {take: 2147483648}) { totalItems } }`, nil)
		requireInputError(t, r, "Int cannot represent")
	})
}

// Prices have an upper bound (catalog.MaxPrice): createProductVariants
// refuses 2^63−1 and MaxPrice+1 with a clear message, and a bad Money
// literal's message shows no strconv text. A line at the largest price and
// the largest quantity totals exactly, and positive.
func TestPriceBound(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.admin(testenv.Bearer)
		admin.Do(loginMutation, creds("superadmin", "superadmin"))
		for _, tc := range []struct {
			price any
			msg   string
		}{
			{json.Number("9223372036854775807"), "Money must be between -9007199254740991 and 9007199254740991 minor units, got 9223372036854775807"},
			{json.Number("18446744073709551616"), "Money must be between"},
			{json.Number("9007199254740991"), "input[0]: the price must be at most 1000000000000 minor units, got 9007199254740991"},
			{catalog.MaxPrice + 1, "input[0]: the price must be at most 1000000000000 minor units, got 1000000000001"},
			{"1999", `Money must be a whole number of minor units, got "1999"`},
			{12.5, "Money must be a whole number of minor units, got 12.5"},
		} {
			r := admin.Do(createVariantsMutation, map[string]any{"input": []any{variantInput("HUGE", "Huge", tc.price)}})
			requireInputError(t, r, tc.msg)
		}
		for _, lit := range []string{`"abc"`, `1.5`, `9223372036854775807`, `99999999999999999999`} {
			r := admin.Do(`mutation { createProductVariants(input: [{sku: "L", translations: [{languageCode: en, name: "L"}], price: `+lit+`}]) { id } }`, nil)
			require.NotEmpty(t, r.Errors, lit)
			require.NotEqual(t, "INTERNAL_SERVER_ERROR", r.ErrorCode())
			requireNoGoText(t, r)
		}
		n, err := e.db.NewSelect().Model((*entity.ProductVariant)(nil)).Where("sku IN ('HUGE', 'L')").Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)

		r := admin.Do(createVariantsMutation, map[string]any{"input": []any{variantInput("MAX", "Max", catalog.MaxPrice)}})
		require.Empty(t, r.Errors)
		var created struct {
			CreateProductVariants []variantResult `json:"createProductVariants"`
		}
		r.Decode(t, &created)
		require.EqualValues(t, catalog.MaxPrice, created.CreateProductVariants[0].Price)

		shop := e.shop(testenv.Bearer)
		o := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": created.CreateProductVariants[0].ID, "quantity": order.DefaultOrderLineItemsLimit}), "addItemToOrder")
		require.Equal(t, "Order", o.Typename, "%+v", o)
		want := int64(catalog.MaxPrice) * order.DefaultOrderLineItemsLimit
		require.Equal(t, want, o.Lines[0].LinePrice)
		require.Equal(t, []int64{want, want, want, want}, []int64{o.SubTotal, o.SubTotalTax, o.Total, o.TotalWithTax})
		o = orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": created.CreateProductVariants[0].ID, "quantity": 1}), "addItemToOrder")
		require.Equal(t, "ORDER_LIMIT_ERROR", o.ErrorCode)
	})
}

// Rows stored before prices were bounded (here written straight to the
// database) never make a wrapped, negative figure: adding such a variant
// is refused, and an order line that holds one makes the order's figures
// an error, which neither moves to payment nor pays. (2^63−1 × 2 used to
// total −2 and could be paid.)
func TestStoredHugePriceNeverMakesANegativeTotal(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		v := seedVariants(t, e, 2)
		_, err := e.db.NewUpdate().Model((*entity.ProductVariant)(nil)).Set("price = ?", int64(math.MaxInt64)).Where("id = ?", v[1]).Exec(ctx)
		require.NoError(t, err)

		shop := e.shop(testenv.Bearer)
		r := shop.Do(addItemMutation, map[string]any{"productVariantId": v[1], "quantity": 2})
		requireInputError(t, r, "the order total would be more than 9007199254740991 minor units")
		require.NotContains(t, string(r.Data), "-")

		o := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 2}), "addItemToOrder")
		require.Equal(t, int64(200), o.Total)
		_, err = e.db.NewUpdate().Model((*entity.OrderLine)(nil)).Set("unit_price = ?", int64(math.MaxInt64)).Where("order_id = ?", o.ID).Exec(ctx)
		require.NoError(t, err)

		r = shop.Do(activeOrderQuery, nil)
		requireInputError(t, r, "This order's figures are out of range")
		require.JSONEq(t, `{"activeOrder":null}`, string(r.Data))

		r = shop.Do(setCustomerMutation, map[string]any{"input": map[string]any{"firstName": "A", "lastName": "B", "emailAddress": "guest@example.com"}})
		require.NotContains(t, string(r.Data), "-")
		r = shop.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"})
		var tr struct {
			TransitionOrderToState orderJSON `json:"transitionOrderToState"`
		}
		r.Decode(t, &tr)
		require.Equal(t, "ORDER_STATE_TRANSITION_ERROR", tr.TransitionOrderToState.ErrorCode)
		require.Contains(t, tr.TransitionOrderToState.TransitionError, "its total is beyond 9007199254740991 minor units")

		var state string
		require.NoError(t, e.db.NewSelect().Model((*entity.Order)(nil)).Column("state").Where("code = ?", o.Code).Scan(ctx, &state))
		require.Equal(t, entity.OrderAddingItems, state, "not moved to payment")

		// An order already in ArrangingPayment when its figures went out
		// of range is not paid.
		_, err = e.db.NewUpdate().Model((*entity.Order)(nil)).Set("state = ?", entity.OrderArrangingPayment).Where("code = ?", o.Code).Exec(ctx)
		require.NoError(t, err)
		r = shop.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": order.StandardPaymentMethod, "metadata": map[string]any{}}})
		requireInputError(t, r, "This order's figures are out of range")
		require.NoError(t, e.db.NewSelect().Model((*entity.Order)(nil)).Column("state").Where("code = ?", o.Code).Scan(ctx, &state))
		require.Equal(t, entity.OrderArrangingPayment, state, "not paid")
		_, err = e.db.NewUpdate().Model((*entity.Order)(nil)).Set("state = ?", entity.OrderAddingItems).Where("code = ?", o.Code).Exec(ctx)
		require.NoError(t, err)

		// The way out: remove the line.
		o = orderField(t, shop.Do(removeAllMutation, nil), "removeAllOrderLines")
		require.Equal(t, int64(0), o.Total)
		require.Empty(t, o.Lines)
	})
}

// Input errors on both APIs, of every scalar and of enums and ids, carry
// messages written for the client: none shows Go's strconv, time or type
// text.
func TestInputErrorsShowNoGoText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	admin := e.admin(testenv.Bearer)
	admin.Do(loginMutation, creds("superadmin", "superadmin"))
	shop := e.shop(testenv.Bearer)
	for _, tc := range []struct {
		c    *testenv.Client
		doc  string
		vars map[string]any
		msg  string
	}{
		{admin, `query($f: Float!) { productVariants(options: {filter: {price: {lt: $f}}}) { totalItems } }`, map[string]any{"f": json.Number("1e999")}, ""},
		{admin, `query($d: DateTime!) { productVariants(options: {filter: {createdAt: {before: $d}}}) { totalItems } }`, map[string]any{"d": "yesterday"},
			"DateTime must be an ISO 8601 date-time"},
		{admin, `{ productVariant(id: "12abc") { id } }`, nil, "12abc is not a valid ID"},
		{admin, `{ productVariant(id: "99999999999999999999") { id } }`, nil, "is not a valid ID"},
		{admin, `query($id: ID!) { productVariant(id: $id) { id } }`, map[string]any{"id": strings.Repeat("9", 3000)}, "the value is not a valid ID"},
		{admin, variantsQuery, map[string]any{"options": map[string]any{"sort": map[string]any{"price": "SIDEWAYS"}}}, ""},
		{admin, variantsQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"name": map[string]any{"contains": strings.Repeat("n", 256)}}}},
			"options.filter.name.contains must be at most 255 characters long"},
		{admin, variantsQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"sku": map[string]any{"in": make([]string, 1001)}}}},
			"options.filter.sku.in may hold at most 1000 values, got 1001"},
		{admin, `{ jobs(options: {filter: {queueName: {eq: "` + strings.Repeat("q", 300) + `"}}}) { totalItems } }`, nil,
			"options.filter.queueName.eq must be at most 255 characters long"},
		{shop, addItemMutation, map[string]any{"productVariantId": "1", "quantity": json.Number("2.5")}, ""},
		{shop, transitionMutation, map[string]any{"state": strings.Repeat("S", 65)}, "state must be at most 64 characters long"},
		{shop, addPaymentMutation, map[string]any{"input": map[string]any{"method": strings.Repeat("m", 256), "metadata": map[string]any{}}},
			"method must be at most 255 characters long"},
	} {
		r := tc.c.Do(tc.doc, tc.vars)
		require.NotEmpty(t, r.Errors, "%s", tc.doc)
		require.NotEqual(t, "INTERNAL_SERVER_ERROR", r.ErrorCode(), "%+v", r.Errors)
		requireNoGoText(t, r)
		if tc.msg != "" {
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%+v", r.Errors)
			require.Contains(t, r.Errors[0].Message, tc.msg)
		}
	}
}
