package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Vendure auth.e2e-spec.ts 1–3 and 6, plus logout.
func TestAdminLoginMeLogout(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.admin(testenv.Bearer)

		// 1. Anonymous me is FORBIDDEN (and, me allowing Owner, it gets a guest session).
		r := admin.Do(meQuery, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, "FORBIDDEN", r.ErrorCode())
		require.Equal(t, "You are not currently authorized to perform this action", r.Errors[0].Message)
		require.Nil(t, decodeMe(t, r).Me)
		guest := admin.Token
		require.Regexp(t, `^[0-9a-f]{64}$`, guest)

		// 2. Login returns 200, CurrentUser and a new 64-hex token.
		r = admin.Do(loginMutation, map[string]any{"username": "superadmin", "password": "superadmin", "rememberMe": false})
		require.Equal(t, http.StatusOK, r.Status)
		require.Empty(t, r.Errors)
		login := decodeLogin(t, r).Login
		require.Equal(t, "CurrentUser", login.Typename)
		require.Equal(t, "superadmin", login.Identifier)
		require.Regexp(t, `^[0-9a-f]{64}$`, admin.Token)
		require.NotEqual(t, guest, admin.Token)

		// me returns the default channel with every assignable permission.
		r = admin.Do(meQuery, nil)
		require.Empty(t, r.Errors)
		me := decodeMe(t, r).Me
		require.NotNil(t, me)
		require.Equal(t, "superadmin", me.Identifier)
		require.Len(t, me.Channels, 1)
		require.Equal(t, "__default_channel__", me.Channels[0].Code)
		require.Equal(t, "e2e-default-channel", me.Channels[0].Token)
		want := []string{}
		for _, p := range auth.Assignable() {
			want = append(want, string(p))
		}
		require.Equal(t, want, me.Channels[0].Permissions)

		// Logout succeeds, clears the token, and the token stops working.
		old := admin.Token
		r = admin.Do(logoutMutation, nil)
		require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
		tok, present := r.TokenHeader()
		require.True(t, present)
		require.Empty(t, tok)
		admin.Token = old
		r = admin.Do(meQuery, nil)
		require.Equal(t, "FORBIDDEN", r.ErrorCode())
		require.NotEqual(t, old, admin.Token, "the dead token was replaced")
	})
}

// Wrong password and customer credentials on the Admin API.
func TestAdminInvalidCredentials(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		_, err := e.app.Users.CreateCustomer(context.Background(), access.NewCustomer{
			EmailAddress: "hayden@example.com", Password: "test", FirstName: "Hayden", LastName: "Z",
			Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
		admin := e.admin(testenv.Bearer)

		for _, c := range []map[string]any{creds("superadmin", "wrong"), creds("hayden@example.com", "test"), creds("nobody", "superadmin")} {
			r := admin.Do(loginMutation, c)
			require.Empty(t, r.Errors)
			l := decodeLogin(t, r).Login
			require.Equal(t, "InvalidCredentialsError", l.Typename, "%v", c)
			require.Equal(t, "INVALID_CREDENTIALS_ERROR", l.ErrorCode)
			require.Equal(t, "The provided credentials are invalid", l.Message)
			require.Equal(t, "", l.AuthenticationError)
			_, present := r.TokenHeader()
			require.False(t, present, "a failed login sends no token")
		}
	})
}

// Vendure auth.e2e-spec.ts 6: the same e-mail as administrator (password A)
// and customer (password C) are two users, each on its own API.
func TestSameEmailAdminAndCustomer(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		const email = "same@example.com"
		var superRole entity.Role
		require.NoError(t, e.db.NewSelect().Model(&superRole).Where("code = ?", entity.SuperAdminRoleCode).Scan(ctx))
		_, err := e.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
			EmailAddress: email, Password: "passwordA", FirstName: "A", LastName: "A", RoleIDs: []entity.ID{superRole.ID},
		})
		require.NoError(t, err)
		_, err = e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: email, Password: "passwordC", FirstName: "C", LastName: "C",
			Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)

		cases := []struct {
			admin   bool
			pass    string
			success bool
		}{{true, "passwordA", true}, {false, "passwordC", true}, {true, "passwordC", false}, {false, "passwordA", false}}
		for _, c := range cases {
			client := e.shop(testenv.Bearer)
			if c.admin {
				client = e.admin(testenv.Bearer)
			}
			l := decodeLogin(t, client.Do(loginMutation, creds(strings.ToUpper(email), c.pass))).Login
			if c.success {
				require.Equal(t, "CurrentUser", l.Typename, "%+v", c)
				require.Equal(t, email, l.Identifier)
			} else {
				require.Equal(t, "INVALID_CREDENTIALS_ERROR", l.ErrorCode, "%+v", c)
			}
		}
	})
}

