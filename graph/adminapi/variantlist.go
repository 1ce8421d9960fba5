package adminapi

import (
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/service/catalog"
)

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
