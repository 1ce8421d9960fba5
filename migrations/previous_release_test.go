package migrations_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// During a rolling deploy the previous release keeps serving on the schema
// the new release migrated to. previousRelease is what that release sends
// on its hot path (the session lookup, the login, the one-time tokens) and
// to the tables the newest migrations changed, copied as it wrote them:
// raw SQL verbatim, statements its bun models built as bun rendered them
// (arguments become ? placeholders). TestPreviousReleaseOnNewSchema runs
// them on a fully migrated database. docs/migrations.md says when and how
// to replace this corpus.
//
// The previous release here is the code as it stood before the
// pending_password migration (customer_token.password_hash).
var previousRelease = []previousStatement{
	{
		name: "session lookup by token hash (SessionService.loadByTokenHash)",
		sql:  previousSessionSelect + `s.token_hash = ?` + ` ORDER BY r.id, ch.id`,
		args: func(f *compatFixture) []any { return []any{f.sessionHash} },
		rows: true,
	},
	{
		name: "session lookup by id (SessionService.loadByID)",
		sql:  previousSessionSelect + `s.id = ?` + ` ORDER BY r.id, ch.id`,
		args: func(f *compatFixture) []any { return []any{f.sessionID} },
		rows: true,
	},
	{
		name: "login (AuthService.authenticateNative, Shop API)",
		sql: `SELECT u.id, u.verified, am.password_hash,
	EXISTS (SELECT 1 FROM authentication_method AS ext WHERE ext.user_id = u.id AND ext.type = ?) AS has_external
FROM "user" AS u
JOIN customer AS p ON p.user_id = u.id AND p.deleted_at IS NULL
LEFT JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
WHERE u.deleted_at IS NULL AND LOWER(u.identifier) = ?
ORDER BY u.id DESC LIMIT 1`,
		args: func(f *compatFixture) []any {
			return []any{entity.AuthMethodExternal, entity.AuthMethodNative, "compat@example.com"}
		},
		rows: true,
	},
	{
		name: "record login (AuthService.createAuthenticatedSessionForUser)",
		sql:  `UPDATE "user" AS "u" SET last_login = ?, updated_at = ? WHERE (id = ?)`,
		args: func(f *compatFixture) []any { return []any{f.now, f.now, f.userID} },
	},
	{
		name: "find a one-time token (AccountService.findToken)",
		sql: `SELECT ct.id AS token_id, ct.expires, u.id AS user_id, u.identifier, u.verified, am.password_hash
FROM customer_token AS ct
JOIN "user" AS u ON u.id = ct.user_id AND u.deleted_at IS NULL
JOIN customer AS c ON c.user_id = u.id AND c.deleted_at IS NULL
JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
WHERE ct.token_hash = ? AND ct.kind = ?
LIMIT 1`,
		args: func(f *compatFixture) []any {
			return []any{entity.AuthMethodNative, f.tokenHash, entity.TokenVerification}
		},
		rows: true,
	},
	{
		name: "issue a one-time token (AccountService.issueToken)",
		sql:  `INSERT INTO "customer_token" AS "ct" ("created_at", "user_id", "kind", "token_hash", "expires") VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET created_at = EXCLUDED.created_at, token_hash = EXCLUDED.token_hash, expires = EXCLUDED.expires RETURNING "id"`,
		pg:   `INSERT INTO "customer_token" AS "ct" ("id", "created_at", "user_id", "kind", "token_hash", "expires") VALUES (DEFAULT, ?, ?, ?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET created_at = EXCLUDED.created_at, token_hash = EXCLUDED.token_hash, expires = EXCLUDED.expires RETURNING "id"`,
		args: func(f *compatFixture) []any {
			return []any{f.now, f.userID, entity.TokenVerification, hash64("compat-token-2"), f.now.Add(time.Hour)}
		},
		rows: true,
	},
	{
		name: "use a one-time token (AccountService.useToken)",
		sql:  `DELETE FROM "customer_token" AS "ct" WHERE (id = ?)`,
		args: func(f *compatFixture) []any { return []any{f.tokenID} },
	},
	{
		name: "drop the verification token (AccountService.markVerified)",
		sql:  `DELETE FROM "customer_token" AS "ct" WHERE (user_id = ? AND kind = ?)`,
		args: func(f *compatFixture) []any { return []any{f.userID, entity.TokenVerification} },
	},
}