// Shop login of a customer, me, activeCustomer, and NotVerifiedError.
func TestShopCustomerLogin(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		def := e.app.Channels.Default().ID
		_, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "verified@example.com", Password: "test", FirstName: "Vera", LastName: "Fied", Verified: true, ChannelIDs: []entity.ID{def},
		})
		require.NoError(t, err)
		_, err = e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "unverified@example.com", Password: "test", FirstName: "Un", LastName: "Verified", ChannelIDs: []entity.ID{def},
		})
		require.NoError(t, err)

		shop := e.shop(testenv.Bearer)
		l := decodeLogin(t, shop.Do(loginMutation, creds("unverified@example.com", "test"))).Login
		require.Equal(t, "NotVerifiedError", l.Typename)
		require.Equal(t, "NOT_VERIFIED_ERROR", l.ErrorCode)
		require.Equal(t, "Please verify this email address before logging in", l.Message)

		l = decodeLogin(t, shop.Do(loginMutation, creds("verified@example.com", "test"))).Login
		require.Equal(t, "CurrentUser", l.Typename)
		require.Len(t, l.Channels, 1)
		require.Equal(t, []string{"Authenticated"}, l.Channels[0].Permissions)

		r := shop.Do(`{ me { identifier } activeCustomer { firstName lastName emailAddress } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"me":{"identifier":"verified@example.com"},"activeCustomer":{"firstName":"Vera","lastName":"Fied","emailAddress":"verified@example.com"}}`, string(r.Data))

		// A customer token on the Admin API: admin me refuses it.
		admin := e.admin(testenv.Bearer)
		admin.Token = shop.Token
		r = admin.Do(meQuery, nil)
		require.Equal(t, "FORBIDDEN", r.ErrorCode())
	})
	t.Run("verification not required", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, backends()[0], withRequireVerification(false))
		_, err := e.app.Users.CreateCustomer(context.Background(), access.NewCustomer{
			EmailAddress: "unverified@example.com", Password: "test", ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
		l := decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds("Unverified@Example.com", "test"))).Login
		require.Equal(t, "CurrentUser", l.Typename)
		require.Equal(t, "unverified@example.com", l.Identifier)
	})
}

// authenticate(input: {native: ...}) is the same as login.
func TestAuthenticateNative(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	admin := e.admin(testenv.Bearer)
	r := admin.Do(authenticateMutation, map[string]any{"input": map[string]any{"native": creds("superadmin", "superadmin")}})
	require.Empty(t, r.Errors)
	require.JSONEq(t, `{"authenticate":{"__typename":"CurrentUser","id":"1","identifier":"superadmin"}}`, string(r.Data))
	require.NotEmpty(t, admin.Token)

	r = admin.Do(authenticateMutation, map[string]any{"input": map[string]any{"native": creds("superadmin", "x")}})
	require.JSONEq(t, `{"authenticate":{"__typename":"InvalidCredentialsError","errorCode":"INVALID_CREDENTIALS_ERROR","message":"The provided credentials are invalid"}}`, string(r.Data))
}

// An unknown token is cleared: an empty vendure-auth-token header and an
// expired cookie; a public field still answers.
func TestInvalidTokenIsCleared(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		shop := e.shop(testenv.Bearer)
		shop.Token = strings.Repeat("ab", 32)
		shop.Header = map[string]string{"Cookie": "session=" + strings.Repeat("cd", 32)}
		r := shop.Do(activeChannel, nil)
		require.Empty(t, r.Errors)
		tok, present := r.TokenHeader()
		require.True(t, present)
		require.Empty(t, tok)
		c := r.SessionCookie("session")
		require.NotNil(t, c, "the cookie is expired too")
		require.Equal(t, "", c.Value)
		require.Less(t, c.MaxAge, 0)
		require.Equal(t, "", shop.Token)
	})
}

