package migrations_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/migrations"
)

// models lists every bun model of package entity. The drift tests run on
// each of them.
var models = []any{
	(*entity.Channel)(nil),
	(*entity.Role)(nil),
	(*entity.RoleChannel)(nil),
	(*entity.User)(nil),
	(*entity.UserRole)(nil),
	(*entity.AuthenticationMethod)(nil),
	(*entity.Administrator)(nil),
	(*entity.Customer)(nil),
	(*entity.CustomerChannel)(nil),
	(*entity.Session)(nil),
	(*entity.SessionCacheOutbox)(nil),
	(*entity.ProductVariant)(nil),
	(*entity.Order)(nil),
	(*entity.OrderLine)(nil),
	(*entity.Zone)(nil),
	(*entity.CustomerToken)(nil),
}

func TestMigrationIDsMatchAcrossDialects(t *testing.T) {
	t.Parallel()

	type mig struct {
		Name, Comment string
		Up, Down      bool
	}
	list := func(dialect string) []mig {
		ms, err := migrations.For(dialect)
		require.NoError(t, err)
		var out []mig
		for _, m := range ms.Sorted() {
			out = append(out, mig{m.Name, m.Comment, m.Up != nil, m.Down != nil})
		}
		require.NotEmpty(t, out, dialect)
		return out
	}
	pg, lite := list(migrations.Postgres), list(migrations.SQLite)
	require.Equal(t, pg, lite, "postgres/ and sqlite/ must hold the same migrations")
	for _, m := range pg {
		require.True(t, m.Up && m.Down, "migration %s needs both up and down files", m.Name)
	}

	// Every file is transactional, except PostgreSQL's index builds on
	// hot tables (CREATE INDEX CONCURRENTLY cannot run in a transaction;
	// docs/migrations.md), and both folders hold the same migrations.
	names := func(dialect string) []string {
		fsys, err := migrations.Files(dialect)
		require.NoError(t, err)
		var out []string
		require.NoError(t, fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, path)
			}
			return err
		}))
		return out
	}
	withoutTx := func(files []string) []string {
		out := make([]string, len(files))
		for i, f := range files {
			out[i] = strings.Replace(f, ".tx.", ".", 1)
		}
		return out
	}
	pgFiles, liteFiles := names(migrations.Postgres), names(migrations.SQLite)
	require.Equal(t, withoutTx(pgFiles), withoutTx(liteFiles))
	for _, f := range liteFiles {
		require.Regexp(t, `^\d{14}_[a-z0-9_]+\.tx\.(up|down)\.sql$`, f)
	}
	pgFS, err := migrations.Files(migrations.Postgres)
	require.NoError(t, err)
	for _, f := range pgFiles {
		require.Regexp(t, `^\d{14}_[a-z0-9_]+(\.tx)?\.(up|down)\.sql$`, f)
		if strings.Contains(f, ".tx.") {
			continue
		}
		b, err := fs.ReadFile(pgFS, f)
		require.NoError(t, err)
		for _, stmt := range strings.Split(string(b), "--bun:split") {
			require.Regexp(t, `(?s)^(\s*--[^\n]*\n)*\s*(CREATE|DROP) INDEX CONCURRENTLY `, stmt, "%s: a migration outside a transaction builds or drops indexes concurrently, and does nothing else", f)
		}
	}
}

func TestForUnknownDialect(t *testing.T) {
	t.Parallel()
	_, err := migrations.For("mysql")
	require.Error(t, err)
}

// TestNoPlaceholdersInSQL guards against a question mark in a migration:
// bun would read it as a placeholder.
func TestNoPlaceholdersInSQL(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{migrations.Postgres, migrations.SQLite} {
		fsys, err := migrations.Files(dialect)
		require.NoError(t, err)
		require.NoError(t, fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, path)
			require.NoError(t, err)
			require.NotContains(t, string(b), "?", "%s/%s", dialect, path)
			return nil
		}))
	}
}

func TestDrift(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		requireSchemaMatchesModels(t, db)
	})
}

