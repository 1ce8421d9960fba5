package entity_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
)

func TestCodeMarshal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	var buf bytes.Buffer
	require.NoError(t, entity.LanguageCode("zh_Hans").MarshalGQLContext(ctx, &buf))
	require.NoError(t, entity.CurrencyCode("EUR").MarshalGQLContext(ctx, &buf))
	require.NoError(t, entity.CurrencyCodes{"USD", "CHF"}.MarshalGQLContext(ctx, &buf))
	require.NoError(t, entity.LanguageCodes{}.MarshalGQLContext(ctx, &buf))
	require.Equal(t, `"zh_Hans""EUR"["USD","CHF"][]`, buf.String())

	// A value the enum lacks is an error naming it, and nothing is written:
	// gqlgen writes null in its place, so a partial value would corrupt the
	// response.
	buf.Reset()
	err := entity.LanguageCode("xx").MarshalGQLContext(ctx, &buf)
	require.EqualError(t, err, `stored value "xx" is not a LanguageCode`)
	err = entity.CurrencyCodes{"USD", "usd"}.MarshalGQLContext(ctx, &buf)
	require.EqualError(t, err, `stored value "usd" is not a CurrencyCode`)
	require.Empty(t, buf.String())
}

func TestCodeUnmarshal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	var c entity.CurrencyCode
	require.NoError(t, c.UnmarshalGQLContext(ctx, "JPY"))
	require.Equal(t, entity.CurrencyCode("JPY"), c)
	require.EqualError(t, c.UnmarshalGQLContext(ctx, "jpy"), "jpy is not a valid CurrencyCode")
	require.EqualError(t, c.UnmarshalGQLContext(ctx, 3), "3 is not a valid CurrencyCode")

	var l entity.LanguageCodes
	require.NoError(t, l.UnmarshalGQLContext(ctx, []any{"de", "de_AT"}))
	require.Equal(t, entity.LanguageCodes{"de", "de_AT"}, l)
	require.NoError(t, l.UnmarshalGQLContext(ctx, "fr"), "a single value is a list of one")
	require.Equal(t, entity.LanguageCodes{"fr"}, l)
	require.Error(t, l.UnmarshalGQLContext(ctx, []any{"de", "deutsch"}))
}

// The lists are stored like StringList: comma-separated text.
func TestCodeListStorage(t *testing.T) {
	t.Parallel()
	v, err := entity.CurrencyCodes{"EUR", "CHF"}.Value()
	require.NoError(t, err)
	require.Equal(t, "EUR,CHF", v)

	var l entity.CurrencyCodes
	require.NoError(t, l.Scan([]byte("EUR,CHF")))
	require.Equal(t, entity.CurrencyCodes{"EUR", "CHF"}, l)
	require.NoError(t, l.Scan(""))
	require.Equal(t, entity.CurrencyCodes{}, l)
	require.NoError(t, l.Scan(nil))
	require.Nil(t, l)
	require.Error(t, l.Scan(42))
}

func TestAllCodes(t *testing.T) {
	t.Parallel()
	langs, currencies := entity.AllLanguageCodes(), entity.AllCurrencyCodes()
	require.Len(t, langs, 157)
	require.Len(t, currencies, 157)
	for _, c := range langs {
		require.True(t, c.IsValid(), c)
	}
	for _, c := range currencies {
		require.True(t, c.IsValid(), c)
	}
	langs[0] = "changed"
	require.Equal(t, entity.LanguageCode("af"), entity.AllLanguageCodes()[0], "a copy")
}
