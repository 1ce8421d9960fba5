package e2e_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// The documents of a channel reader: what it may do, and what it may do
// only once its role is given more.
const (
	readChannel   = `query($id: ID!) { channel(id: $id) { id code } }`
	updateChannel = `mutation($id: ID!, $prices: Boolean!) { updateChannel(input: {id: $id, pricesIncludeTax: $prices}) { __typename } }`
)

// answers runs one request with the administrator's token and reports
// whether it was allowed (FORBIDDEN is not; anything else fails the test).
func answers(t *testing.T, c *testenv.Client, doc string, vars map[string]any) bool {
	t.Helper()
	r := c.Do(doc, vars)
	if len(r.Errors) > 0 {
		require.Equal(t, "FORBIDDEN", r.ErrorCode(), "%+v", r.Errors)
		return false
	}
	return true
}

// readsChannel reports whether the channel query returns the channel (a
// channel the caller may not read is null, not FORBIDDEN, once the guard
// has let it through).
func readsChannel(t *testing.T, c *testenv.Client, id string) bool {
	t.Helper()
	r := c.Do(readChannel, map[string]any{"id": id})
	if len(r.Errors) > 0 {
		require.Equal(t, "FORBIDDEN", r.ErrorCode(), "%+v", r.Errors)
		return false
	}
	return string(r.Data) != `{"channel":null}`
}

// channelTokens is what `me` says of the administrator's channels: their
// tokens, in order.
func channelTokens(t *testing.T, c *testenv.Client) []string {
	t.Helper()
	me := decodeMe(t, c.Do(meQuery, nil)).Me
	require.NotNil(t, me)
	tokens := []string{}
	for _, ch := range me.Channels {
		tokens = append(tokens, ch.Token)
	}
	return tokens
}

// An administrator's permissions change on its very next request, with the
// same token, after updateRole gives its role a permission or takes one
// away, moves the role to another channel, after a channel of its role
// changes or is deleted, and after deleteRole: each change clears the
// cached sessions when it commits. Before each change its session is
// answered from the cache, so the change, not a miss, is what it sees.
// (Vendure leaves a cached session's permissions as they were for up to
// sessionCacheTTL after a change of role assignments.)
func TestAccessChangesApplyOnTheNextRequest(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		super := e.asSuperAdmin(t)
		def := e.app.Channels.Default().ID.String()
		second, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "second", Token: "second-token"})
		require.NoError(t, err)
		r := super.Do(specCreateRole, roleInput(map[string]any{"code": "channel-reader", "description": "reads channels",
			"permissions": []string{"ReadChannel"}, "channelIds": []string{def}}))
		role := dataField[roleView](t, r, "createRole").ID
		e.newAdministrator(t, "reader@example.com", mustID(t, role))
		reader := e.admin(testenv.Bearer)
		asUserWithCredentials(t, reader, "reader@example.com", "test")
		token := reader.Token

		// fromCache makes a request of the reader's (after one that caches
		// its session, if the last change cleared it) and requires its
		// session to have come from the cache.
		fromCache := func(check func()) {
			t.Helper()
			reader.Do(meQuery, nil)
			e.takeCalls()
			check()
			calls := e.takeCalls()
			require.Positive(t, calls.Gets)
			require.Zero(t, calls.Sets, "the reader's session is answered from the cache")
		}
		change := func(doc string, vars map[string]any) {
			t.Helper()
			r := super.Do(doc, vars)
			require.Empty(t, r.Errors, "%+v", r.Errors)
		}

		require.True(t, readsChannel(t, reader, def))
		fromCache(func() {
			require.False(t, answers(t, reader, updateChannel, map[string]any{"id": def, "prices": true}))
		})

		change(specUpdateRole, roleInput(map[string]any{"id": role, "permissions": []string{"ReadChannel", "UpdateChannel"}}))
		require.True(t, answers(t, reader, updateChannel, map[string]any{"id": def, "prices": true}), "a permission added")
		fromCache(func() { require.True(t, readsChannel(t, reader, def)) })

		change(specUpdateRole, roleInput(map[string]any{"id": role, "permissions": []string{"ReadChannel"}}))
		require.False(t, answers(t, reader, updateChannel, map[string]any{"id": def, "prices": false}), "a permission taken away")

		fromCache(func() { require.Equal(t, []string{"e2e-default-channel"}, channelTokens(t, reader)) })
		change(specUpdateRole, roleInput(map[string]any{"id": role, "channelIds": []string{def, second.ID.String()}}))
		require.Equal(t, []string{"e2e-default-channel", "second-token"}, channelTokens(t, reader), "the role on a second channel")

		fromCache(func() { require.True(t, readsChannel(t, reader, second.ID.String())) })
		change(specUpdateChannel, map[string]any{"input": map[string]any{"id": second.ID.String(), "token": "renamed-token"}})
		require.Equal(t, []string{"e2e-default-channel", "renamed-token"}, channelTokens(t, reader), "a channel of the role changed")

		fromCache(func() { require.True(t, readsChannel(t, reader, second.ID.String())) })
		change(specDeleteChannel, map[string]any{"id": second.ID.String()})
		require.Equal(t, []string{"e2e-default-channel"}, channelTokens(t, reader), "a channel of the role deleted")

		fromCache(func() { require.True(t, readsChannel(t, reader, def)) })
		change(specDeleteRole, map[string]any{"id": role})
		require.False(t, readsChannel(t, reader, def), "the role deleted")
		require.Empty(t, channelTokens(t, reader), "still logged in, on no channel")
		require.Equal(t, token, reader.Token, "one token throughout")
	})
}