// requireSchemaMatchesModels selects every model from its table: a missing
// table or column fails; an empty table gives sql.ErrNoRows.
func requireSchemaMatchesModels(t *testing.T, db *bun.DB) {
	t.Helper()
	for _, model := range models {
		ptr := reflect.New(reflect.TypeOf(model).Elem()).Interface()
		err := db.NewSelect().Model(ptr).Limit(1).Scan(t.Context())
		require.ErrorIs(t, err, sql.ErrNoRows, "%T", model)
	}
}

func TestRoundTripModels(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		// Non-UTC locations and microseconds: the database must keep the
		// instant, whatever the zone it was written in.
		east := time.FixedZone("UTC+5:30", 5*3600+1800)
		t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
		t1 := time.Date(2026, 3, 4, 12, 0, 0, 500000000, east)
		t2 := time.Date(2027, 1, 1, 0, 0, 0, 1000, time.UTC)
		str := func(s string) *string { return &s }
		ptime := func(tm time.Time) *time.Time { return &tm }
		id := func(i entity.ID) *entity.ID { return &i }

		ch := &entity.Channel{
			CreatedAt: t0, UpdatedAt: t1,
			Code: "de-channel", Token: "de-token",
			DefaultLanguageCode:    "de",
			AvailableLanguageCodes: entity.LanguageCodes{"de", "en"},
			DefaultCurrencyCode:    "EUR",
			AvailableCurrencyCodes: entity.CurrencyCodes{"EUR", "CHF", "USD"},
			PricesIncludeTax:       true,
			TrackInventory:         true,
			OutOfStockThreshold:    -5,
		}
		roundTrip(t, db, ch, &entity.Channel{ID: insertID(t, db, ch, &ch.ID)})

		role := &entity.Role{
			CreatedAt: t0, UpdatedAt: t2, Code: "editor", Description: "Edits things",
			Permissions: entity.StringList{"Authenticated", "ReadCatalog", "UpdateCatalog"},
		}
		roundTrip(t, db, role, &entity.Role{ID: insertID(t, db, role, &role.ID)})

		rc := &entity.RoleChannel{RoleID: role.ID, ChannelID: ch.ID}
		insert(t, db, rc)
		roundTrip(t, db, rc, &entity.RoleChannel{RoleID: role.ID, ChannelID: ch.ID})

		user := &entity.User{
			CreatedAt: t0, UpdatedAt: t1, DeletedAt: ptime(t2),
			Identifier: "Alice@Example.com", Verified: true, LastLogin: ptime(t1),
		}
		roundTrip(t, db, user, &entity.User{ID: insertID(t, db, user, &user.ID)})
		bare := &entity.User{CreatedAt: t0, UpdatedAt: t0, Identifier: "alice@example.com"}
		roundTrip(t, db, bare, &entity.User{ID: insertID(t, db, bare, &bare.ID)})

		ur := &entity.UserRole{UserID: user.ID, RoleID: role.ID}
		insert(t, db, ur)
		roundTrip(t, db, ur, &entity.UserRole{UserID: user.ID, RoleID: role.ID})

		am := &entity.AuthenticationMethod{
			CreatedAt: t0, UpdatedAt: t1, UserID: user.ID, Type: entity.AuthMethodNative,
			Identifier: str("alice@example.com"), PasswordHash: str("$2a$12$abc"),
			Strategy: str("native"), ExternalIdentifier: str("ext-1"),
		}
		roundTrip(t, db, am, &entity.AuthenticationMethod{ID: insertID(t, db, am, &am.ID)})
		amBare := &entity.AuthenticationMethod{CreatedAt: t0, UpdatedAt: t0, UserID: user.ID, Type: entity.AuthMethodExternal}
		roundTrip(t, db, amBare, &entity.AuthenticationMethod{ID: insertID(t, db, amBare, &amBare.ID)})

		adm := &entity.Administrator{
			CreatedAt: t0, UpdatedAt: t1, DeletedAt: ptime(t2),
			FirstName: "Alice", LastName: "Admin", EmailAddress: "alice@example.com", UserID: user.ID,
		}
		roundTrip(t, db, adm, &entity.Administrator{ID: insertID(t, db, adm, &adm.ID)})

		cu := &entity.Customer{
			CreatedAt: t0, UpdatedAt: t1, DeletedAt: ptime(t2), Title: str("Dr."),
			FirstName: "Alice", LastName: "Customer", PhoneNumber: str("+49 30 1234"),
			EmailAddress: "alice@example.com", UserID: id(bare.ID),
		}
		roundTrip(t, db, cu, &entity.Customer{ID: insertID(t, db, cu, &cu.ID)})
		guest := &entity.Customer{CreatedAt: t0, UpdatedAt: t0, FirstName: "G", LastName: "Uest", EmailAddress: "g@example.com"}
		roundTrip(t, db, guest, &entity.Customer{ID: insertID(t, db, guest, &guest.ID)})

		tok := &entity.CustomerToken{CreatedAt: t0, UserID: bare.ID, Kind: entity.TokenPasswordReset, TokenHash: hash64("r"), Expires: t1}
		roundTrip(t, db, tok, &entity.CustomerToken{ID: insertID(t, db, tok, &tok.ID)})

		cc := &entity.CustomerChannel{CustomerID: cu.ID, ChannelID: ch.ID}
		insert(t, db, cc)
		roundTrip(t, db, cc, &entity.CustomerChannel{CustomerID: cu.ID, ChannelID: ch.ID})

		auth := &entity.Session{
			CreatedAt: t0, UpdatedAt: t1, TokenHash: hash64("a"), Type: entity.SessionAuthenticated,
			Expires: t2, Invalidated: true, ActiveOrderID: id(42), ActiveChannelID: id(ch.ID),
			UserID: id(user.ID), AuthenticationStrategy: str("native"),
		}
		roundTrip(t, db, auth, &entity.Session{ID: insertID(t, db, auth, &auth.ID)})
		anon := &entity.Session{
			CreatedAt: t0, UpdatedAt: t0, TokenHash: hash64("b"), Type: entity.SessionAnonymous, Expires: t1,
		}
		roundTrip(t, db, anon, &entity.Session{ID: insertID(t, db, anon, &anon.ID)})

		// The invalidated column defaults to false when a raw insert omits it.
		_, err := db.NewRaw(`INSERT INTO session (created_at, updated_at, token_hash, type, expires)
			VALUES (?, ?, ?, ?, ?)`, t0, t0, hash64("c"), entity.SessionAnonymous, t0).Exec(ctx)
		require.NoError(t, err)
		var got entity.Session
		require.NoError(t, db.NewSelect().Model(&got).Where("token_hash = ?", hash64("c")).Scan(ctx))
		require.False(t, got.Invalidated)
	})
}

