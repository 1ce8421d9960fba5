package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

func TestChannelService(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	// otherInstance is a second ChannelService on the same database, as
	// another server process would have.
	otherInstance := func(t *testing.T, b *testBundle) *access.ChannelService {
		t.Helper()
		return newChannelService(t, access.ChannelConfig{DB: b.db, Sessions: b.sessions, NowFunc: b.clock.Now})
	}

	requireChannelNotFound := func(t *testing.T, err error, token string) {
		t.Helper()
		var notFound *outcome.ChannelNotFoundError
		require.ErrorAs(t, err, &notFound)
		require.Equal(t, token, notFound.Token)
	}

	t.Run("OneChannelAnyTokenIsDefault", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			for _, tok := range []string{"", testChannelToken, "x", "unknown-token"} {
				ch, err := b.channels.GetChannelFromToken(b.ctx, tok)
				require.NoError(t, err, tok)
				require.Equal(t, b.defaultChannel.ID, ch.ID, tok)
			}
		})
	})

	// A second channel with a taken code or token is refused with
	// ErrDuplicate, not a driver error, a code outside Vendure's enums with
	// ErrInvalidInput; neither changes anything.
	t.Run("CreateRefused", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createChannel(t, "second")
			hooks := b.hook.count()
			for _, in := range []access.NewChannel{
				{Code: "second", Token: "other-token"},
				{Code: "third", Token: "second-token"},
			} {
				_, err := b.channels.Create(b.ctx, in)
				require.ErrorIs(t, err, outcome.ErrDuplicate, "%+v", in)
			}
			require.Equal(t, hooks, b.hook.count(), "a refused create changes no access")
			for _, in := range []access.NewChannel{
				{Code: "third", DefaultLanguageCode: "klingon"},
				{Code: "third", DefaultCurrencyCode: "usd"},
			} {
				_, err := b.channels.Create(b.ctx, in)
				require.ErrorIs(t, err, outcome.ErrInvalidInput, "%+v", in)
			}
			third := b.createChannel(t, "third")
			require.Equal(t, "third", third.Code, "the refusal left the service usable")
		})
	})

	t.Run("SeveralChannels", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")

			ch, err := b.channels.GetChannelFromToken(b.ctx, "")
			require.NoError(t, err)
			require.Equal(t, b.defaultChannel.ID, ch.ID)
			ch, err = b.channels.GetChannelFromToken(b.ctx, testChannelToken)
			require.NoError(t, err)
			require.Equal(t, b.defaultChannel.ID, ch.ID)
			ch, err = b.channels.GetChannelFromToken(b.ctx, "second-token")
			require.NoError(t, err)
			require.Equal(t, second.ID, ch.ID)
			require.Equal(t, "second", ch.Code)

			ch, err = b.channels.GetChannelFromToken(b.ctx, "x")
			require.Nil(t, ch)
			requireChannelNotFound(t, err, "x")
			require.EqualError(t, err, `No Channel with the token "x" could be found`)

			got, err := b.channels.ByID(second.ID)
			require.NoError(t, err)
			require.Equal(t, "second-token", got.Token)
			_, err = b.channels.ByID(999999)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("ChannelOfAnotherInstanceFoundAfterReloadInterval", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createChannel(t, "second") // two channels: tokens are checked

			// An unknown token reloads the snapshot (the first time at once).
			_, err := b.channels.GetChannelFromToken(b.ctx, "nope")
			requireChannelNotFound(t, err, "nope")

			third, err := otherInstance(t, b).Create(b.ctx, access.NewChannel{Code: "third", Token: "third-token"})
			require.NoError(t, err)

			// Within the reload interval the snapshot is not re-read...
			b.clock.Advance(500 * time.Millisecond)
			_, err = b.channels.GetChannelFromToken(b.ctx, "third-token")
			requireChannelNotFound(t, err, "third-token")

			// ...after it, the unknown token triggers a reload and is found.
			b.clock.Advance(500 * time.Millisecond)
			ch, err := b.channels.GetChannelFromToken(b.ctx, "third-token")
			require.NoError(t, err)
			require.Equal(t, third.ID, ch.ID)
			got, err := b.channels.ByID(third.ID)
			require.NoError(t, err)
			require.Equal(t, "third", got.Code)
		})
	})

	t.Run("ChannelOfAnotherInstanceFoundBySingleChannelInstance", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			// This instance's snapshot holds only the default channel; another
			// instance creates a second one.
			second, err := otherInstance(t, b).Create(b.ctx, access.NewChannel{Code: "second", Token: "second-token"})
			require.NoError(t, err)

			b.clock.Advance(time.Minute)
			ch, err := b.channels.GetChannelFromToken(b.ctx, "second-token")
			require.NoError(t, err)
			require.Equal(t, second.ID, ch.ID)
		})
	})

	t.Run("CreateAttachesBuiltInRoles", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			ch, err := b.channels.Create(b.ctx, access.NewChannel{Code: "second"})
			require.NoError(t, err)
			require.NotZero(t, ch.ID)
			require.Regexp(t, `^[0-9a-f]{20}$`, ch.Token, "a random token when none is given")
			require.Equal(t, entity.LanguageCode("en"), ch.DefaultLanguageCode)
			require.Equal(t, entity.CurrencyCode("USD"), ch.DefaultCurrencyCode)

			var roleIDs []entity.ID
			require.NoError(t, b.db.NewSelect().Model((*entity.RoleChannel)(nil)).Column("role_id").
				Where("channel_id = ?", ch.ID).Order("role_id").Scan(b.ctx, &roleIDs))
			require.ElementsMatch(t, []entity.ID{b.superRoleID, b.customerRoleID}, roleIDs)

			// The snapshot already knows it.
			got, err := b.channels.GetChannelFromToken(b.ctx, ch.Token)
			require.NoError(t, err)
			require.Equal(t, ch.ID, got.ID)

			// The superadmin and customers get permissions on it.
			b.createCustomer(t, "c@example.com", "secret", true)
			customer := b.login(t, auth.ShopAPI, "c@example.com", "secret")
			require.Equal(t, []auth.Permission{auth.Authenticated}, customer.PermissionsOn(ch.ID).List())
			admin := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			require.Equal(t, auth.Assignable(), admin.PermissionsOn(ch.ID).List())

			_, err = b.channels.Create(b.ctx, access.NewChannel{})
			require.Error(t, err, "code is required")
		})
	})

	t.Run("HookRunsOnceAfterCommit", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			// The hook sees the committed state through another connection.
			var mu sync.Mutex
			var seen []string
			b.hook.setThen(func(context.Context) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				var tokens []string
				err := b.db.NewSelect().Model((*entity.Channel)(nil)).Column("token").
					Where("code = ?", "second").Scan(ctx, &tokens)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					seen = append(seen, "error: "+err.Error())
					return
				}
				if len(tokens) == 0 {
					seen = append(seen, "<none>")
					return
				}
				seen = append(seen, tokens[0])
			})
			seenNow := func() []string {
				mu.Lock()
				defer mu.Unlock()
				return append([]string(nil), seen...)
			}

			ch, err := b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: "t1"})
			require.NoError(t, err)
			require.Equal(t, 1, b.hook.count())
			require.Equal(t, []string{"t1"}, seenNow())

			ch.Token = "t2"
			require.NoError(t, b.channels.Update(b.ctx, ch))
			require.Equal(t, 2, b.hook.count())
			require.Equal(t, []string{"t1", "t2"}, seenNow())

			require.NoError(t, b.channels.Delete(b.ctx, ch.ID))
			require.Equal(t, 3, b.hook.count())
			require.Equal(t, []string{"t1", "t2", "<none>"}, seenNow())
		})
	})

	t.Run("HookNotCalledWhenTransactionFails", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			require.Equal(t, 1, b.hook.count())

			_, err := b.channels.Create(b.ctx, access.NewChannel{Code: "second", Token: "other"})
			require.Error(t, err, "duplicate code")
			_, err = b.channels.Create(b.ctx, access.NewChannel{Code: "third", Token: "second-token"})
			require.Error(t, err, "duplicate token")
			ctx, cancel := context.WithCancel(b.ctx)
			cancel()
			_, err = b.channels.Create(ctx, access.NewChannel{Code: "fourth"})
			require.Error(t, err, "cancelled context")

			dup := *second
			dup.Token = testChannelToken
			require.Error(t, b.channels.Update(b.ctx, &dup), "duplicate token")
			missing := *second
			missing.ID = 999999
			require.ErrorIs(t, b.channels.Update(b.ctx, &missing), outcome.ErrNotFound)
			require.ErrorIs(t, b.channels.Delete(b.ctx, 999999), outcome.ErrNotFound)

			require.Equal(t, 1, b.hook.count())
			n, err := b.db.NewSelect().Model((*entity.Channel)(nil)).Count(b.ctx)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			var tok string
			require.NoError(t, b.db.NewSelect().Model((*entity.Channel)(nil)).Column("token").
				Where("id = ?", second.ID).Scan(b.ctx, &tok))
			require.Equal(t, "second-token", tok)
		})
	})

	t.Run("UpdateChangesToken", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			b.clock.Advance(time.Minute)

			second.Token = "renamed"
			require.NoError(t, b.channels.Update(b.ctx, second))
			ch, err := b.channels.GetChannelFromToken(b.ctx, "renamed")
			require.NoError(t, err)
			require.Equal(t, second.ID, ch.ID)
			_, err = b.channels.GetChannelFromToken(b.ctx, "second-token")
			requireChannelNotFound(t, err, "second-token")

			row := new(entity.Channel)
			require.NoError(t, b.db.NewSelect().Model(row).Where("id = ?", second.ID).Scan(b.ctx))
			require.Equal(t, "renamed", row.Token)
			requireTimeEqual(t, b.clock.Now(), row.UpdatedAt)
		})
	})

	t.Run("DefaultChannelCodeCannotChange", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			ch := new(entity.Channel)
			require.NoError(t, b.db.NewSelect().Model(ch).Where("id = ?", b.defaultChannel.ID).Scan(b.ctx))
			ch.Code = "renamed"
			err := b.channels.Update(b.ctx, ch)
			require.ErrorIs(t, err, outcome.ErrInvalidInput)
			require.Zero(t, b.hook.count())
			var code string
			require.NoError(t, b.db.NewSelect().Model((*entity.Channel)(nil)).Column("code").
				Where("id = ?", b.defaultChannel.ID).Scan(b.ctx, &code))
			require.Equal(t, entity.DefaultChannelCode, code)
			newChannelService(t, access.ChannelConfig{DB: b.db, Sessions: b.sessions, NowFunc: b.clock.Now}) // Reload succeeds
		})
	})

	t.Run("DeleteRemovesSessionsOfTheChannel", func(t *testing.T) {
		// App wiring: the hook clears the session cache.
		eachDB(t, bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute, HookClearsCache: true}, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			onSecond, err := b.sessions.SetActiveChannel(b.ctx, b.anonymous(t), second.ID)
			require.NoError(t, err)
			adminOnSecond, err := b.sessions.SetActiveChannel(b.ctx, b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), second.ID)
			require.NoError(t, err)
			onDefault := b.anonymous(t)
			require.Equal(t, 3, b.mem.Len())
			b.cache.Reset()

			require.NoError(t, b.channels.Delete(b.ctx, second.ID))
			require.Equal(t, 2, b.hook.count(), "create + delete")
			require.Nil(t, b.sessionRow(t, onSecond.Token))
			require.Nil(t, b.sessionRow(t, adminOnSecond.Token))
			require.NotNil(t, b.sessionRow(t, onDefault.Token))
			require.Zero(t, b.mem.Len())
			require.Equal(t, 1, b.cache.Calls().Clears)

			for _, cs := range []string{onSecond.Token, adminOnSecond.Token} {
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs)
				require.ErrorIs(t, err, outcome.ErrNotFound)
			}
			_, err = b.sessions.GetSessionFromToken(b.ctx, onDefault.Token)
			require.NoError(t, err)

			_, err = b.channels.ByID(second.ID)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			n, err := b.db.NewSelect().Model((*entity.RoleChannel)(nil)).Where("channel_id = ?", second.ID).Count(b.ctx)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	})

	t.Run("DefaultChannelCannotBeDeleted", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			anon := b.anonymous(t)
			require.Error(t, b.channels.Delete(b.ctx, b.defaultChannel.ID))
			require.Zero(t, b.hook.count())
			require.NotNil(t, b.sessionRow(t, anon.Token))
			ch, err := b.channels.ByID(b.defaultChannel.ID)
			require.NoError(t, err)
			require.Equal(t, entity.DefaultChannelCode, ch.Code)
			n, err := b.db.NewSelect().Model((*entity.Channel)(nil)).Where("id = ?", b.defaultChannel.ID).Count(b.ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
		})
	})

	t.Run("ReloadRequiresDefaultChannel", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			sessions, err := session.New(session.Config{DB: db})
			require.NoError(t, err)
			s, err := access.NewChannelService(access.ChannelConfig{DB: db, Sessions: sessions})
			require.NoError(t, err)
			require.Error(t, s.Reload(context.Background()), "empty channel table")
		})
	})
}
