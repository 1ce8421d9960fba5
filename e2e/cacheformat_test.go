package e2e_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// A rolling deploy of a release that adds a permission in the middle of
// Vendure's list: the old and the new build share the database and Redis.
// A reader (ReadProduct only) logs in on the new build, then sends a write
// to the old one. Read with the old build's list, the new build's entry
// would grant the permission after ReadProduct, UpdateProduct; each build
// must instead miss the other's entry and read the session from the
// database.
func TestRollingDeployGrantsNoShiftedPermission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sharedDB(t)
	client, _ := testenv.Redis(t)
	prefix := testenv.RandomPrefix()
	oldBuild := newInstance(t, db, client, prefix)
	newBuild := newInstanceWith(t, app.Options{
		DB: db, Redis: client, RedisKeyPrefix: prefix,
		RedisCodec: sessioncache.NewCodec(slices.Insert(auth.All(), 2, "ReadWidget")),
	})

	reader, err := oldBuild.app.Roles.Create(ctx, access.NewRole{
		Code: "reader", Description: "reader", Permissions: []auth.Permission{"ReadProduct"},
		ChannelIDs: []entity.ID{oldBuild.app.Channels.Default().ID},
	})
	require.NoError(t, err)
	_, err = oldBuild.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
		EmailAddress: "reader@example.com", Password: "test", RoleIDs: []entity.ID{reader.ID},
	})
	require.NoError(t, err)

	login := newBuild.admin(t, "")
	require.Equal(t, "CurrentUser", decodeLogin(t, login.Do(loginMutation, creds("reader@example.com", "test"))).Login.Typename)
	me := newBuild.admin(t, login.Token).Do(meQuery, nil)
	require.Empty(t, me.Errors)

	for _, in := range []*instance{oldBuild, newBuild, oldBuild} {
		c := in.admin(t, login.Token)
		r := c.Do(createVariantsMutation, map[string]any{"input": []any{variantInput("SHIFTED", "shifted", 1)}})
		require.Equal(t, "FORBIDDEN", r.ErrorCode(), "a reader wrote through another build's cache entry")
		r = c.Do(meQuery, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, string(me.Data), string(r.Data), "both builds see the same permissions")
		require.Empty(t, c.Do(variantsQuery, nil).Errors, "the reader still reads")
	}
}

// After a role change evicts a user's cached sessions, the user's next
// request reads the new permissions from the database and caches them, and
// the requests after it are served from the cache again, on every
// strategy: an eviction does not send every request of that user to the
// database until the cache TTL ends.
func TestRoleChangeIsCachedAgain(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		channel := []entity.ID{e.app.Channels.Default().ID}
		reader, err := e.app.Roles.Create(ctx, access.NewRole{Code: "reader", Description: "reader", Permissions: []auth.Permission{"ReadProduct"}, ChannelIDs: channel})
		require.NoError(t, err)
		writer, err := e.app.Roles.Create(ctx, access.NewRole{Code: "writer", Description: "writer", Permissions: []auth.Permission{"ReadProduct", "UpdateProduct"}, ChannelIDs: channel})
		require.NoError(t, err)
		adm, err := e.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
			EmailAddress: "editor@example.com", Password: "test", RoleIDs: []entity.ID{reader.ID},
		})
		require.NoError(t, err)

		c := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, c.Do(loginMutation, creds("editor@example.com", "test"))).Login.Typename)
		create := func(sku string) *testenv.Response {
			return c.Do(createVariantsMutation, map[string]any{"input": []any{variantInput(sku, sku, 1)}})
		}
		require.Equal(t, "FORBIDDEN", create("BEFORE").ErrorCode())

		require.NoError(t, e.app.Users.SetRoles(ctx, adm.UserID, []entity.ID{writer.ID}))
		e.takeCalls()
		require.Empty(t, create("AFTER").Errors, "the new role applies at once")
		calls := e.takeCalls()
		require.Equal(t, 1, calls.Sets, "the session read after the eviction is cached")

		for _, sku := range []string{"AGAIN-1", "AGAIN-2"} {
			require.Empty(t, create(sku).Errors)
			calls := e.takeCalls()
			require.Equal(t, 0, calls.Sets, "served from the cache")
		}
		require.NotNil(t, e.spy.Peek(ctx, session.HashToken(c.Token)), "the cache holds the session again")
	})
}