func TestSessionTypeCheck(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		s := &entity.Session{TokenHash: hash64("x"), Type: "AnonymousSession", Expires: time.Now()}
		_, err := db.NewInsert().Model(s).Exec(t.Context())
		require.Error(t, err)
	})
}

// TestCascades checks the ON DELETE rules, which on SQLite only hold with
// PRAGMA foreign_keys=1.
func TestCascades(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

		ch1, ch2 := newChannel(t, db, "c1"), newChannel(t, db, "c2")
		u1, u2 := newUser(t, db, "u1"), newUser(t, db, "u2")
		sess := func(tok string, user, channel entity.ID) *entity.Session {
			s := &entity.Session{CreatedAt: now, UpdatedAt: now, TokenHash: hash64(tok), Type: entity.SessionAnonymous, Expires: now}
			if user != 0 {
				s.Type, s.UserID = entity.SessionAuthenticated, &user
			}
			if channel != 0 {
				s.ActiveChannelID = &channel
			}
			insert(t, db, s)
			return s
		}
		userAndChannel := sess("1", u1, ch1)
		userOnly := sess("2", u1, 0)
		channelOnly := sess("3", 0, ch1)
		other := sess("4", u2, ch2)

		role := &entity.Role{CreatedAt: now, UpdatedAt: now, Code: "r", Permissions: entity.StringList{"Authenticated"}}
		insert(t, db, role)
		insert(t, db, &entity.RoleChannel{RoleID: role.ID, ChannelID: ch1})
		insert(t, db, &entity.UserRole{UserID: u1, RoleID: role.ID})
		insert(t, db, &entity.AuthenticationMethod{CreatedAt: now, UpdatedAt: now, UserID: u1, Type: entity.AuthMethodNative})
		insert(t, db, &entity.Administrator{CreatedAt: now, UpdatedAt: now, UserID: u1})
		cu := &entity.Customer{CreatedAt: now, UpdatedAt: now, UserID: &u1}
		insert(t, db, cu)
		insert(t, db, &entity.CustomerChannel{CustomerID: cu.ID, ChannelID: ch1})
		insert(t, db, &entity.CustomerToken{CreatedAt: now, UserID: u1, Kind: entity.TokenVerification, TokenHash: hash64("v"), Expires: now})

		// A session may not point at a missing user or channel.
		missing := entity.ID(999999)
		_, err := db.NewInsert().Model(&entity.Session{TokenHash: hash64("5"), Type: entity.SessionAuthenticated, UserID: &missing}).Exec(ctx)
		require.Error(t, err, "foreign key on session.user_id")
		_, err = db.NewInsert().Model(&entity.Session{TokenHash: hash64("6"), Type: entity.SessionAnonymous, ActiveChannelID: &missing}).Exec(ctx)
		require.Error(t, err, "foreign key on session.active_channel_id")

		_, err = db.NewDelete().Model((*entity.User)(nil)).Where("id = ?", u1).Exec(ctx)
		require.NoError(t, err)
		ids := sessionIDs(t, db)
		require.NotContains(t, ids, userAndChannel.ID)
		require.NotContains(t, ids, userOnly.ID)
		require.Equal(t, []entity.ID{channelOnly.ID, other.ID}, ids)
		requireCount(t, db, (*entity.UserRole)(nil), 0)
		requireCount(t, db, (*entity.AuthenticationMethod)(nil), 0)
		requireCount(t, db, (*entity.Administrator)(nil), 0)
		requireCount(t, db, (*entity.CustomerToken)(nil), 0)
		var gotCu entity.Customer
		require.NoError(t, db.NewSelect().Model(&gotCu).Where("id = ?", cu.ID).Scan(ctx))
		require.Nil(t, gotCu.UserID, "customer outlives its user")

		_, err = db.NewDelete().Model((*entity.Channel)(nil)).Where("id = ?", ch1).Exec(ctx)
		require.NoError(t, err)
		require.Equal(t, []entity.ID{other.ID}, sessionIDs(t, db))
		requireCount(t, db, (*entity.RoleChannel)(nil), 0)
		requireCount(t, db, (*entity.CustomerChannel)(nil), 0)

	})
}

