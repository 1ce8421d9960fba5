package e2e_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// Vendure's channel.e2e-spec, in its order, with its documents and its
// answers, as far as this server has the operations (no products: the
// channel's sessions stand in for its products).
// One difference: Vendure checks a default language against its
// GlobalSettings, which this server does not have; here it must be one of
// the channel's availableLanguageCodes, so the first scenario names them.
func TestVendureChannelSpec(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		def := e.app.Channels.Default()
		_, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "hayden@example.com", Password: "test", Verified: true, ChannelIDs: []entity.ID{def.ID},
		})
		require.NoError(t, err)
		admin := e.asSuperAdmin(t)
		zone := def.DefaultTaxZoneID.String()
		input := func(extra map[string]any) map[string]any {
			in := map[string]any{
				"code": "second-channel", "token": "second_channel_token", "defaultLanguageCode": "en",
				"currencyCode": "GBP", "pricesIncludeTax": true, "defaultShippingZoneId": zone, "defaultTaxZoneId": zone,
			}
			for k, v := range extra {
				in[k] = v
			}
			return map[string]any{"input": in}
		}

		// createChannel returns error result defaultLanguageCode not available
		r := admin.Do(specCreateChannel, input(map[string]any{"defaultLanguageCode": "zh", "availableLanguageCodes": []string{"en"}}))
		requireData(t, r, `{"createChannel":{"errorCode":"LANGUAGE_NOT_AVAILABLE_ERROR","languageCode":"zh",
			"message":"Language \"zh\" is not available. First add it to the Channel's availableLanguageCodes and try again"}}`)

		// create a new Channel
		r = admin.Do(specCreateChannel, input(nil))
		second := dataField[idOf](t, r, "createChannel").ID
		requireData(t, r, fmt.Sprintf(`{"createChannel":{"id":%q,"code":"second-channel","token":"second_channel_token",
			"availableCurrencyCodes":["GBP"],"currencyCode":"GBP","defaultCurrencyCode":"GBP","defaultLanguageCode":"en",
			"defaultShippingZone":{"id":%q},"defaultTaxZone":{"id":%q},"pricesIncludeTax":true}}`, second, zone, zone))

		// superadmin has all permissions on new channel
		me := decodeMe(t, admin.Do(meQuery, nil)).Me
		require.Len(t, me.Channels, 2)
		require.Equal(t, "second_channel_token", me.Channels[1].Token)
		var all []string
		for _, p := range auth.Assignable() {
			all = append(all, string(p))
		}
		require.Equal(t, all, me.Channels[1].Permissions)

		// customer has Authenticated permission on new channel
		shop := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("hayden@example.com", "test"))).Login.Typename)
		r = shop.Do(`query Me { me { channels { code permissions token } } }`, nil)
		requireData(t, r, `{"me":{"channels":[
			{"code":"__default_channel__","permissions":["Authenticated"],"token":"e2e-default-channel"},
			{"code":"second-channel","permissions":["Authenticated"],"token":"second_channel_token"}]}}`)

		// createRole on second Channel
		r = admin.Do(specCreateRole, map[string]any{"input": map[string]any{
			"description": "second channel admin", "code": "second-channel-admin", "channelIds": []string{second},
			"permissions": []string{"ReadCatalog", "ReadSettings", "ReadAdministrator", "CreateAdministrator", "UpdateAdministrator"},
		}})
		role := dataField[struct {
			ID       string `json:"id"`
			Channels []any  `json:"channels"`
		}](t, r, "createRole")
		require.Equal(t, []any{map[string]any{"id": second, "code": "second-channel", "token": "second_channel_token"}}, role.Channels)
		roleID := mustID(t, role.ID)

		// createAdministrator with second-channel-admin role
		r = admin.Do(specCreateAdministrator, map[string]any{"input": map[string]any{
			"emailAddress": "admin2@test.com", "firstName": "Admin", "lastName": "Two", "password": "test", "roleIds": []string{roleID.String()},
		}})
		require.Equal(t, "admin2@test.com", dataField[map[string]any](t, r, "createAdministrator")["emailAddress"])

		// cannot create role on channel for which admin does not have
		// CreateAdministrator permission
		asUserWithCredentials(t, admin, "admin2@test.com", "test")
		require.Equal(t, "second_channel_token", admin.Channel, "the client adopts the token of the one channel")
		r = admin.Do(specCreateRole, map[string]any{"input": map[string]any{
			"description": "read default channel catalog", "code": "read default channel catalog",
			"channelIds": []string{def.ID.String()}, "permissions": []string{"ReadCatalog"},
		}})
		requireGraphQLError(t, r, "FORBIDDEN", "You are not currently authorized to perform this action")

		// can create role on channel for which admin has CreateAdministrator
		// permission
		r = admin.Do(specCreateRole, map[string]any{"input": map[string]any{
			"description": "read second channel catalog", "code": "read-second-channel-catalog",
			"channelIds": []string{second}, "permissions": []string{"ReadCatalog"},
		}})
		require.Equal(t, []any{map[string]any{"id": second, "code": "second-channel", "token": "second_channel_token"}},
			dataField[map[string]any](t, r, "createRole")["channels"])

		// createRole with no channelId implicitly uses active channel
		asUserWithCredentials(t, admin, "superadmin", "superadmin")
		r = admin.Do(specCreateRole, map[string]any{"input": map[string]any{
			"description": "update second channel catalog", "code": "update-second-channel-catalog", "permissions": []string{"UpdateCatalog"},
		}})
		require.Equal(t, []any{map[string]any{"id": second, "code": "second-channel", "token": "second_channel_token"}},
			dataField[map[string]any](t, r, "createRole")["channels"])

		// setting defaultLanguage: returns error result if languageCode not in
		// availableLanguages
		admin.Channel = "e2e-default-channel"
		r = admin.Do(specUpdateChannel, map[string]any{"input": map[string]any{"id": def.ID.String(), "defaultLanguageCode": "zh"}})
		requireData(t, r, `{"updateChannel":{"errorCode":"LANGUAGE_NOT_AVAILABLE_ERROR","languageCode":"zh",
			"message":"Language \"zh\" is not available. First add it to the Channel's availableLanguageCodes and try again"}}`)
		// allows setting to an available language (Vendure enables it in its
		// GlobalSettings; here the channel makes it available)
		r = admin.Do(specUpdateChannel, map[string]any{"input": map[string]any{
			"id": def.ID.String(), "defaultLanguageCode": "zh", "availableLanguageCodes": []string{"en", "zh"},
		}})
		require.Equal(t, "zh", dataField[map[string]any](t, r, "updateChannel")["defaultLanguageCode"])

		// deleteChannel: a session on the channel to be deleted is cleaned up
		// (the customer's, once its request on the channel made it active)
		shop.Channel = "second_channel_token"
		require.NotNil(t, decodeMe(t, shop.Do(meQuery, nil)).Me)
		requireData(t, admin.Do(specDeleteChannel, map[string]any{"id": second}), `{"deleteChannel":{"message":null,"result":"DELETED"}}`)
		requireData(t, admin.Do(specGetChannel, map[string]any{"id": second}), `{"channel":null}`)
		shop.Channel = ""
		requireGraphQLError(t, shop.Do(meQuery, nil), "FORBIDDEN", "You are not currently authorized to perform this action")

		// Fail to delete the default channel
		requireData(t, admin.Do(specDeleteChannel, map[string]any{"id": def.ID.String()}),
			`{"deleteChannel":{"result":"NOT_DELETED","message":"The default Channel cannot be deleted"}}`)

		// currencyCode support: initial currencyCode values
		r = admin.Do(specGetChannel, map[string]any{"id": def.ID.String()})
		require.Equal(t, "USD", dataField[map[string]any](t, r, "channel")["defaultCurrencyCode"])
		require.Equal(t, []any{"USD"}, dataField[map[string]any](t, r, "channel")["availableCurrencyCodes"])
		// setting defaultCurrencyCode adds it to availableCurrencyCodes
		r = admin.Do(specUpdateChannel, map[string]any{"input": map[string]any{"id": def.ID.String(), "defaultCurrencyCode": "MYR"}})
		got := dataField[map[string]any](t, r, "updateChannel")
		require.Equal(t, "MYR", got["defaultCurrencyCode"])
		require.Equal(t, "MYR", got["currencyCode"])
		require.Equal(t, []any{"USD", "MYR"}, got["availableCurrencyCodes"])
		// setting defaultCurrencyCode adds it to availableCurrencyCodes 2
		r = admin.Do(specUpdateChannel, map[string]any{"input": map[string]any{
			"id": def.ID.String(), "defaultCurrencyCode": "AUD", "availableCurrencyCodes": []string{"GBP"},
		}})
		got = dataField[map[string]any](t, r, "updateChannel")
		require.Equal(t, "AUD", got["defaultCurrencyCode"])
		require.Equal(t, []any{"GBP", "AUD"}, got["availableCurrencyCodes"])
		// cannot remove the defaultCurrencyCode from availableCurrencyCodes
		r = admin.Do(specUpdateChannel, map[string]any{"input": map[string]any{"id": def.ID.String(), "availableCurrencyCodes": []string{"GBP"}}})
		requireGraphQLError(t, r, "USER_INPUT_ERROR", "availableCurrencyCodes must include the defaultCurrencyCode (AUD)")
	})
}

