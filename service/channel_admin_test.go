package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
)

func ptr[T any](v T) *T { return &v }

func TestChannelServiceAs(t *testing.T) {
	t.Parallel()
	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	t.Run("CreateChecksLanguagesCurrenciesZones", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			hooks, channels := b.hook.count(), countRows(t, b, (*entity.Channel)(nil))

			_, err := b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: "second-token", DefaultLanguageCode: "zh",
				AvailableLanguageCodes: []entity.LanguageCode{"en"}})
			var lang *outcome.LanguageNotAvailableError
			require.ErrorAs(t, err, &lang)
			require.Equal(t, "zh", lang.LanguageCode)
			_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: "second-token", DefaultTaxZoneID: ptr(entity.ID(999999))})
			require.EqualError(t, err, `No Zone with the id "999999" could be found`)
			_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: "second-token", SellerID: ptr(entity.ID(1))})
			require.EqualError(t, err, `No Seller with the id "1" could be found`)
			_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "", Token: "second-token"})
			requireInputError(t, err, "a Channel's code must not be empty")
			_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: testChannelToken})
			require.ErrorIs(t, err, outcome.ErrDuplicate)
			requireInputError(t, err, `a Channel with the code "second" or the token "e2e-default-channel" already exists`)
			require.Equal(t, hooks, b.hook.count())
			require.Equal(t, channels, countRows(t, b, (*entity.Channel)(nil)))

			ch, err := b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: "second-token",
				DefaultLanguageCode: "de", AvailableLanguageCodes: []entity.LanguageCode{"en", "de"},
				DefaultCurrencyCode: "GBP", AvailableCurrencyCodes: []entity.CurrencyCode{"EUR"},
				TrackInventory: ptr(false), OutOfStockThreshold: ptr(int32(-5)), PricesIncludeTax: true})
			require.NoError(t, err)
			require.Equal(t, entity.LanguageCodes{"en", "de"}, ch.AvailableLanguageCodes)
			require.Equal(t, entity.CurrencyCodes{"EUR", "GBP"}, ch.AvailableCurrencyCodes, "the default currency is made available")
			require.False(t, ch.TrackInventory)
			require.EqualValues(t, -5, ch.OutOfStockThreshold)
			require.NotNil(t, ch.DefaultTaxZone, "returned with its zones")
			require.Equal(t, entity.DefaultZoneName, ch.DefaultShippingZone.Name)
		})
	})

	t.Run("FindAs", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			second := b.createChannel(t, "second").ID
			for _, p := range []auth.Permission{"ReadChannel", "ReadSettings"} {
				by := callerOn(second, grantsOf{second: {auth.Authenticated, p}})
				ch, err := b.channels.FindAs(b.ctx, by, second)
				require.NoError(t, err, p)
				require.Equal(t, "second", ch.Code)
				require.NotNil(t, ch.DefaultTaxZone)
				_, err = b.channels.FindAs(b.ctx, by, def)
				require.ErrorIs(t, err, outcome.ErrNotFound, "%s on another channel only", p)
			}
			_, err := b.channels.FindAs(b.ctx, callerOn(def, grantsOf{def: {auth.Authenticated, "ReadCatalog"}}), def)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	// Vendure's channel.e2e-spec: the default language must be available,
	// a new default currency becomes available, and the available
	// currencies must keep the default one.
	t.Run("UpdateAs", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			admin := access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: def}
			hooks := b.hook.count()

			_, err := b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, DefaultLanguageCode: ptr(entity.LanguageCode("zh"))})
			var lang *outcome.LanguageNotAvailableError
			require.ErrorAs(t, err, &lang)
			require.Equal(t, `Language "zh" is not available. First add it to the Channel's availableLanguageCodes and try again`, lang.Error())
			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, AvailableLanguageCodes: []entity.LanguageCode{"de"}})
			require.ErrorAs(t, err, &lang, "the default language stays available")
			require.Equal(t, hooks, b.hook.count())

			ch, err := b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, DefaultLanguageCode: ptr(entity.LanguageCode("zh")),
				AvailableLanguageCodes: []entity.LanguageCode{"en", "zh"}})
			require.NoError(t, err)
			require.Equal(t, entity.LanguageCode("zh"), ch.DefaultLanguageCode)

			ch, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, DefaultCurrencyCode: ptr(entity.CurrencyCode("MYR"))})
			require.NoError(t, err)
			require.Equal(t, entity.CurrencyCodes{"USD", "MYR"}, ch.AvailableCurrencyCodes)
			ch, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, DefaultCurrencyCode: ptr(entity.CurrencyCode("AUD")),
				AvailableCurrencyCodes: []entity.CurrencyCode{"GBP"}})
			require.NoError(t, err)
			require.Equal(t, entity.CurrencyCode("AUD"), ch.DefaultCurrencyCode)
			require.Equal(t, entity.CurrencyCodes{"GBP", "AUD"}, ch.AvailableCurrencyCodes)
			require.NotNil(t, ch.DefaultShippingZone, "returned with its zones")
			hooks = b.hook.count()

			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, AvailableCurrencyCodes: []entity.CurrencyCode{"GBP"}})
			requireInputError(t, err, "availableCurrencyCodes must include the defaultCurrencyCode (AUD)")
			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, Code: ptr("renamed")})
			requireInputError(t, err, "the default Channel's code cannot change")
			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, Token: ptr("")})
			requireInputError(t, err, "a Channel's token must not be empty")
			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: def, DefaultShippingZoneID: ptr(entity.ID(999999))})
			require.EqualError(t, err, `No Zone with the id "999999" could be found`)
			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: 999999, Token: ptr("x")})
			require.EqualError(t, err, `No Channel with the id "999999" could be found`)
			second := b.createChannel(t, "second")
			hooks = b.hook.count()
			// The session's permissions include the new channel from its next read.
			admin.Grants = b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			_, err = b.channels.UpdateAs(b.ctx, admin, access.ChannelChange{ID: second.ID, Token: ptr(testChannelToken)})
			require.ErrorIs(t, err, outcome.ErrDuplicate)
			require.Equal(t, hooks, b.hook.count(), "a refused update changes no access")

			row := new(entity.Channel)
			require.NoError(t, b.db.NewSelect().Model(row).Where("id = ?", def).Scan(b.ctx))
			require.Equal(t, entity.CurrencyCodes{"GBP", "AUD"}, row.AvailableCurrencyCodes)
			require.Equal(t, testChannelToken, row.Token)
		})
	})

	// The permission must be held on the channel changed, not only on the
	// channel of the request.
	t.Run("UpdateAndDeleteAsNeedThePermissionOnTheChannel", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			second := b.createChannel(t, "second")
			onSecond := callerOn(second.ID, grantsOf{second.ID: {auth.Authenticated, "UpdateChannel", "DeleteChannel"}})
			hooks := b.hook.count()

			_, err := b.channels.UpdateAs(b.ctx, onSecond, access.ChannelChange{ID: def, PricesIncludeTax: ptr(true)})
			require.ErrorIs(t, err, outcome.ErrForbidden)
			require.ErrorIs(t, b.channels.DeleteAs(b.ctx, onSecond, def), outcome.ErrForbidden)
			third := b.createChannel(t, "third")
			hooks = b.hook.count()
			require.ErrorIs(t, b.channels.DeleteAs(b.ctx, onSecond, third.ID), outcome.ErrForbidden)
			require.Equal(t, hooks, b.hook.count())

			ch, err := b.channels.UpdateAs(b.ctx, onSecond, access.ChannelChange{ID: second.ID, PricesIncludeTax: ptr(true)})
			require.NoError(t, err)
			require.True(t, ch.PricesIncludeTax)
			require.Equal(t, "second-token", ch.Token, "the rest is kept")
			require.NoError(t, b.channels.DeleteAs(b.ctx, onSecond, second.ID))
			_, err = b.channels.ByID(second.ID)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("DeleteAsRefusesTheDefaultChannel", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			admin := access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: def}
			err := b.channels.DeleteAs(b.ctx, admin, def)
			var notDeleted *outcome.NotDeletedError
			require.ErrorAs(t, err, &notDeleted)
			require.Equal(t, "The default Channel cannot be deleted", notDeleted.Error())
			require.EqualError(t, b.channels.DeleteAs(b.ctx, admin, 999999), `No Channel with the id "999999" could be found`)
			require.Zero(t, b.hook.count())
			_, err = b.channels.ByID(def)
			require.NoError(t, err)
		})
	})
}