// TestTimeComparison checks that comparing a timestamp column with a
// time.Time argument in SQL orders instants as Go does, on both dialects.
// On SQLite timestamps are text, so this holds only because bun writes every
// time.Time as UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00' with trailing
// fractional zeros trimmed: the terminator '+' sorts below '.' and every
// digit, so text order equals time order.
func TestTimeComparison(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	east := time.FixedZone("UTC+5", 5*3600)
	west := time.FixedZone("UTC-8", -8*3600)
	// Deliberately not in order; microsecond precision, as both databases
	// store.
	values := []time.Time{
		base.Add(500 * time.Millisecond),
		base,
		base.Add(time.Second), // next year
		base.Add(120 * time.Millisecond),
		base.Add(123456 * time.Microsecond),
		base.Add(-time.Microsecond),
		base.Add(100 * time.Millisecond),
		base.Add(time.Microsecond),
		base.Add(-9 * time.Hour).In(west),
		base.Add(3 * time.Hour).In(east), // next day in UTC, written in +05:00
		base.Add(-36 * time.Hour),
		base.Add(120001 * time.Microsecond),
		base.Add(999999 * time.Microsecond),
		base.Add(10 * time.Second),
		base.Add(-10 * time.Second),
		base.AddDate(-1, 0, 0),
	}
	pivots := slices.Clone(values)
	for _, v := range values {
		pivots = append(pivots, v.Add(time.Microsecond), v.Add(-time.Microsecond), v.In(east), v.In(west))
	}

	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		ids := make([]entity.ID, len(values))
		updated := func(i int) time.Time { return values[len(values)-1-i] }
		for i, v := range values {
			// updated_at runs backwards so the two columns differ in order.
			s := &entity.Session{
				CreatedAt: v, UpdatedAt: updated(i), Expires: v,
				TokenHash: hash64(fmt.Sprint(i)), Type: entity.SessionAnonymous,
			}
			insert(t, db, s)
			ids[i] = s.ID
		}

		for _, p := range pivots {
			var want, wantIdle []entity.ID
			for i, v := range values {
				if v.Before(p) {
					want = append(want, ids[i])
				}
				if updated(i).Before(p) {
					wantIdle = append(wantIdle, ids[i])
				}
			}
			var got []entity.ID
			require.NoError(t, db.NewSelect().Model((*entity.Session)(nil)).Column("id").
				Where("expires < ?", p).Order("id").Scan(ctx, &got))
			require.ElementsMatch(t, want, got, "expires < %s", p)

			// The anonymous-idle clean-up query.
			got = nil
			require.NoError(t, db.NewSelect().Model((*entity.Session)(nil)).Column("id").
				Where("user_id IS NULL AND active_order_id IS NULL AND updated_at < ?", p).
				Scan(ctx, &got))
			require.ElementsMatch(t, wantIdle, got, "updated_at < %s", p)
		}

		// ORDER BY sorts as Go does.
		var ordered []entity.Session
		require.NoError(t, db.NewSelect().Model(&ordered).Order("expires").Scan(ctx))
		sorted := slices.Clone(values)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
		require.Len(t, ordered, len(sorted))
		for i := range sorted {
			require.True(t, sorted[i].Equal(ordered[i].Expires), "position %d: %s != %s", i, sorted[i], ordered[i].Expires)
		}

		if db.Dialect().Name() == dialect.SQLite {
			// Pin the storage format the ordering relies on.
			var raw []struct {
				Type  string `bun:"t"`
				Value string `bun:"v"`
			}
			require.NoError(t, db.NewRaw("SELECT typeof(expires) AS t, CAST(expires AS TEXT) AS v FROM session").Scan(ctx, &raw))
			for _, r := range raw {
				require.Equal(t, "text", r.Type)
				require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])?\+00:00$`, r.Value)
			}
		}
	})
}

func TestRoundTripUpDownUp(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		m, err := migrations.NewMigrator(db)
		require.NoError(t, err)
		require.NoError(t, m.Init(ctx))
		applied, err := m.AppliedMigrations(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, applied)

		require.Subset(t, appTables(t, db), riverTables, "Run applies River's migrations")

		// Roll back every group: our tables go, River's stay (they are
		// River's to remove).
		for range applied {
			_, err := m.Rollback(ctx)
			require.NoError(t, err)
		}
		applied, err = m.AppliedMigrations(ctx)
		require.NoError(t, err)
		require.Empty(t, applied)
		require.Empty(t, withoutRiver(appTables(t, db)), "down migrations must drop every table")
		require.Subset(t, appTables(t, db), riverTables)
		require.NoError(t, migrations.RollbackRiver(ctx, db))
		require.Empty(t, appTables(t, db), "River's down migrations must drop every River table")
		for _, model := range models {
			ptr := reflect.New(reflect.TypeOf(model).Elem()).Interface()
			require.Error(t, db.NewSelect().Model(ptr).Limit(1).Scan(ctx))
		}

		require.NoError(t, migrations.Run(ctx, db))
		requireSchemaMatchesModels(t, db)
		requireUnapplied(t, m, 0)
		require.Subset(t, appTables(t, db), riverTables)
	})
}

// riverTables are tables River's migrations create on both dialects.
var riverTables = []string{"river_job", "river_leader", "river_migration", "river_queue"}

// withoutRiver drops River's tables, indexes and triggers from names.
func withoutRiver(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool {
		return strings.HasPrefix(n, "river_")
	})
}

func TestRiverMigrationsMatchAcrossDialects(t *testing.T) {
	t.Parallel()
	versions := func(dialect string) []int {
		ms, err := migrations.River(dialect)
		require.NoError(t, err)
		require.NotEmpty(t, ms)
		var out []int
		for _, m := range ms {
			require.NotEmpty(t, m.SQLUp, "%s %d", dialect, m.Version)
			out = append(out, m.Version)
		}
		return out
	}
	require.Equal(t, versions(migrations.Postgres), versions(migrations.SQLite))
	_, err := migrations.River("mysql")
	require.Error(t, err)
}

func TestRunIsIdempotent(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		m, err := migrations.NewMigrator(db)
		require.NoError(t, err)
		before, err := m.AppliedMigrations(ctx)
		require.NoError(t, err)

		require.NoError(t, migrations.Run(ctx, db))
		require.NoError(t, migrations.Run(ctx, db))

		after, err := m.AppliedMigrations(ctx)
		require.NoError(t, err)
		require.Len(t, after, len(before))
		for i := range before {
			require.Equal(t, before[i].ID, after[i].ID, "no migration was re-applied")
			require.Equal(t, before[i].GroupID, after[i].GroupID)
		}
		group, err := m.Migrate(ctx)
		require.NoError(t, err)
		require.True(t, group.IsZero(), "nothing left to apply")

		require.True(t, lockIsFree(t, db), "Run released its lock")
	})
}

func TestRunUnlocksOnFailure(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		m, err := migrations.NewMigrator(db)
		require.NoError(t, err)

		// Forget that the newest migration ran: re-running it fails on what
		// it already made, the transaction rolls back, and the lock is
		// released anyway.
		applied, err := m.AppliedMigrations(ctx)
		require.NoError(t, err)
		require.NoError(t, m.MarkUnapplied(ctx, &applied[0]))
		require.Error(t, migrations.Run(ctx, db))
		require.True(t, lockIsFree(t, db), "Run must unlock after a failed migration")
		requireUnapplied(t, m, 1)
		requireSchemaMatchesModels(t, db)

		// A failing step after the migrations releases it too.
		require.NoError(t, m.MarkApplied(ctx, &applied[0]))
		boom := errors.New("boom")
		err = migrations.RunWith(ctx, db, migrations.Options{After: func(context.Context) error { return boom }})
		require.ErrorIs(t, err, boom)
		require.True(t, lockIsFree(t, db))
	})
}

// appTables lists the tables other than bun's own and SQLite's internal ones.
func appTables(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var names []string
	q := `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name NOT LIKE 'bun\_%'`
	if db.Dialect().Name() == dialect.SQLite {
		q = `SELECT name FROM sqlite_master
			WHERE type IN ('table', 'index', 'view', 'trigger')
			AND tbl_name NOT LIKE 'bun\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	}
	require.NoError(t, db.NewRaw(q).Scan(t.Context(), &names))
	return names
}

