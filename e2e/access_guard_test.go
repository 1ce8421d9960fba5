package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// accessPermissions are the permissions the channel and role operations
// are guarded by.
var accessPermissions = []auth.Permission{
	"ReadSettings", "ReadChannel", "CreateChannel", "UpdateChannel", "DeleteChannel",
	"ReadAdministrator", "CreateAdministrator", "UpdateAdministrator", "DeleteAdministrator",
}

// accessOperation is one channel or role operation: its document and
// variables for a target made afresh, the permission it takes, and what its
// success looks like.
type accessOperation struct {
	name string
	perm auth.Permission
	// prepare makes the operation's target and returns its variables and
	// the channels (besides the default one) its permission is needed on.
	prepare func(t *testing.T, e *env) (vars map[string]any, on []entity.ID)
	doc     string
	// success checks the answer of a caller holding perm.
	success func(t *testing.T, r *testenv.Response)
}

func accessOperations() []accessOperation {
	none := func(vars map[string]any) func(*testing.T, *env) (map[string]any, []entity.ID) {
		return func(*testing.T, *env) (map[string]any, []entity.ID) { return vars, nil }
	}
	newChannel := func(t *testing.T, e *env) *entity.Channel {
		ch, err := e.app.Channels.Create(context.Background(), access.NewChannel{Code: "target-" + rand8(t)})
		require.NoError(t, err)
		return ch
	}
	newRole := func(t *testing.T, e *env) string {
		r, err := e.app.Roles.Create(context.Background(), access.NewRole{
			Code: "target-" + rand8(t), Description: "target", ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
		return r.ID.String()
	}
	typename := func(field, want string) func(*testing.T, *testenv.Response) {
		return func(t *testing.T, r *testenv.Response) {
			require.Equal(t, want, dataField[map[string]any](t, r, field)["__typename"], "%s", r.Data)
		}
	}
	deleted := func(field string) func(*testing.T, *testenv.Response) {
		return func(t *testing.T, r *testenv.Response) {
			requireData(t, r, fmt.Sprintf(`{%q:{"result":"DELETED"}}`, field))
		}
	}
	return []accessOperation{
		{
			name: "channel", perm: "ReadChannel", doc: `query($id: ID!) { channel(id: $id) { __typename } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				return map[string]any{"id": e.app.Channels.Default().ID.String()}, nil
			},
			success: typename("channel", "Channel"),
		},
		{
			name: "channel (ReadSettings)", perm: "ReadSettings", doc: `query($id: ID!) { channel(id: $id) { __typename } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				return map[string]any{"id": e.app.Channels.Default().ID.String()}, nil
			},
			success: typename("channel", "Channel"),
		},
		{
			name: "createChannel", perm: "CreateChannel",
			doc: `mutation($input: CreateChannelInput!) { createChannel(input: $input) { __typename } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				zone := e.app.Channels.Default().DefaultTaxZoneID.String()
				code := "new-" + rand8(t)
				return map[string]any{"input": map[string]any{"code": code, "token": code, "defaultLanguageCode": "en",
					"defaultCurrencyCode": "USD", "pricesIncludeTax": false, "defaultTaxZoneId": zone, "defaultShippingZoneId": zone}}, nil
			},
			success: typename("createChannel", "Channel"),
		},
		{
			name: "updateChannel", perm: "UpdateChannel",
			doc: `mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { __typename } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				ch := newChannel(t, e)
				return map[string]any{"input": map[string]any{"id": ch.ID.String(), "pricesIncludeTax": true}}, []entity.ID{ch.ID}
			},
			success: typename("updateChannel", "Channel"),
		},
		{
			name: "deleteChannel", perm: "DeleteChannel", doc: `mutation($id: ID!) { deleteChannel(id: $id) { result } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				ch := newChannel(t, e)
				return map[string]any{"id": ch.ID.String()}, []entity.ID{ch.ID}
			},
			success: deleted("deleteChannel"),
		},
		{
			name: "role", perm: "ReadAdministrator", doc: `query($id: ID!) { role(id: $id) { __typename } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				return map[string]any{"id": newRole(t, e)}, nil
			},
			success: typename("role", "Role"),
		},
		{
			name: "createRole", perm: "CreateAdministrator", doc: `mutation($input: CreateRoleInput!) { createRole(input: $input) { __typename } }`,
			prepare: none(map[string]any{"input": map[string]any{"code": "created", "description": "", "permissions": []string{}}}),
			success: typename("createRole", "Role"),
		},
		{
			name: "updateRole", perm: "UpdateAdministrator", doc: `mutation($input: UpdateRoleInput!) { updateRole(input: $input) { __typename } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				return map[string]any{"input": map[string]any{"id": newRole(t, e), "description": "changed"}}, nil
			},
			success: typename("updateRole", "Role"),
		},
		{
			name: "deleteRole", perm: "DeleteAdministrator", doc: `mutation($id: ID!) { deleteRole(id: $id) { result } }`,
			prepare: func(t *testing.T, e *env) (map[string]any, []entity.ID) {
				return map[string]any{"id": newRole(t, e)}, nil
			},
			success: deleted("deleteRole"),
		},
	}
}

// Every channel and role operation is FORBIDDEN without a session, for a
// customer, for an administrator holding every other permission of these
// operations, and for one holding its permission on another channel only;
// an administrator holding just its permission succeeds.
func TestChannelAndRoleOperationsPermissions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		def := e.app.Channels.Default().ID
		other, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "other", Token: "other-token"})
		require.NoError(t, err)
		_, err = e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "hayden@example.com", Password: "test", Verified: true, ChannelIDs: []entity.ID{def},
		})
		require.NoError(t, err)
		shop := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("hayden@example.com", "test"))).Login.Typename)

		// adminHolding logs in an administrator whose one role holds perms on
		// the channels.
		adminHolding := func(t *testing.T, perms []auth.Permission, channels ...entity.ID) *testenv.Client {
			code := rand8(t)
			role, err := e.app.Roles.Create(ctx, access.NewRole{Code: code, Description: code, Permissions: perms, ChannelIDs: channels})
			require.NoError(t, err)
			e.newAdministrator(t, code+"@example.com", role.ID)
			c := e.admin(testenv.Bearer)
			require.Equal(t, "CurrentUser", decodeLogin(t, c.Do(loginMutation, creds(code+"@example.com", "test"))).Login.Typename)
			return c
		}

		for _, op := range accessOperations() {
			t.Run(op.name, func(t *testing.T) {
				anonymous := e.admin(testenv.Bearer)
				customer := e.admin(testenv.Bearer)
				customer.Token = shop.Token
				others := slices.DeleteFunc(slices.Clone(accessPermissions), func(p auth.Permission) bool { return p == op.perm })
				if op.perm == "ReadSettings" || op.perm == "ReadChannel" {
					others = slices.DeleteFunc(others, func(p auth.Permission) bool { return p == "ReadSettings" || p == "ReadChannel" })
				}
				refused := map[string]*testenv.Client{
					"no session":                 anonymous,
					"customer":                   customer,
					"without the permission":     adminHolding(t, others, def),
					"with it on another channel": adminHolding(t, []auth.Permission{op.perm}, other.ID),
				}
				for who, c := range refused {
					t.Run(who, func(t *testing.T) {
						vars, _ := op.prepare(t, e)
						r := c.Do(op.doc, vars)
						requireGraphQLError(t, r, "FORBIDDEN", "You are not currently authorized to perform this action")
						require.Equal(t, []any{firstField(op.name)}, r.Errors[0].Path)
					})
				}
				vars, on := op.prepare(t, e)
				allowed := adminHolding(t, []auth.Permission{op.perm}, append([]entity.ID{def}, on...)...)
				op.success(t, allowed.Do(op.doc, vars))
			})
		}
	})
}

// firstField is the root field an operation's name starts with.
func firstField(name string) string {
	for i, c := range name {
		if c == ' ' {
			return name[:i]
		}
	}
	return name
}

// rand8 is a short random name.
func rand8(*testing.T) string { return strings.ToLower(rand.Text()[:8]) }

// A permission held on one channel does not reach another through a
// request made on the first (Vendure lets it): an administrator with
// ReadChannel, UpdateChannel and DeleteChannel on a second channel, asking
// on that channel, reads, changes and deletes it, and neither reads,
// changes nor deletes the default channel.
func TestPermissionOnAnotherChannelDoesNotReachThisOne(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		def := e.app.Channels.Default().ID.String()
		other, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "other", Token: "other-token"})
		require.NoError(t, err)
		role, err := e.app.Roles.Create(ctx, access.NewRole{Code: "other-admin", Description: "other",
			Permissions: []auth.Permission{"ReadChannel", "UpdateChannel", "DeleteChannel"}, ChannelIDs: []entity.ID{other.ID}})
		require.NoError(t, err)
		e.newAdministrator(t, "other@example.com", role.ID)
		c := e.admin(testenv.Bearer)
		asUserWithCredentials(t, c, "other@example.com", "test")
		require.Equal(t, "other-token", c.Channel)
		forbidden := "You are not currently authorized to perform this action"

		requireData(t, c.Do(specGetChannel, map[string]any{"id": def}), `{"channel":null}`)
		requireGraphQLError(t, c.Do(specUpdateChannel, map[string]any{"input": map[string]any{"id": def, "pricesIncludeTax": true}}), "FORBIDDEN", forbidden)
		requireGraphQLError(t, c.Do(specDeleteChannel, map[string]any{"id": def}), "FORBIDDEN", forbidden)

		require.Equal(t, "other", dataField[map[string]any](t, c.Do(specGetChannel, map[string]any{"id": other.ID.String()}), "channel")["code"])
		r := c.Do(specUpdateChannel, map[string]any{"input": map[string]any{"id": other.ID.String(), "pricesIncludeTax": true}})
		require.Equal(t, true, dataField[map[string]any](t, r, "updateChannel")["pricesIncludeTax"])
		requireData(t, c.Do(specDeleteChannel, map[string]any{"id": other.ID.String()}), `{"deleteChannel":{"message":null,"result":"DELETED"}}`)

		ch, err := e.app.Channels.ByID(e.app.Channels.Default().ID)
		require.NoError(t, err)
		require.False(t, ch.PricesIncludeTax, "the default channel is unchanged")
	})
}
