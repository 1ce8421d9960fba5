package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// Channel codes are Vendure's LanguageCode and CurrencyCode enums on the
// wire.
func TestChannelCodesAreEnums(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	r := e.shop(testenv.Bearer).Do(`{ activeChannel { defaultLanguageCode availableLanguageCodes currencyCode defaultCurrencyCode availableCurrencyCodes } }`, nil)
	require.Empty(t, r.Errors)
	require.JSONEq(t, `{"activeChannel":{"defaultLanguageCode":"en","availableLanguageCodes":["en"],
		"currencyCode":"USD","defaultCurrencyCode":"USD","availableCurrencyCodes":["USD"]}}`, string(r.Data))

	r = e.shop(testenv.Bearer).Do(`{ __type(name: "Channel") { fields(includeDeprecated: true) { name type { kind name ofType { kind name ofType { kind name } } } } } }`, nil)
	require.Empty(t, r.Errors)
	require.Contains(t, string(r.Data), `{"name":"defaultLanguageCode","type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"ENUM","name":"LanguageCode","ofType":null}}}`)
	require.Contains(t, string(r.Data), `{"name":"currencyCode","type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"ENUM","name":"CurrencyCode","ofType":null}}}`)
}

// The database stores codes as text, so a channel may hold one that
// Vendure's enums lack. Asking for it is an error at that field (logged,
// INTERNAL_SERVER_ERROR to the client), never the value itself, which a
// typed client could not decode; the channel's other fields still work.
func TestUnknownStoredCodeFailsItsField(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	ctx := context.Background()
	// ChannelService.Create refuses such a code, so the row is changed
	// behind its back, as an old or hand-edited database would hold it.
	ch, err := e.app.Channels.Create(ctx, access.NewChannel{
		Code: "legacy", Token: "legacy-token", DefaultLanguageCode: "en", DefaultCurrencyCode: "EUR",
	})
	require.NoError(t, err)
	_, err = e.db.NewUpdate().Table("channel").
		Set("default_language_code = ?", "klingon").
		Set("available_language_codes = ?", "klingon").
		Where("id = ?", ch.ID).Exec(ctx)
	require.NoError(t, err)
	require.NoError(t, e.app.Channels.Reload(ctx))
	shop := e.shop(testenv.Bearer)
	shop.Channel = "legacy-token"

	for _, field := range []string{"defaultLanguageCode", "availableLanguageCodes"} {
		r := shop.Do(`{ activeChannel { code `+field+` } }`, nil)
		require.Len(t, r.Errors, 1, field)
		require.Equal(t, "INTERNAL_SERVER_ERROR", r.ErrorCode(), field)
		require.Equal(t, []any{"activeChannel", field}, r.Errors[0].Path, field)
		require.NotContains(t, string(r.Data), "klingon", field)
	}

	r := shop.Do(`{ activeChannel { code defaultCurrencyCode availableCurrencyCodes } }`, nil)
	require.Empty(t, r.Errors)
	require.JSONEq(t, `{"activeChannel":{"code":"legacy","defaultCurrencyCode":"EUR","availableCurrencyCodes":["EUR"]}}`, string(r.Data))
}

// The transports answer with one JSON document, so @defer (incremental
// delivery) is not served: introspection does not list it, and a document
// using it is refused as Vendure refuses it, instead of answering in a
// shape the client did not ask for.
func TestDeferIsNotAdvertised(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	for _, c := range []*testenv.Client{e.shop(testenv.Bearer), e.admin(testenv.Bearer)} {
		r := c.Do(`{ __schema { directives { name } } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"__schema":{"directives":[{"name":"allow"},{"name":"deprecated"},{"name":"include"},
			{"name":"oneOf"},{"name":"skip"},{"name":"specifiedBy"}]}}`, string(r.Data))

		r = c.Do(`{ activeChannel { code ... @defer { token } } }`, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.ErrorCode())
		require.Equal(t, `Unknown directive "@defer".`, r.Errors[0].Message)
		require.NotContains(t, string(r.Data), "e2e-default-channel", "nothing ran")
	}
}