// insert inserts model and fails the test on error.
func insert(t *testing.T, db *bun.DB, model any) {
	t.Helper()
	_, err := db.NewInsert().Model(model).Exec(t.Context())
	require.NoError(t, err, "%T", model)
}

// insertID inserts model and returns the ID the database assigned.
func insertID(t *testing.T, db *bun.DB, model any, id *entity.ID) entity.ID {
	t.Helper()
	insert(t, db, model)
	require.NotZero(t, *id, "%T: no ID assigned", model)
	return *id
}

// roundTrip reads the row of want's primary key into got (which holds just
// the key) and requires every field to equal want's; times are compared with
// time.Equal.
func roundTrip(t *testing.T, db *bun.DB, want, got any) {
	t.Helper()
	require.NoError(t, db.NewSelect().Model(got).WherePK().Scan(t.Context()), "%T", want)
	requireSameFields(t, want, got)
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	timePtrType = reflect.TypeFor[*time.Time]()
	baseModel   = reflect.TypeFor[bun.BaseModel]()
)

func requireSameFields(t *testing.T, want, got any) {
	t.Helper()
	w, g := reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()
	for i := range w.NumField() {
		f := w.Type().Field(i)
		wf, gf := w.Field(i), g.Field(i)
		switch f.Type {
		case baseModel:
		case timeType:
			require.True(t, wf.Interface().(time.Time).Equal(gf.Interface().(time.Time)),
				"%s.%s: want %v, got %v", w.Type().Name(), f.Name, wf, gf)
		case timePtrType:
			if wf.IsNil() {
				require.True(t, gf.IsNil(), "%s.%s: want nil, got %v", w.Type().Name(), f.Name, gf)
				continue
			}
			require.False(t, gf.IsNil(), "%s.%s: want %v, got nil", w.Type().Name(), f.Name, wf.Elem())
			require.True(t, wf.Elem().Interface().(time.Time).Equal(gf.Elem().Interface().(time.Time)),
				"%s.%s: want %v, got %v", w.Type().Name(), f.Name, wf.Elem(), gf.Elem())
		default:
			require.Equal(t, wf.Interface(), gf.Interface(), "%s.%s", w.Type().Name(), f.Name)
		}
	}
}

