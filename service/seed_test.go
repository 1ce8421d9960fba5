package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/seed"
)

func TestSeed(t *testing.T) {
	t.Parallel()

	type seedCounts struct {
		DefaultChannels, Roles, Superadmins, Administrators, SuperRoleChannels, CustomerRoleChannels int
	}
	countAll := func(t *testing.T, b *testBundle) seedCounts {
		t.Helper()
		count := func(q *bun.SelectQuery) int {
			n, err := q.Count(b.ctx)
			require.NoError(t, err)
			return int(n)
		}
		return seedCounts{
			DefaultChannels: count(b.db.NewSelect().Model((*entity.Channel)(nil)).Where("code = ?", entity.DefaultChannelCode)),
			Roles:           count(b.db.NewSelect().Model((*entity.Role)(nil))),
			Superadmins:     count(b.db.NewSelect().Model((*entity.User)(nil)).Where("identifier = ?", superadminLogin)),
			Administrators:  count(b.db.NewSelect().Model((*entity.Administrator)(nil))),
			SuperRoleChannels: count(b.db.NewSelect().Model((*entity.RoleChannel)(nil)).
				Where("role_id = ?", b.superRoleID)),
			CustomerRoleChannels: count(b.db.NewSelect().Model((*entity.RoleChannel)(nil)).
				Where("role_id = ?", b.customerRoleID)),
		}
	}
	role := func(t *testing.T, b *testBundle, id entity.ID) *entity.Role {
		t.Helper()
		r := new(entity.Role)
		require.NoError(t, b.db.NewSelect().Model(r).Where("id = ?", id).Scan(b.ctx))
		return r
	}
	defaultToken := func(t *testing.T, b *testBundle) string {
		t.Helper()
		var tok string
		require.NoError(t, b.db.NewSelect().Model((*entity.Channel)(nil)).Column("token").
			Where("code = ?", entity.DefaultChannelCode).Scan(b.ctx, &tok))
		return tok
	}

	t.Run("FirstRun", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			require.Equal(t, seedCounts{
				DefaultChannels: 1, Roles: 2, Superadmins: 1, Administrators: 1,
				SuperRoleChannels: 1, CustomerRoleChannels: 1,
			}, countAll(t, b))

			super := role(t, b, b.superRoleID)
			require.Equal(t, "SuperAdmin", super.Description)
			require.Equal(t, auth.Assignable(), toPermissions(super.Permissions))
			customer := role(t, b, b.customerRoleID)
			require.Equal(t, "Customer", customer.Description)
			require.Equal(t, entity.StringList{"Authenticated"}, customer.Permissions)

			u := b.userRow(t, b.superadminUserID)
			require.True(t, u.Verified)
			adm, err := b.users.ActiveAdministrator(b.ctx, b.superadminUserID)
			require.NoError(t, err)
			require.Equal(t, "superadmin", adm.EmailAddress)
			b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
		})
	})

	t.Run("Idempotent", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			want := countAll(t, b)
			for range 2 {
				b.clock.Advance(time.Hour)
				require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), seedConfig()))
			}
			require.Equal(t, want, countAll(t, b))
			require.Equal(t, testChannelToken, defaultToken(t, b))
		})
	})

	t.Run("DefaultChannelTokenChange", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cfg := seedConfig()
			cfg.DefaultChannelToken = "new-token"
			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), cfg))
			require.Equal(t, "new-token", defaultToken(t, b))

			// An empty token keeps the current one.
			cfg.DefaultChannelToken = ""
			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), cfg))
			require.Equal(t, "new-token", defaultToken(t, b))
			require.Equal(t, 1, countAll(t, b).DefaultChannels)
		})
	})

	t.Run("RandomTokenWhenNoneConfigured", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			cfg := seedConfig()
			cfg.DefaultChannelToken = ""
			require.NoError(t, seed.Seed(ctx, db, newHasher(t), testenv.NewClock().Now(), cfg))
			var tok string
			require.NoError(t, db.NewSelect().Model((*entity.Channel)(nil)).Column("token").
				Where("code = ?", entity.DefaultChannelCode).Scan(ctx, &tok))
			require.Regexp(t, `^[0-9a-f]{20}$`, tok)
			require.NoError(t, seed.Seed(ctx, db, newHasher(t), testenv.NewClock().Now(), cfg))
			var again string
			require.NoError(t, db.NewSelect().Model((*entity.Channel)(nil)).Column("token").
				Where("code = ?", entity.DefaultChannelCode).Scan(ctx, &again))
			require.Equal(t, tok, again)
		})
	})

	t.Run("SuperadminRoleResynced", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			_, err := b.db.NewUpdate().Model((*entity.Role)(nil)).Set("permissions = ?", entity.StringList{"Authenticated", "ReadCatalog"}).
				Where("id = ?", b.superRoleID).Exec(b.ctx)
			require.NoError(t, err)
			// A channel made behind the service's back, with no roles.
			now := b.clock.Now()
			_, err = b.db.NewInsert().Model(&entity.Channel{
				CreatedAt: now, UpdatedAt: now, Code: "raw", Token: "raw-token",
				DefaultLanguageCode: "en", AvailableLanguageCodes: entity.LanguageCodes{"en"},
				DefaultCurrencyCode: "USD", AvailableCurrencyCodes: entity.CurrencyCodes{"USD"},
			}).Exec(b.ctx)
			require.NoError(t, err)

			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, now, seedConfig()))
			require.Equal(t, auth.Assignable(), toPermissions(role(t, b, b.superRoleID).Permissions))
			require.Equal(t, 2, countAll(t, b).SuperRoleChannels, "SuperAdmin role on every channel")
			require.Equal(t, entity.StringList{"Authenticated"}, role(t, b, b.customerRoleID).Permissions)
		})
	})

	t.Run("SuperadminPasswordNotReset", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			cfg := seedConfig()
			cfg.SuperadminPassword = "changed-password"
			require.NoError(t, seed.Seed(b.ctx, b.db, b.hasher, b.clock.Now(), cfg))
			b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			require.Equal(t, 1, countAll(t, b).Superadmins)
		})
	})
}

func toPermissions(l entity.StringList) []auth.Permission {
	out := make([]auth.Permission, len(l))
	for i, p := range l {
		out[i] = auth.Permission(p)
	}
	return out
}