// previousSessionSelect is the previous release's sessionSelect.
const previousSessionSelect = `SELECT s.id, s.token_hash, s.expires, s.active_order_id, s.active_channel_id,
	s.user_id AS session_user_id, s.authentication_strategy,
	u.id AS user_id, u.identifier, u.verified, adm.id AS administrator_id,
	r.id AS role_id, r.permissions, ch.id AS channel_id, ch.token AS channel_token, ch.code AS channel_code
FROM session AS s
LEFT JOIN "user" AS u ON u.id = s.user_id AND u.deleted_at IS NULL
LEFT JOIN administrator AS adm ON adm.user_id = u.id AND adm.deleted_at IS NULL
LEFT JOIN user_role AS ur ON ur.user_id = u.id
LEFT JOIN role AS r ON r.id = ur.role_id
LEFT JOIN role_channel AS rc ON rc.role_id = r.id
LEFT JOIN channel AS ch ON ch.id = rc.channel_id
WHERE s.invalidated = FALSE AND `

// previousStatement is one statement of the previous release.
type previousStatement struct {
	name string
	sql  string // both dialects, or SQLite's when pg is set
	pg   string // PostgreSQL's, when bun rendered it differently
	args func(f *compatFixture) []any
	rows bool // it returns rows, and on the fixture at least one
}

// compatFixture is data the new release wrote, in the new schema (a
// pending registration's verification token with its password), for the
// previous release's statements to find.
type compatFixture struct {
	now                    time.Time
	userID, sessionID      entity.ID
	tokenID                entity.ID
	sessionHash, tokenHash string
}

func newCompatFixture(t *testing.T, db *bun.DB) *compatFixture {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := &compatFixture{now: now, sessionHash: hash64("compat-session"), tokenHash: hash64("compat-token")}
	f.userID = newUser(t, db, "compat@example.com")
	hash := "$2a$04$compat"
	insert(t, db, &entity.AuthenticationMethod{CreatedAt: now, UpdatedAt: now, UserID: f.userID, Type: entity.AuthMethodNative, PasswordHash: &hash})
	insert(t, db, &entity.Customer{CreatedAt: now, UpdatedAt: now, FirstName: "C", LastName: "Ompat", EmailAddress: "compat@example.com", UserID: &f.userID})
	s := &entity.Session{
		CreatedAt: now, UpdatedAt: now, TokenHash: f.sessionHash, Type: entity.SessionAuthenticated,
		Expires: now.Add(time.Hour), UserID: &f.userID,
	}
	f.sessionID = insertID(t, db, s, &s.ID)
	tok := &entity.CustomerToken{
		CreatedAt: now, UserID: f.userID, Kind: entity.TokenVerification, TokenHash: f.tokenHash,
		Expires: now.Add(time.Hour), PasswordHash: &hash,
	}
	insert(t, db, tok)
	reset := &entity.CustomerToken{
		CreatedAt: now, UserID: f.userID, Kind: entity.TokenPasswordReset, TokenHash: hash64("compat-reset"),
		Expires: now.Add(time.Hour),
	}
	f.tokenID = insertID(t, db, reset, &reset.ID)
	return f
}

// TestPreviousReleaseOnNewSchema: every statement of the previous
// release's corpus still runs on the fully migrated schema, in order, and
// the lookups find what the new release wrote.
func TestPreviousReleaseOnNewSchema(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		f := newCompatFixture(t, db)
		for _, st := range previousRelease {
			query := st.sql
			if st.pg != "" && db.Dialect().Name() == dialect.PG {
				query = st.pg
			}
			q := db.NewRaw(query, st.args(f)...)
			if !st.rows {
				res, err := q.Exec(ctx)
				require.NoError(t, err, st.name)
				n, err := res.RowsAffected()
				require.NoError(t, err, st.name)
				require.Positive(t, n, "%s: changes the fixture's row", st.name)
				continue
			}
			var rows []map[string]any
			require.NoError(t, q.Scan(ctx, &rows), st.name)
			require.NotEmpty(t, rows, "%s: finds the fixture", st.name)
		}
	})
}