func newChannel(t *testing.T, db *bun.DB, code string) entity.ID {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ch := &entity.Channel{
		CreatedAt: now, UpdatedAt: now, Code: code, Token: code + "-token",
		DefaultLanguageCode: "en", AvailableLanguageCodes: entity.LanguageCodes{"en"},
		DefaultCurrencyCode: "USD", AvailableCurrencyCodes: entity.CurrencyCodes{"USD"},
	}
	insert(t, db, ch)
	return ch.ID
}

func newUser(t *testing.T, db *bun.DB, identifier string) entity.ID {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &entity.User{CreatedAt: now, UpdatedAt: now, Identifier: identifier}
	insert(t, db, u)
	return u.ID
}

func sessionIDs(t *testing.T, db *bun.DB) []entity.ID {
	t.Helper()
	var ids []entity.ID
	require.NoError(t, db.NewSelect().Model((*entity.Session)(nil)).Column("id").Order("id").Scan(t.Context(), &ids))
	return ids
}

func requireCount(t *testing.T, db *bun.DB, model any, want int) {
	t.Helper()
	n, err := db.NewSelect().Model(model).Count(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, want, n, "%T", model)
}

// requireUnapplied requires n migrations not to be marked applied.
func requireUnapplied(t *testing.T, m *migrate.Migrator, n int) {
	t.Helper()
	ms, err := m.MigrationsWithStatus(t.Context())
	require.NoError(t, err)
	require.Len(t, ms.Unapplied(), n)
}

// hash64 returns a token hash as the services store it: the lower-case hex
// SHA-256 of s.
func hash64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Newest is the last migration of each dialect (the same ID in both);
// Applied says it is applied after Run, and not once it is rolled back.
func TestNewestApplied(t *testing.T) {
	t.Parallel()
	pg, err := migrations.Newest(migrations.Postgres)
	require.NoError(t, err)
	lite, err := migrations.Newest(migrations.SQLite)
	require.NoError(t, err)
	require.Equal(t, pg, lite)
	_, err = migrations.Newest("mysql")
	require.Error(t, err)

	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		applied, err := migrations.Applied(ctx, db, pg)
		require.NoError(t, err)
		require.True(t, applied)
		m, err := migrations.NewMigrator(db)
		require.NoError(t, err)
		all, err := m.MigrationsWithStatus(ctx)
		require.NoError(t, err)
		require.Equal(t, pg, all[len(all)-1].Name, "Newest is the last one the migrator applies")

		_, err = m.Rollback(ctx)
		require.NoError(t, err)
		applied, err = migrations.Applied(ctx, db, pg)
		require.NoError(t, err)
		require.False(t, applied)
	})
}