// A field allowing Owner creates an anonymous session when there is none,
// with a 1-year cookie; one per request even with several Owner fields.
// With GUEST_SESSIONS=eager it is a row at once (Vendure); lazy (the
// default) writes none until the guest holds something (guest_test.go).
func TestOwnerFieldCreatesAnonymousSession(t *testing.T) {
	t.Parallel()
	for mode, rows := range map[string]int{config.GuestEager: 1, config.GuestLazy: 0} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ownerFieldCreatesAnonymousSession(t, mode, rows)
		})
	}
}

func ownerFieldCreatesAnonymousSession(t *testing.T, mode string, rows int) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withGuestSessions(mode))
		shop := e.shop(testenv.Bearer)
		r := shop.Do(`{ a: activeCustomer { id } b: activeCustomer { id } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"a":null,"b":null}`, string(r.Data))
		require.Regexp(t, `^[0-9a-f]{64}$`, shop.Token)
		c := r.SessionCookie("session")
		require.NotNil(t, c)
		require.Equal(t, shop.Token, c.Value)
		require.Equal(t, 31557600, c.MaxAge, "1 year")
		require.True(t, c.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, c.SameSite)

		n, err := e.db.NewSelect().Model((*entity.Session)(nil)).Where("type = ?", entity.SessionAnonymous).Count(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, rows, n, "one anonymous session per request; a row only when eager")

		// The guest keeps it: the next request sends no new token.
		r = shop.Do(`{ activeCustomer { id } }`, nil)
		_, present := r.TokenHeader()
		require.False(t, present)

		// A public field does not create a session.
		fresh := e.shop(testenv.Bearer)
		r = fresh.Do(activeChannel, nil)
		_, present = r.TokenHeader()
		require.False(t, present)
		require.Empty(t, fresh.Token)
	})
}

// Logging in as a guest with an active order: the guest's sessions holding
// that order are deleted and the new session carries it.
func TestLoginCarriesGuestActiveOrder(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		_, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "buyer@example.com", Password: "test", Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
		// A real guest cart: since orders exist, a session naming an order
		// that does not exist carries none (vendure#1454).
		v := seedVariants(t, e, 1)
		shop := e.shop(testenv.Bearer)
		cart := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		guestToken := shop.Token

		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("buyer@example.com", "test"))).Login.Typename)
		_, err = e.app.Sessions.GetSessionFromToken(ctx, guestToken)
		require.ErrorIs(t, err, outcome.ErrNotFound, "the guest session was deleted")
		s, err := e.app.Sessions.GetSessionFromToken(ctx, shop.Token)
		require.NoError(t, err)
		require.NotNil(t, s.ActiveOrderID)
		require.Equal(t, cart.ID, s.ActiveOrderID.String())
	})
}

// Logout ends only the session that logs out by default; with
// LOGOUT_SCOPE=all, every session of the user on every device (Vendure).
func TestLogoutScope(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, scope string
		laptopAlive bool
	}{{"all", "all", false}, {"session", "session", true}, {"default", "", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, backends()[0], func(cfg *config.Config) {
				if c.scope != "" { // "": the default
					cfg.LogoutScope = c.scope
				}
			})
			phone, laptop := e.admin(testenv.Bearer), e.admin(testenv.Bearer)
			phone.Do(loginMutation, creds("superadmin", "superadmin"))
			laptop.Do(loginMutation, creds("superadmin", "superadmin"))
			require.NotEqual(t, phone.Token, laptop.Token)

			r := phone.Do(logoutMutation, nil)
			require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
			r = laptop.Do(meQuery, nil)
			if c.laptopAlive {
				require.Empty(t, r.Errors)
			} else {
				require.Equal(t, "FORBIDDEN", r.ErrorCode())
			}
		})
	}
}
