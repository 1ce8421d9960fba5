package e2e_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// With one channel any token means the default channel; with several an
// unknown token is CHANNEL_NOT_FOUND (query parameter before header).
func TestChannelSelection(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		shop := e.shop(testenv.Bearer)
		shop.Channel = "no-such-channel"
		r := shop.Do(`{ activeChannel { code token } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"activeChannel":{"code":"__default_channel__","token":"e2e-default-channel"}}`, string(r.Data))

		// A second channel; the superadmin role reaches it at once (the cache was cleared).
		admin := e.admin(testenv.Bearer)
		admin.Do(loginMutation, creds("superadmin", "superadmin"))
		_, err := e.app.Channels.Create(context.Background(), access.NewChannel{Code: "second-channel", Token: "second-token", DefaultCurrencyCode: "EUR"})
		require.NoError(t, err)
		me := decodeMe(t, admin.Do(meQuery, nil)).Me
		require.NotNil(t, me)
		require.Len(t, me.Channels, 2)
		require.Equal(t, "second-channel", me.Channels[1].Code)
		require.NotContains(t, me.Channels[1].Permissions, "Owner")
		require.NotContains(t, me.Channels[1].Permissions, "Public")
		require.Contains(t, me.Channels[1].Permissions, "SuperAdmin")

		r = shop.Do(`{ activeChannel { code } }`, nil)
		require.Equal(t, "CHANNEL_NOT_FOUND", r.ErrorCode())
		require.Equal(t, `No Channel with the token "no-such-channel" could be found`, r.Errors[0].Message)

		shop.Channel = "second-token"
		r = shop.Do(`{ activeChannel { code defaultCurrencyCode } }`, nil)
		require.JSONEq(t, `{"activeChannel":{"code":"second-channel","defaultCurrencyCode":"EUR"}}`, string(r.Data))

		// The query parameter wins over the header.
		q := testenv.NewClient(t, e.srv.URL+"/shop-api?vendure-token=e2e-default-channel", testenv.Bearer)
		q.Channel = "second-token"
		r = q.Do(`{ activeChannel { code } }`, nil)
		require.JSONEq(t, `{"activeChannel":{"code":"__default_channel__"}}`, string(r.Data))
	})
}

// A session remembers the channel of its last request, and a logged-in
// customer becomes visible on a channel they use.
func TestActiveChannelFollowsRequests(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		second, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "second-channel", Token: "second-token"})
		require.NoError(t, err)
		cust, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "walker@example.com", Password: "test", Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)

		shop := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("walker@example.com", "test"))).Login.Typename)
		s, err := e.app.Sessions.GetSessionFromToken(ctx, shop.Token)
		require.NoError(t, err)
		require.Equal(t, e.app.Channels.Default().ID, *s.ActiveChannelID)

		shop.Channel = "second-token"
		r := shop.Do(`{ me { identifier channels { code } } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"me":{"identifier":"walker@example.com","channels":[{"code":"__default_channel__"},{"code":"second-channel"}]}}`, string(r.Data))
		s, err = e.app.Sessions.GetSessionFromToken(ctx, shop.Token)
		require.NoError(t, err)
		require.Equal(t, second.ID, *s.ActiveChannelID)

		n, err := e.db.NewSelect().Model((*entity.CustomerChannel)(nil)).
			Where("customer_id = ? AND channel_id = ?", cust.ID, second.ID).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
}

// currencyCode must be one of the channel's currencies (Vendure's
// USER_INPUT_ERROR); languageCode is taken as given.
func TestCurrencyCodeIsChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	ok := testenv.NewClient(t, e.srv.URL+"/shop-api?currencyCode=USD&languageCode=de", testenv.Bearer)
	r := ok.Do(activeChannel, nil)
	require.Empty(t, r.Errors)

	bad := testenv.NewClient(t, e.srv.URL+"/shop-api?currencyCode=XYZ", testenv.Bearer)
	r = bad.Do(activeChannel, nil)
	require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode())
	require.Equal(t, `The currency "XYZ" is not available in the current Channel`, r.Errors[0].Message)
}
