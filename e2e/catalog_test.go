package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

const (
	createVariantsMutation = `mutation CreateProductVariants($input: [CreateProductVariantInput!]!) {
  createProductVariants(input: $input) { id name sku price priceWithTax currencyCode createdAt updatedAt }
}`
	variantsQuery = `query ProductVariants($options: ProductVariantListOptions) {
  productVariants(options: $options) { totalItems items { id sku name price priceWithTax currencyCode } }
}`
)

type variantResult struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	SKU          string `json:"sku"`
	Price        int64  `json:"price"`
	PriceWithTax int64  `json:"priceWithTax"`
	CurrencyCode string `json:"currencyCode"`
}

func variantInput(sku, name string, price any) map[string]any {
	in := map[string]any{
		"productId":    "1",
		"sku":          sku,
		"translations": []map[string]any{{"languageCode": "en", "name": name}},
	}
	if price != nil {
		in["price"] = price
	}
	return in
}

// The Admin API creates and lists product variants with Vendure's
// documents; the seeded samples are there from the first start.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)

		var list struct {
			ProductVariants struct {
				TotalItems int             `json:"totalItems"`
				Items      []variantResult `json:"items"`
			} `json:"productVariants"`
		}
		r := admin.Do(variantsQuery, map[string]any{"options": map[string]any{"take": 2}})
		require.Empty(t, r.Errors)
		r.Decode(t, &list)
		require.Equal(t, 6, list.ProductVariants.TotalItems)
		require.Equal(t, []variantResult{
			{ID: "1", SKU: "L2201308", Name: "Laptop 13 inch 8GB", Price: 129900, PriceWithTax: 129900, CurrencyCode: "USD"},
			{ID: "2", SKU: "L2201508", Name: "Laptop 15 inch 8GB", Price: 139900, PriceWithTax: 139900, CurrencyCode: "USD"},
		}, list.ProductVariants.Items)

		r = admin.Do(createVariantsMutation, map[string]any{"input": []map[string]any{
			variantInput("T-SHIRT-M", "T-Shirt M", 1999),
			{"sku": "MUG", "translations": []map[string]any{
				{"languageCode": "de", "name": "Tasse"}, {"languageCode": "en", "name": "Mug"},
			}},
		}})
		require.Empty(t, r.Errors)
		var created struct {
			CreateProductVariants []variantResult `json:"createProductVariants"`
		}
		r.Decode(t, &created)
		require.Equal(t, []variantResult{
			{ID: "7", SKU: "T-SHIRT-M", Name: "T-Shirt M", Price: 1999, PriceWithTax: 1999, CurrencyCode: "USD"},
			{ID: "8", SKU: "MUG", Name: "Mug", Price: 0, PriceWithTax: 0, CurrencyCode: "USD"},
		}, created.CreateProductVariants)

		r = admin.Do(`{ productVariant(id: "7") { id sku } missing: productVariant(id: "999") { id } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"productVariant":{"id":"7","sku":"T-SHIRT-M"},"missing":null}`, string(r.Data))

		r = admin.Do(variantsQuery, map[string]any{"options": map[string]any{
			"filter": map[string]any{"name": map[string]any{"contains": "shirt"}, "sku": map[string]any{"eq": "MUG"}},
			"sort":   map[string]any{"price": "DESC"}, "filterOperator": "OR",
		}})
		require.Empty(t, r.Errors)
		list.ProductVariants.Items = nil
		r.Decode(t, &list)
		require.Equal(t, 2, list.ProductVariants.TotalItems)
		require.Equal(t, "T-SHIRT-M", list.ProductVariants.Items[0].SKU)
		require.Equal(t, "MUG", list.ProductVariants.Items[1].SKU)

		// A channel in another currency prices its new variants in it.
		_, err := e.app.Channels.Create(context.Background(), access.NewChannel{Code: "euro", Token: "euro-token", DefaultCurrencyCode: "EUR"})
		require.NoError(t, err)
		admin.Channel = "euro-token"
		r = admin.Do(createVariantsMutation, map[string]any{"input": []map[string]any{variantInput("EURO-1", "Euro thing", 500)}})
		require.Empty(t, r.Errors)
		require.Contains(t, string(r.Data), `"currencyCode":"EUR"`)
	})
}