// The same on two instances sharing a database: every change is made on
// A, and the administrator's token is used on B. With Redis, B answers the
// very next request with the new permissions (A's commit cleared the shared
// cache); with redis+memory, the request after B applied A's announcement
// of the clear; with each instance's own memory cache, B follows within one
// round of its sync (a memory cache is for one instance).
func TestAccessChangesReachAnotherInstance(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{config.CacheRedis, config.CacheRedisMemory, config.CacheMemory} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			db := sharedDB(t)
			prefix := testenv.RandomPrefix()
			var a, b *instance
			if strategy == config.CacheMemory {
				a = newInstance(t, db, nil, prefix, withMemoryCache())
				b = newInstance(t, db, nil, prefix, withMemoryCache())
			} else {
				client, _ := testenv.Redis(t)
				a, b = newInstance(t, db, client, prefix, withStrategy(strategy)), newInstance(t, db, client, prefix, withStrategy(strategy))
			}
			// follow is what B needs before it answers with a change.
			follow := func() {}
			switch strategy {
			case config.CacheMemory:
				follow = func() { b.synced(t) }
			case config.CacheRedisMemory:
				follow = func() { b.flushed(t) }
			}
			def := a.app.Channels.Default().ID.String()

			super := a.admin(t, "")
			require.Equal(t, "CurrentUser", decodeLogin(t, super.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
			r := super.Do(specCreateRole, roleInput(map[string]any{"code": "channel-reader", "description": "reads channels",
				"permissions": []string{"ReadChannel"}, "channelIds": []string{def}}))
			role := dataField[roleView](t, r, "createRole").ID
			_, err := a.app.Users.CreateAdministrator(context.Background(), access.NewAdministrator{
				EmailAddress: "reader@example.com", Password: "test", RoleIDs: []entity.ID{mustID(t, role)},
			})
			require.NoError(t, err)
			login := a.admin(t, "")
			require.Equal(t, "CurrentUser", decodeLogin(t, login.Do(loginMutation, creds("reader@example.com", "test"))).Login.Typename)
			onB := b.admin(t, login.Token)
			change := func(doc string, vars map[string]any) {
				t.Helper()
				r := super.Do(doc, vars)
				require.Empty(t, r.Errors, "%+v", r.Errors)
				follow()
			}

			// B has the session cached.
			require.True(t, readsChannel(t, onB, def))
			require.False(t, answers(t, onB, updateChannel, map[string]any{"id": def, "prices": true}))

			change(specUpdateRole, roleInput(map[string]any{"id": role, "permissions": []string{"ReadChannel", "UpdateChannel"}}))
			require.True(t, answers(t, onB, updateChannel, map[string]any{"id": def, "prices": true}), "a permission added, on B")

			change(specUpdateRole, roleInput(map[string]any{"id": role, "permissions": []string{"ReadChannel"}}))
			require.False(t, answers(t, onB, updateChannel, map[string]any{"id": def, "prices": false}), "a permission taken away, on B")

			r = super.Do(specCreateChannel, map[string]any{"input": map[string]any{
				"code": "second", "token": "second-token", "defaultLanguageCode": "en", "currencyCode": "USD", "pricesIncludeTax": false,
				"defaultShippingZoneId": a.app.Channels.Default().DefaultTaxZoneID.String(), "defaultTaxZoneId": a.app.Channels.Default().DefaultTaxZoneID.String(),
			}})
			second := dataField[idOf](t, r, "createChannel").ID
			follow()
			change(specUpdateRole, roleInput(map[string]any{"id": role, "channelIds": []string{def, second}}))
			require.Equal(t, []string{"e2e-default-channel", "second-token"}, channelTokens(t, onB), "the role on a channel made on A, on B")
			require.True(t, readsChannel(t, onB, second))

			change(specUpdateChannel, map[string]any{"input": map[string]any{"id": second, "token": "renamed-token"}})
			require.Equal(t, []string{"e2e-default-channel", "renamed-token"}, channelTokens(t, onB), "a channel of the role changed, on B")

			change(specDeleteRole, map[string]any{"id": role})
			require.False(t, readsChannel(t, onB, def), "the role deleted, on B")
			require.Empty(t, channelTokens(t, onB), "still logged in, on no channel")
			require.Equal(t, login.Token, onB.Token, "one token throughout")
		})
	}
}
