package service_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/catalog"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/seed"
)

func newCatalog(t *testing.T, b *testBundle) *catalog.Service {
	t.Helper()
	c, err := catalog.New(catalog.Config{DB: b.db, NowFunc: b.clock.Now, MaxTake: 10})
	require.NoError(t, err)
	return c
}

func TestNewCatalogService(t *testing.T) {
	t.Parallel()
	_, err := catalog.New(catalog.Config{})
	require.EqualError(t, err, "catalog service: DB is required")
}

func TestCatalogService(t *testing.T) {
	t.Parallel()

	t.Run("SeededSamples", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			items, total, err := newCatalog(t, b).ListProductVariants(b.ctx, listquery.Options{})
			require.NoError(t, err)
			require.Equal(t, 6, total)
			require.Equal(t, "L2201308", items[0].SKU)
			require.Equal(t, "Laptop 13 inch 8GB", items[0].Name)
			require.EqualValues(t, 129900, items[0].Price)
			for _, v := range items {
				require.Equal(t, b.defaultChannel.DefaultCurrencyCode, v.CurrencyCode)
			}
		})
	})

	t.Run("SeedOnlyIntoAnEmptyCatalogue", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			_, err := b.db.NewDelete().Model((*entity.ProductVariant)(nil)).Where("sku <> ?", "C24F390").Exec(b.ctx)
			require.NoError(t, err)
			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), seedConfig()))
			n, err := b.db.NewSelect().Model((*entity.ProductVariant)(nil)).Count(b.ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
		})
	})

	t.Run("CreateAndGet", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			c := newCatalog(t, b)
			b.clock.Advance(time.Hour)
			got, err := c.CreateProductVariants(b.ctx, []catalog.NewProductVariant{
				{SKU: " A-1 ", Name: " Alpha ", Price: 1299, CurrencyCode: "EUR"},
				{SKU: "B-2", Name: "Beta", Price: 0, CurrencyCode: "USD"},
			})
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Equal(t, "A-1", got[0].SKU, "trimmed")
			require.Equal(t, "Alpha", got[0].Name)
			require.Equal(t, b.clock.Now().UTC(), got[0].CreatedAt)
			require.NotZero(t, got[0].ID)

			one, err := c.ProductVariant(b.ctx, got[0].ID)
			require.NoError(t, err)
			require.Equal(t, got[0].ID, one.ID)
			require.Equal(t, entity.CurrencyCode("EUR"), one.CurrencyCode)
			require.EqualValues(t, 1299, one.Price)

			_, err = c.ProductVariant(b.ctx, 999999)
			require.ErrorIs(t, err, outcome.ErrNotFound)

			empty, err := c.CreateProductVariants(b.ctx, nil)
			require.NoError(t, err)
			require.Empty(t, empty)
		})
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			c := newCatalog(t, b)
			ok := catalog.NewProductVariant{SKU: "OK-1", Name: "Fine", Price: 1, CurrencyCode: "USD"}
			cases := []struct {
				name string
				in   []catalog.NewProductVariant
				msg  string
			}{
				{"EmptySKU", []catalog.NewProductVariant{{SKU: "  ", Name: "x", CurrencyCode: "USD"}}, "invalid input: input[0]: the SKU must not be empty"},
				{"EmptyName", []catalog.NewProductVariant{ok, {SKU: "X", CurrencyCode: "USD"}}, "invalid input: input[1]: the name must not be empty"},
				{"NegativePrice", []catalog.NewProductVariant{{SKU: "X", Name: "x", Price: -1, CurrencyCode: "USD"}}, "invalid input: input[0]: the price must not be negative, got -1"},
				{"UnknownCurrency", []catalog.NewProductVariant{{SKU: "X", Name: "x", CurrencyCode: "XXX"}}, `invalid input: input[0]: "XXX" is not a CurrencyCode`},
				{"NoCurrency", []catalog.NewProductVariant{{SKU: "X", Name: "x"}}, `invalid input: input[0]: "" is not a CurrencyCode`},
				{"TakenSKU", []catalog.NewProductVariant{ok, {SKU: "L2201308", Name: "x", CurrencyCode: "USD"}}, `invalid input: input[1]: a product variant with the SKU "L2201308" already exists`},
				{"SKUTwiceInOneCall", []catalog.NewProductVariant{ok, ok}, `invalid input: input[1]: the SKU "OK-1" is also given to input[0]`},
				{"TooMany", make([]catalog.NewProductVariant, 11), "invalid input: at most 10 product variants can be created at once, got 11"},
			}
			for _, tc := range cases {
				_, err := c.CreateProductVariants(b.ctx, tc.in)
				require.ErrorIs(t, err, outcome.ErrInvalidInput, tc.name)
				require.EqualError(t, err, tc.msg, tc.name)
			}
			_, err := c.CreateProductVariants(b.ctx, []catalog.NewProductVariant{ok, {SKU: "L2201308", Name: "x", CurrencyCode: "USD"}})
			require.ErrorIs(t, err, outcome.ErrDuplicate)
			// All or nothing: the good variant of a refused call is not kept.
			_, total, err := c.ListProductVariants(b.ctx, listquery.Options{})
			require.NoError(t, err)
			require.Equal(t, 6, total)
		})
	})

	t.Run("ConcurrentSameSKU", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			c := newCatalog(t, b)
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = c.CreateProductVariants(b.ctx, []catalog.NewProductVariant{{SKU: "RACE", Name: "r", Price: 1, CurrencyCode: "USD"}})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
					continue
				}
				require.ErrorIs(t, err, outcome.ErrDuplicate)
			}
			require.Equal(t, 1, won)
		})
	})

	t.Run("List", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			c := newCatalog(t, b)
			str := func(s string) *string { return &s }
			n := func(i int) *int { return &i }
			list := func(opts listquery.Options) ([]string, int) {
				t.Helper()
				items, total, err := c.ListProductVariants(b.ctx, opts)
				require.NoError(t, err)
				skus := []string{}
				for _, v := range items {
					skus = append(skus, v.SKU)
				}
				return skus, total
			}
			by := func(op listquery.LogicalOperator, fields ...listquery.FieldFilter) listquery.Options {
				return listquery.Options{Filter: &listquery.Filter{Fields: fields}, FilterOperator: op}
			}
			text := func(field string, ops listquery.StringOperators) listquery.FieldFilter {
				return listquery.FieldFilter{Field: field, Ops: &ops}
			}
			skus, total := list(listquery.Options{Skip: n(1), Take: n(2)})
			require.Equal(t, []string{"L2201508", "L2201316"}, skus)
			require.Equal(t, 6, total)

			skus, _ = list(listquery.Options{Sort: []listquery.Sort{{Field: "price", Desc: true}}, Take: n(2)})
			require.Equal(t, []string{"L2201516", "L2201316"}, skus)

			skus, total = list(by("", text("name", listquery.StringOperators{Contains: str("MONITOR")})))
			require.Equal(t, []string{"C24F390", "C27F390"}, skus)
			require.Equal(t, 2, total)

			// LIKE's wildcards are taken literally.
			skus, _ = list(by("", text("name", listquery.StringOperators{Contains: str("%")})))
			require.Empty(t, skus)

			skus, _ = list(by(listquery.Or, text("sku", listquery.StringOperators{Eq: str("C24F390")}), text("name", listquery.StringOperators{In: []string{"Laptop 15 inch 8GB"}})))
			require.Equal(t, []string{"L2201508", "C24F390"}, skus)

			skus, _ = list(by("", text("sku", listquery.StringOperators{Eq: str("C24F390")}), text("name", listquery.StringOperators{In: []string{"Laptop 15 inch 8GB"}})))
			require.Empty(t, skus)

			skus, _ = list(by("", listquery.FieldFilter{Field: "id", Ops: &listquery.IDOperators{In: []string{}}}))
			require.Empty(t, skus)

			skus, _ = list(by("", listquery.FieldFilter{Field: "id", Ops: &listquery.IDOperators{Eq: str("2"), In: []string{"1", "2", "x"}}}))
			require.Equal(t, []string{"L2201508"}, skus, "eq and in combine with AND")

			for _, tc := range []struct {
				opts listquery.Options
				msg  string
			}{
				{listquery.Options{Skip: n(-1)}, "options.skip must not be negative, got -1"},
				{listquery.Options{Take: n(-1)}, "options.take must be between 0 and 10 (the maximum number of items that may be returned by a query), got -1"},
				{listquery.Options{Take: n(11)}, "options.take must be between 0 and 10 (the maximum number of items that may be returned by a query), got 11: Cannot take more than 10 results from a list query"},
				{by("", listquery.FieldFilter{Field: "price", Ops: &listquery.NumberOperators{}}), "options.filter.price is not supported: product variants can be filtered by id (eq, in), sku and name (eq, contains, in)"},
				{by("", text("sku", listquery.StringOperators{Regex: str("^L")})), "options.filter.sku.regex is not supported: product variants can be filtered by id (eq, in), sku and name (eq, contains, in)"},
			} {
				_, _, err := c.ListProductVariants(b.ctx, tc.opts)
				require.ErrorIs(t, err, listquery.ErrInvalid)
				require.EqualError(t, err, tc.msg)
			}
		})
	})
}