// Bad input is USER_INPUT_ERROR with a message saying what is wrong, and
// nothing of a refused call is kept.
func TestCatalogueRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	admin := e.admin(testenv.Bearer)
	admin.Do(loginMutation, creds("superadmin", "superadmin"))

	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		code  string
		msg   string
	}{
		{"EmptySKU", createVariantsMutation, map[string]any{"input": []any{variantInput("", "x", 1)}},
			"USER_INPUT_ERROR", "input[0]: the SKU must not be empty"},
		{"NoName", createVariantsMutation, map[string]any{"input": []any{variantInput("OK", "x", 1), map[string]any{"sku": "X", "translations": []any{}}}},
			"USER_INPUT_ERROR", "input[1]: the name must not be empty"},
		{"NegativePrice", createVariantsMutation, map[string]any{"input": []any{variantInput("X", "x", -5)}},
			"USER_INPUT_ERROR", "input[0]: the price must not be negative, got -5"},
		{"TakenSKU", createVariantsMutation, map[string]any{"input": []any{variantInput("OK", "x", 1), variantInput("C24F390", "x", 1)}},
			"USER_INPUT_ERROR", `input[1]: a product variant with the SKU "C24F390" already exists`},
		{"FractionalPrice", createVariantsMutation, map[string]any{"input": []any{variantInput("X", "x", 12.5)}},
			"", ""},
		{"TakeTooLarge", variantsQuery, map[string]any{"options": map[string]any{"take": 1001}},
			"USER_INPUT_ERROR", "Cannot take more than 1000 results from a list query"},
		{"UnsupportedFilter", variantsQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"price": map[string]any{"lt": 5}}}},
			"USER_INPUT_ERROR", "options.filter.price is not supported: product variants can be filtered by id (eq, in), sku and name (eq, contains, in)"},
		{"UnsupportedOperator", variantsQuery, map[string]any{"options": map[string]any{"filter": map[string]any{"sku": map[string]any{"regex": "^L"}}}},
			"USER_INPUT_ERROR", "options.filter.sku.regex is not supported: product variants can be filtered by id (eq, in), sku and name (eq, contains, in)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.Do(tc.query, tc.vars)
			require.Len(t, r.Errors, 1, "%s", r.Data)
			require.Equal(t, "null", strings.TrimSpace(string(r.Data)))
			if tc.code == "" {
				// Refused by the Money scalar before the resolver.
				require.NotEqual(t, "INTERNAL_SERVER_ERROR", r.ErrorCode())
				return
			}
			require.Equal(t, tc.code, r.ErrorCode())
			require.Contains(t, r.Errors[0].Message, tc.msg)
			require.NotContains(t, strings.ToLower(r.Errors[0].Message), "insert")
		})
	}
	n, err := e.db.NewSelect().Model((*entity.ProductVariant)(nil)).Count(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 6, n, "no variant of a refused call is kept")
}

// Vendure's permissions: reading needs ReadCatalog or ReadProduct,
// creating UpdateCatalog or UpdateProduct (Vendure's resolver, not Create*).
func TestCataloguePermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	ctx := context.Background()
	reader, err := e.app.Roles.Create(ctx, access.NewRole{
		Code: "reader", Description: "reader", Permissions: []auth.Permission{"ReadProduct"},
		ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
	})
	require.NoError(t, err)
	_, err = e.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
		EmailAddress: "reader@example.com", Password: "test", RoleIDs: []entity.ID{reader.ID},
	})
	require.NoError(t, err)

	anon := e.admin(testenv.Bearer)
	r := anon.Do(variantsQuery, nil)
	require.Equal(t, "FORBIDDEN", r.ErrorCode())

	admin := e.admin(testenv.Bearer)
	require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("reader@example.com", "test"))).Login.Typename)
	r = admin.Do(variantsQuery, nil)
	require.Empty(t, r.Errors)
	r = admin.Do(createVariantsMutation, map[string]any{"input": []any{variantInput("NEW", "new", 1)}})
	require.Equal(t, "FORBIDDEN", r.ErrorCode())
}

// Channel.defaultShippingZone and defaultTaxZone, as a storefront's root
// layout asks for them, on both APIs.
func TestChannelZones(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		const doc = `{ activeChannel { code defaultShippingZone { id name createdAt updatedAt } defaultTaxZone { id name } } }`
		zoneID := *e.app.Channels.Default().DefaultShippingZoneID

		shop := e.shop(testenv.Bearer)
		r := shop.Do(doc, nil)
		require.Empty(t, r.Errors)
		var got struct {
			ActiveChannel struct {
				Code                string `json:"code"`
				DefaultShippingZone struct {
					ID, Name, CreatedAt, UpdatedAt string
				} `json:"defaultShippingZone"`
				DefaultTaxZone struct{ ID, Name string } `json:"defaultTaxZone"`
			} `json:"activeChannel"`
		}
		r.Decode(t, &got)
		require.Equal(t, "__default_channel__", got.ActiveChannel.Code)
		require.Equal(t, toString(zoneID), got.ActiveChannel.DefaultShippingZone.ID)
		require.Equal(t, "Default Zone", got.ActiveChannel.DefaultShippingZone.Name)
		require.NotEmpty(t, got.ActiveChannel.DefaultShippingZone.CreatedAt)
		require.Equal(t, got.ActiveChannel.DefaultShippingZone.ID, got.ActiveChannel.DefaultTaxZone.ID)

		// A channel created later has them too.
		_, err := e.app.Channels.Create(context.Background(), access.NewChannel{Code: "second", Token: "second-token"})
		require.NoError(t, err)
		admin := e.admin(testenv.Bearer)
		admin.Do(loginMutation, creds("superadmin", "superadmin"))
		admin.Channel = "second-token"
		r = admin.Do(doc, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"activeChannel":{"code":"second","defaultShippingZone":{"id":"`+toString(zoneID)+`","name":"Default Zone","createdAt":"`+
			got.ActiveChannel.DefaultShippingZone.CreatedAt+`","updatedAt":"`+got.ActiveChannel.DefaultShippingZone.UpdatedAt+
			`"},"defaultTaxZone":{"id":"`+toString(zoneID)+`","name":"Default Zone"}}}`, string(r.Data))
	})
}
