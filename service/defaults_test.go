package service_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/seed"
	"github.com/shopsession/sessionserver/service/session"
)

// Every constructor names all of its missing required fields at once.
func TestServiceConfigsRequireFields(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name    string
		build   func() error
		missing []string
	}{
		{"Session", func() error { _, err := session.New(session.Config{}); return err }, []string{"DB"}},
		{"Auth", func() error { _, err := account.NewAuthService(account.AuthConfig{}); return err }, []string{"DB", "Sessions", "Hasher"}},
		{"Channel", func() error { _, err := access.NewChannelService(access.ChannelConfig{}); return err }, []string{"DB", "Sessions"}},
		{"Role", func() error { _, err := access.NewRoleService(access.RoleConfig{}); return err }, []string{"DB"}},
		{"User", func() error { _, err := access.NewUserService(access.UserConfig{}); return err }, []string{"DB", "Sessions", "Hasher"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.build()
			require.Error(t, err)
			for _, field := range tc.missing {
				require.ErrorContains(t, err, field+" is required")
			}
		})
	}
}

// With only their required fields, the services work: the clock is
// time.Now, the access-change hook does nothing, the logger discards.
func TestServiceConfigDefaults(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		require.NoError(t, seed.Seed(ctx, db, newHasher(t), testenv.NewClock().Now(), seedConfig()))

		sessions, err := session.New(session.Config{DB: db})
		require.NoError(t, err)
		channels := newChannelService(t, access.ChannelConfig{DB: db, Sessions: sessions})
		ch, err := channels.Create(ctx, access.NewChannel{Code: "second"})
		require.NoError(t, err)
		require.False(t, ch.CreatedAt.IsZero())

		roles, err := access.NewRoleService(access.RoleConfig{DB: db})
		require.NoError(t, err)
		role, err := roles.Create(ctx, access.NewRole{Code: "r", Permissions: []auth.Permission{"ReadCatalog"}, ChannelIDs: []entity.ID{ch.ID}})
		require.NoError(t, err)
		require.False(t, role.CreatedAt.IsZero())

		users, err := access.NewUserService(access.UserConfig{DB: db, Sessions: sessions, Hasher: newHasher(t)})
		require.NoError(t, err)
		c, err := users.CreateCustomer(ctx, access.NewCustomer{EmailAddress: "c@example.com", ChannelIDs: []entity.ID{ch.ID}})
		require.NoError(t, err)
		require.False(t, c.CreatedAt.IsZero())
	})
}
