package app_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// startupWait bounds the start of all instances together; they migrate and
// seed one at a time.
const startupWait = 2 * time.Minute

// TestInstancesStartTogether: four instances started at the same moment on
// one empty database (each with its own connections, as four processes
// would have) all come up, migrating and seeding it once between them, and
// each serves: the seeded superadmin logs in on every one.
func TestInstancesStartTogether(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{database.SQLite, database.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			var url string
			switch dialect {
			case database.Postgres:
				if os.Getenv(testenv.PostgresURLEnv) == "" {
					t.Skipf("%s is not set", testenv.PostgresURLEnv)
				}
				url = testenv.EmptyPostgresURL(t)
			default:
				url = "sqlite://" + filepath.Join(t.TempDir(), "shared.db")
			}
			t.Parallel()
			cfg := config.Defaults()
			cfg.BcryptCost = 4
			cfg.DatabaseURL = url
			cfg.LogLevel = slog.LevelError
			// Four processes' writers queue on one SQLite file: a wait a
			// loaded machine meets (each statement's busy timeout is this).
			cfg.DBQueryTimeout = 30 * time.Second

			ctx, cancel := context.WithTimeout(t.Context(), startupWait)
			defer cancel()
			const n = 4
			apps := make([]*app.App, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					apps[i], errs[i] = app.New(ctx, cfg, app.Options{Logger: slog.New(slog.DiscardHandler)})
				})
			}
			wg.Wait()
			for i := range n {
				require.NoError(t, errs[i], "instance %d", i)
				t.Cleanup(func() { _ = apps[i].Close() })
			}

			for i, a := range apps {
				srv := httptest.NewServer(a.Handler())
				t.Cleanup(srv.Close)
				admin := testenv.NewClient(t, srv.URL+app.AdminPath, testenv.Bearer)
				r := admin.Do(`mutation { login(username: "superadmin", password: "superadmin") { __typename ... on CurrentUser { identifier } } }`, nil)
				require.Empty(t, r.Errors, "instance %d", i)
				require.JSONEq(t, `{"login":{"__typename":"CurrentUser","identifier":"superadmin"}}`, string(r.Data), "instance %d", i)
				shop := testenv.NewClient(t, srv.URL+app.ShopPath, testenv.Bearer)
				r = shop.Do(`{ activeChannel { code } }`, nil)
				require.Empty(t, r.Errors, "instance %d", i)
				require.JSONEq(t, `{"activeChannel":{"code":"__default_channel__"}}`, string(r.Data), "instance %d", i)
			}

			// Seeded once: one default channel, one superadmin.
			db := apps[0].DB
			var channels, admins int
			require.NoError(t, db.NewRaw(`SELECT count(*) FROM channel`).Scan(ctx, &channels))
			require.NoError(t, db.NewRaw(`SELECT count(*) FROM administrator`).Scan(ctx, &admins))
			require.Equal(t, 1, channels)
			require.Equal(t, 1, admins)
		})
	}
}