func TestZones(t *testing.T) {
	t.Parallel()

	zoneName := func(t *testing.T, b *testBundle, id *entity.ID) string {
		t.Helper()
		require.NotNil(t, id)
		var z entity.Zone
		require.NoError(t, b.db.NewSelect().Model(&z).Where("id = ?", *id).Scan(b.ctx))
		return z.Name
	}

	t.Run("DefaultChannelHasTheDefaultZone", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			ch := b.channels.Default()
			require.Equal(t, entity.DefaultZoneName, zoneName(t, b, ch.DefaultTaxZoneID))
			require.Equal(t, ch.DefaultTaxZoneID, ch.DefaultShippingZoneID)
			// The snapshot carries the zones themselves.
			require.NotNil(t, ch.DefaultTaxZone)
			require.Equal(t, entity.DefaultZoneName, ch.DefaultTaxZone.Name)
			require.Equal(t, *ch.DefaultTaxZoneID, ch.DefaultShippingZone.ID)

			// Seeding again changes nothing.
			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), seedConfig()))
			n, err := b.db.NewSelect().Model((*entity.Zone)(nil)).Count(b.ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
		})
	})

	t.Run("SeedKeepsZonesSetElsewhere", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()
			other := &entity.Zone{CreatedAt: now, UpdatedAt: now, Name: "Europe"}
			_, err := b.db.NewInsert().Model(other).Exec(b.ctx)
			require.NoError(t, err)
			_, err = b.db.NewUpdate().Model((*entity.Channel)(nil)).Set("default_shipping_zone_id = ?", other.ID).
				Set("default_tax_zone_id = NULL").Where("id = ?", b.defaultChannel.ID).Exec(b.ctx)
			require.NoError(t, err)

			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), seedConfig()))
			require.NoError(t, b.channels.Reload(b.ctx))
			ch := b.channels.Default()
			require.Equal(t, "Europe", ch.DefaultShippingZone.Name)
			require.Equal(t, entity.DefaultZoneName, ch.DefaultTaxZone.Name, "a missing zone is filled in")
		})
	})

	t.Run("NewChannelsTakeTheDefaultChannelsZones", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			ch := b.createChannel(t, "second")
			require.Equal(t, b.defaultChannel.DefaultTaxZoneID, ch.DefaultTaxZoneID)
			require.Equal(t, b.defaultChannel.DefaultShippingZoneID, ch.DefaultShippingZoneID)
			loaded, err := b.channels.ByID(ch.ID)
			require.NoError(t, err)
			require.Equal(t, entity.DefaultZoneName, loaded.DefaultShippingZone.Name)

			now := b.clock.Now()
			other := &entity.Zone{CreatedAt: now, UpdatedAt: now, Name: "Asia"}
			_, err = b.db.NewInsert().Model(other).Exec(b.ctx)
			require.NoError(t, err)
			third, err := b.channels.Create(b.ctx, access.NewChannel{Code: "third", DefaultTaxZoneID: &other.ID})
			require.NoError(t, err)
			require.Equal(t, "Asia", zoneName(t, b, third.DefaultTaxZoneID))
			require.Equal(t, entity.DefaultZoneName, zoneName(t, b, third.DefaultShippingZoneID))

			missing := entity.ID(999999)
			_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "fourth", DefaultShippingZoneID: &missing})
			var notFound *outcome.EntityNotFoundError
			require.ErrorAs(t, err, &notFound, "Vendure's ENTITY_NOT_FOUND")
			require.EqualError(t, err, fmt.Sprintf(`No Zone with the id "%d" could be found`, missing))
		})
	})
}
