package adminapi

import (
	"strconv"
	"unicode/utf8"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/service/catalog"
)

// supportedVariantFilters names the filters productVariants serves, as its
// refusals say.
const supportedVariantFilters = "id (eq, in), sku and name (eq, contains, in)"

// newProductVariants maps createProductVariants' input to the service's:
// the name is the translation in the channel's default language, else the
// first translation that gives one; the price is in the channel's default
// currency (Vendure's createProductVariants, which ignores other prices).
func newProductVariants(in []*model.CreateProductVariantInput, ch *entity.Channel) []catalog.NewProductVariant {
	out := make([]catalog.NewProductVariant, len(in))
	for i, v := range in {
		out[i] = catalog.NewProductVariant{SKU: v.Sku, Name: variantName(v.Translations, ch.DefaultLanguageCode), CurrencyCode: ch.DefaultCurrencyCode}
		if v.Price != nil {
			out[i].Price = *v.Price
		}
	}
	return out
}

func variantName(ts []*model.ProductVariantTranslationInput, lang entity.LanguageCode) string {
	first := ""
	for _, t := range ts {
		if t == nil || t.Name == nil || *t.Name == "" {
			continue
		}
		if t.LanguageCode == lang {
			return *t.Name
		}
		if first == "" {
			first = *t.Name
		}
	}
	return first
}

// variantListOptions translates Vendure's ProductVariantListOptions into
// the service's. Filters the service cannot express are refused with a
// USER_INPUT_ERROR naming them, as jobs' are: ignoring one would answer
// another question than the one asked. skip and take are checked by the
// service.
func variantListOptions(in *model.ProductVariantListOptions) (catalog.ProductVariantListOptions, error) {
	var out catalog.ProductVariantListOptions
	if in == nil {
		return out, nil
	}
	if in.Skip != nil {
		out.Skip = *in.Skip
	}
	if in.Take != nil {
		out.Take = *in.Take
	}
	if s := in.Sort; s != nil {
		for _, f := range []struct {
			field catalog.ProductVariantSortField
			order *model.SortOrder
		}{
			{catalog.SortByID, s.ID}, {catalog.SortByCreatedAt, s.CreatedAt}, {catalog.SortByUpdatedAt, s.UpdatedAt},
			{catalog.SortBySKU, s.Sku}, {catalog.SortByName, s.Name}, {catalog.SortByPrice, s.Price}, {catalog.SortByPrice, s.PriceWithTax},
		} {
			if f.order != nil {
				out.Sort = append(out.Sort, catalog.ProductVariantSort{Field: f.field, Desc: *f.order == model.SortOrderDesc})
			}
		}
	}
	out.Or = in.FilterOperator != nil && *in.FilterOperator == model.LogicalOperatorOr
	f := in.Filter
	if f == nil {
		return out, nil
	}
	if fields := setNames(
		flag{"createdAt", f.CreatedAt != nil}, flag{"updatedAt", f.UpdatedAt != nil}, flag{"price", f.Price != nil},
		flag{"currencyCode", f.CurrencyCode != nil}, flag{"priceWithTax", f.PriceWithTax != nil},
		flag{"_and", f.And != nil}, flag{"_or", f.Or != nil},
	); len(fields) > 0 {
		return out, inputError("options.filter.%s is not supported: product variants can be filtered by %s", fields[0], supportedVariantFilters)
	}
	if o := f.ID; o != nil {
		if ops := setNames(flag{"notEq", o.NotEq != nil}, flag{"notIn", o.NotIn != nil}, flag{"isNull", o.IsNull != nil}); len(ops) > 0 {
			return out, inputError("options.filter.id.%s is not supported: product variants can be filtered by %s", ops[0], supportedVariantFilters)
		}
		if len(o.In) > maxFilterValues {
			return out, inputError("options.filter.id.in may hold at most %d values, got %d", maxFilterValues, len(o.In))
		}
		out.IDs = variantIDs(o)
	}
	var err error
	if out.SKU, err = variantStringFilter("sku", f.Sku); err != nil {
		return out, err
	}
	out.Name, err = variantStringFilter("name", f.Name)
	return out, err
}

// variantIDs is the ids an IDOperators filter allows (eq and in combine
// with AND); an id that is not a number names no variant.
func variantIDs(o *model.IDOperators) []entity.ID {
	var eq, in []entity.ID
	if o.Eq != nil {
		eq = []entity.ID{}
		if n, err := strconv.ParseInt(*o.Eq, 10, 64); err == nil {
			eq = append(eq, entity.ID(n))
		}
	}
	if o.In != nil {
		in = []entity.ID{}
		for _, s := range o.In {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				in = append(in, entity.ID(n))
			}
		}
	}
	switch {
	case eq == nil:
		return in
	case in == nil:
		return eq
	}
	both := []entity.ID{}
	for _, id := range eq {
		for _, other := range in {
			if id == other {
				both = append(both, id)
			}
		}
	}
	return both
}

func variantStringFilter(field string, o *model.StringOperators) (*catalog.StringFilter, error) {
	if o == nil {
		return nil, nil
	}
	if ops := setNames(
		flag{"notEq", o.NotEq != nil}, flag{"notContains", o.NotContains != nil}, flag{"notIn", o.NotIn != nil},
		flag{"regex", o.Regex != nil}, flag{"isNull", o.IsNull != nil},
	); len(ops) > 0 {
		return nil, inputError("options.filter.%s.%s is not supported: product variants can be filtered by %s", field, ops[0], supportedVariantFilters)
	}
	if err := checkFilterValues("options.filter."+field, o); err != nil {
		return nil, err
	}
	return &catalog.StringFilter{Eq: o.Eq, Contains: o.Contains, In: o.In}, nil
}

// Bounds of a list filter's values: no SKU, name, queue name or state is
// longer than maxFilterValueLength characters (the columns' limit), and an
// "in" list holds at most maxFilterValues of them.
const (
	maxFilterValueLength = 255
	maxFilterValues      = 1000
)

// checkFilterValues refuses a StringOperators filter (at path) whose eq,
// contains or in values are longer than maxFilterValueLength, or whose in
// list holds more than maxFilterValues.
func checkFilterValues(path string, o *model.StringOperators) error {
	if len(o.In) > maxFilterValues {
		return inputError("%s.in may hold at most %d values, got %d", path, maxFilterValues, len(o.In))
	}
	for _, v := range []struct {
		op string
		s  *string
	}{{"eq", o.Eq}, {"contains", o.Contains}} {
		if v.s != nil && utf8.RuneCountInString(*v.s) > maxFilterValueLength {
			return inputError("%s.%s must be at most %d characters long", path, v.op, maxFilterValueLength)
		}
	}
	for _, s := range o.In {
		if utf8.RuneCountInString(s) > maxFilterValueLength {
			return inputError("%s.in: each value must be at most %d characters long", path, maxFilterValueLength)
		}
	}
	return nil
}