// mustID parses an id the server sent.
func mustID(t *testing.T, s string) entity.ID {
	t.Helper()
	var id entity.ID
	_, err := fmt.Sscan(s, &id)
	require.NoError(t, err)
	return id
}

// The documents of the Admin UI's channel pages: the detail page reads,
// creates and updates a channel with its zones and seller (always null
// here), the list page deletes; the error union is read through the
// ErrorResult fragment.
func TestAdminUIChannelDocuments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		def := e.app.Channels.Default()
		zone := def.DefaultTaxZoneID.String()

		active := dataField[map[string]any](t, admin.Do(uiGetActiveChannel, nil), "activeChannel")
		require.Equal(t, map[string]any{"id": zone, "name": entity.DefaultZoneName}, active["defaultTaxZone"])
		require.Nil(t, active["seller"])
		require.Equal(t, active, dataField[map[string]any](t, admin.Do(uiGetChannelDetail, map[string]any{"id": def.ID.String()}), "channel"))

		in := map[string]any{
			"code": "eu", "token": "eu-token", "defaultLanguageCode": "de", "availableLanguageCodes": []string{"de", "fr"},
			"pricesIncludeTax": true, "defaultCurrencyCode": "EUR", "availableCurrencyCodes": []string{"EUR"},
			"outOfStockThreshold": 0, "trackInventory": true, "defaultTaxZoneId": zone, "defaultShippingZoneId": zone,
		}
		created := dataField[map[string]any](t, admin.Do(uiCreateChannel, map[string]any{"input": in}), "createChannel")
		id := created["id"].(string)
		require.Equal(t, "eu", created["code"])
		require.Equal(t, []any{"de", "fr"}, created["availableLanguageCodes"])
		require.Equal(t, map[string]any{"id": zone, "name": entity.DefaultZoneName}, created["defaultShippingZone"])
		require.Equal(t, created, dataField[map[string]any](t, admin.Do(uiGetChannelDetail, map[string]any{"id": id}), "channel"))

		in["token"], in["defaultLanguageCode"] = "other-token", "it"
		requireData(t, admin.Do(uiCreateChannel, map[string]any{"input": in}), `{"createChannel":{"errorCode":"LANGUAGE_NOT_AVAILABLE_ERROR",
			"message":"Language \"it\" is not available. First add it to the Channel's availableLanguageCodes and try again"}}`)
		in["defaultLanguageCode"] = "de"
		requireGraphQLError(t, admin.Do(uiCreateChannel, map[string]any{"input": in}), "USER_INPUT_ERROR",
			`a Channel with the code "eu" or the token "other-token" already exists`)
		in["code"], in["sellerId"] = "other", "1"
		requireGraphQLError(t, admin.Do(uiCreateChannel, map[string]any{"input": in}), "ENTITY_NOT_FOUND", `No Seller with the id "1" could be found`)
		delete(in, "sellerId")
		in["defaultTaxZoneId"] = "999999"
		requireGraphQLError(t, admin.Do(uiCreateChannel, map[string]any{"input": in}), "ENTITY_NOT_FOUND", `No Zone with the id "999999" could be found`)
		delete(in, "defaultCurrencyCode")
		in["defaultTaxZoneId"] = zone
		requireGraphQLError(t, admin.Do(uiCreateChannel, map[string]any{"input": in}), "USER_INPUT_ERROR",
			"Either a defaultCurrencyCode or currencyCode must be provided")

		updated := dataField[map[string]any](t, admin.Do(uiUpdateChannel, map[string]any{"input": map[string]any{
			"id": id, "code": "europe", "token": "europe-token", "pricesIncludeTax": false,
		}}), "updateChannel")
		require.Equal(t, "europe", updated["code"])
		require.Equal(t, false, updated["pricesIncludeTax"])
		require.Equal(t, []any{"de", "fr"}, updated["availableLanguageCodes"], "the rest is kept")
		requireData(t, admin.Do(uiUpdateChannel, map[string]any{"input": map[string]any{"id": id, "defaultLanguageCode": "it"}}),
			`{"updateChannel":{"errorCode":"LANGUAGE_NOT_AVAILABLE_ERROR",
			"message":"Language \"it\" is not available. First add it to the Channel's availableLanguageCodes and try again"}}`)
		requireGraphQLError(t, admin.Do(uiUpdateChannel, map[string]any{"input": map[string]any{"id": def.ID.String(), "code": "renamed"}}),
			"USER_INPUT_ERROR", "the default Channel's code cannot change")
		requireGraphQLError(t, admin.Do(uiUpdateChannel, map[string]any{"input": map[string]any{"id": "999999", "code": "x"}}),
			"ENTITY_NOT_FOUND", `No Channel with the id "999999" could be found`)

		// The new token selects the channel at once on this instance.
		shop := e.shop(testenv.Bearer)
		shop.Channel = "europe-token"
		requireData(t, shop.Do(`{ activeChannel { code } }`, nil), `{"activeChannel":{"code":"europe"}}`)

		requireData(t, admin.Do(uiDeleteChannel, map[string]any{"id": id}), `{"deleteChannel":{"result":"DELETED","message":null}}`)
		requireGraphQLError(t, admin.Do(uiDeleteChannel, map[string]any{"id": id}), "ENTITY_NOT_FOUND", fmt.Sprintf(`No Channel with the id %q could be found`, id))
		requireData(t, admin.Do(uiGetChannelDetail, map[string]any{"id": id}), `{"channel":null}`)
	})
}
