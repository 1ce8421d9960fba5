package service_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/metrics"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/seed"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
)

// benchSessions is how many sessions a distinct-token miss rotates
// through: enough that no statement text or plan is reused by accident
// (each lookup used to be formatted, and planned, with its own hash).
const benchSessions = 10_000

// BenchmarkGetSessionFromToken measures the hot path of every request: a
// cache hit (memory, Redis) and a miss served by the database (noop cache:
// one indexed query per lookup).
//
// A miss is measured two ways: "distinct" looks up a different token each
// time, rotating through benchSessions logged-in sessions, as a server
// does that sees many clients with a cold or absent cache; "repeated"
// looks up the same token every time, which lets the database reuse what
// it did for the previous lookup and overstates the miss path.
func BenchmarkGetSessionFromToken(b *testing.B) {
	b.Run("hit/memory", func(b *testing.B) {
		mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10000})
		if err != nil {
			b.Fatal(err)
		}
		benchLookup(b, testenv.SQLiteDB(b), mem, 1)
	})
	// The same with metrics recording each lookup (docs/metrics.md).
	b.Run("hit/memory/metrics", func(b *testing.B) {
		mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10000})
		if err != nil {
			b.Fatal(err)
		}
		benchLookupWith(b, testenv.SQLiteDB(b), mem, 1, metrics.New(metrics.Options{}).Sessions())
	})
	b.Run("hit/miniredis", func(b *testing.B) {
		client, _ := testenv.Miniredis(b)
		benchLookup(b, testenv.SQLiteDB(b), redisstore.New(client, redisstore.Options{KeyPrefix: testenv.RandomPrefix()}), 1)
	})
	if os.Getenv(testenv.RedisURLEnv) != "" {
		b.Run("hit/redis", func(b *testing.B) {
			client, _ := testenv.Redis(b)
			cache := redisstore.New(client, redisstore.Options{KeyPrefix: testenv.RandomPrefix()})
			b.Cleanup(func() { _ = cache.Clear(context.Background()) })
			benchLookup(b, testenv.SQLiteDB(b), cache, 1)
		})
	}
	b.Run("miss/sqlite/repeated", func(b *testing.B) { benchLookup(b, testenv.SQLiteDB(b), sessioncache.Noop{}, 1) })
	b.Run("miss/sqlite/distinct", func(b *testing.B) {
		benchLookup(b, testenv.SQLiteDB(b), sessioncache.Noop{}, benchSessions)
	})
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		b.Run("miss/postgres/repeated", func(b *testing.B) { benchLookup(b, testenv.PostgresDB(b), sessioncache.Noop{}, 1) })
		b.Run("miss/postgres/distinct", func(b *testing.B) {
			benchLookup(b, testenv.PostgresDB(b), sessioncache.Noop{}, benchSessions)
		})
	}
}

// benchLookup logs the superadmin in, gives it n-1 more sessions, and
// looks the n tokens up b.N times in turn.
func benchLookup(b *testing.B, db *bun.DB, cache sessioncache.Strategy, n int) {
	benchLookupWith(b, db, cache, n, nil)
}

// benchLookupWith is benchLookup with a metrics recorder (nil: none).
func benchLookupWith(b *testing.B, db *bun.DB, cache sessioncache.Strategy, n int, rec session.Recorder) {
	ctx := context.Background()
	hasher, err := password.NewBcrypt(4)
	if err != nil {
		b.Fatal(err)
	}
	if err := seed.Seed(ctx, db, hasher, time.Now(), seed.Config{SuperadminIdentifier: "superadmin", SuperadminPassword: "superadmin"}); err != nil {
		b.Fatal(err)
	}
	sessions, err := session.New(session.Config{DB: db, Cache: cache, Metrics: rec})
	if err != nil {
		b.Fatal(err)
	}
	authSvc, err := account.NewAuthService(account.AuthConfig{DB: db, Sessions: sessions, Hasher: hasher})
	if err != nil {
		b.Fatal(err)
	}
	s, err := authSvc.Authenticate(ctx, account.LoginRequest{
		API: "admin", Method: account.NativeStrategyName, ChannelID: 1,
		Native: &account.Credentials{Username: "superadmin", Password: "superadmin"},
	})
	if err != nil {
		b.Fatal(err)
	}
	tokens := append([]string{s.Token}, insertSessions(b, db, s, n-1)...)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := sessions.GetSessionFromToken(ctx, tokens[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(tokens)
	}
}

// insertSessions adds n sessions like like (same user, strategy, channel
// and expiry: none is renewed while the benchmark runs) in batches, and
// returns their tokens.
func insertSessions(b *testing.B, db *bun.DB, like *sessioncache.CachedSession, n int) []string {
	b.Helper()
	tokens := make([]string, 0, n)
	rows := make([]entity.Session, 0, 1000)
	now := time.Now().UTC()
	userID, strategy := like.User.ID, like.AuthenticationStrategy
	flush := func() {
		if len(rows) == 0 {
			return
		}
		if _, err := db.NewInsert().Model(&rows).Exec(context.Background()); err != nil {
			b.Fatal(err)
		}
		rows = rows[:0]
	}
	for range n {
		token := rand.Text()
		tokens = append(tokens, token)
		rows = append(rows, entity.Session{
			CreatedAt: now, UpdatedAt: now, TokenHash: session.HashToken(token),
			Type: entity.SessionAuthenticated, Expires: like.Expires,
			ActiveChannelID: like.ActiveChannelID, UserID: &userID, AuthenticationStrategy: &strategy,
		})
		if len(rows) == cap(rows) {
			flush()
		}
	}
	flush()
	return tokens
}

// BenchmarkUnknownToken measures a lookup of a token no session has: with
// the negative cache (the token was looked up once before: no read) and
// without it (one database read per lookup, as Vendure), on SQLite with
// the memory cache.
func BenchmarkUnknownToken(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"negative-cache", 1000}, {"no-negative-cache", 0}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			db := testenv.SQLiteDB(b)
			hasher, err := password.NewBcrypt(4)
			if err != nil {
				b.Fatal(err)
			}
			if err := seed.Seed(ctx, db, hasher, time.Now(), seed.Config{SuperadminIdentifier: "superadmin", SuperadminPassword: "superadmin"}); err != nil {
				b.Fatal(err)
			}
			mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10000})
			if err != nil {
				b.Fatal(err)
			}
			sessions, err := session.New(session.Config{DB: db, Cache: mem, NegativeCacheSize: c.size})
			if err != nil {
				b.Fatal(err)
			}
			token := rand.Text()
			_, _ = sessions.GetSessionFromToken(ctx, token)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sessions.GetSessionFromToken(ctx, token); err == nil {
					b.Fatal("an unknown token was found")
				}
			}
		})
	}
}
