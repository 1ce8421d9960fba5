package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopsession/sessionserver/entity"
)

// seed adds the users and sessions, one INSERT ... SELECT generate_series
// each, on a connection of its own without the server's statement timeout
// (each INSERT takes seconds), then ANALYZEs the table as autovacuum would
// after such an insert. Token hashes are SHA-256 of random text, 64 hex
// characters, so the unique index sees them in random order as it does
// real ones; expiries are a second or more apart, as real ones are.
func seed(ctx context.Context, dsn string, o options) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	run := func(what, sql string, args ...any) error {
		start := time.Now()
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Printf("  %s: %d rows in %s\n", what, tag.RowsAffected(), time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := run("timeouts off", "SET statement_timeout = 0"); err != nil {
		return err
	}
	// A run tag keeps identifiers unique when the seed is run again.
	tag := fmt.Sprintf("seed%d", time.Now().UnixNano())
	if err := run("users", `INSERT INTO "user" (created_at, updated_at, identifier, verified)
		SELECT now(), now(), $1::text || '-' || i || '@example.com', true FROM generate_series(1, $2::int) AS i`,
		tag, o.users); err != nil {
		return err
	}
	var minUser, maxUser, channel int64
	if err := conn.QueryRow(ctx, `SELECT min(id), max(id) FROM "user" WHERE identifier LIKE $1::text || '-%'`, tag).
		Scan(&minUser, &maxUser); err != nil {
		return fmt.Errorf("seeded users: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT id FROM channel ORDER BY id LIMIT 1`).Scan(&channel); err != nil {
		return fmt.Errorf("default channel: %w", err)
	}
	users := maxUser - minUser + 1
	// Customers, as registration makes them: the Shop API's `me` asks for
	// the customer role's Authenticated permission.
	if err := run("customer roles", `INSERT INTO user_role (user_id, role_id)
		SELECT u.id, r.id FROM "user" AS u, role AS r
		WHERE u.id BETWEEN $1 AND $2 AND r.code = $3`, minUser, maxUser, entity.CustomerRoleCode); err != nil {
		return err
	}
	if o.tokens > 0 {
		if err := seedTokens(ctx, conn, o.tokensFile, o.tokens, minUser, users, channel); err != nil {
			return err
		}
	}

	// Every session row: i is the series, the rest are SQL expressions of
	// i, $1 (tag), $2 (first user id), $3 (user count), $4 (channel).
	insert := func(what string, n int, expires, updated, loggedIn, order string) error {
		return run(what, `INSERT INTO session (created_at, updated_at, token_hash, type, expires,
				active_order_id, active_channel_id, user_id, authentication_strategy)
			SELECT t.updated, t.updated,
				encode(sha256(convert_to($1::text || '-' || i || '-' || gen_random_uuid()::text, 'UTF8')), 'hex'),
				CASE WHEN t.logged_in THEN 'authenticated' ELSE 'anonymous' END,
				`+expires+`,
				CASE WHEN NOT t.logged_in AND `+order+` THEN i END,
				$4,
				CASE WHEN t.logged_in THEN $2 + i % $3 END,
				CASE WHEN t.logged_in THEN 'native' END
			FROM generate_series(1, $5::int) AS i,
				LATERAL (SELECT `+updated+` AS updated, `+loggedIn+` AS logged_in) AS t`,
			tag, minUser, users, channel, n)
	}
	// Expired: one every 2 s going back from now (about 23 days for a
	// million), created 30 days before they expired.
	if err := insert("expired sessions", o.expired,
		"now() - i * interval '2 seconds'", "now() - i * interval '2 seconds' - interval '30 days'",
		"i % 3 = 0", "false"); err != nil {
		return err
	}
	// Idle guests: last written 8 days ago and more, not expired.
	if err := insert("idle guest sessions", o.idle,
		"now() + interval '22 days'", "now() - interval '8 days' - i * interval '1 second'",
		"false", "false"); err != nil {
		return err
	}
	// Live: half logged in (a year left), half guests written in the last
	// 3 days, a fifth of them with an order (a cart).
	if err := insert("live sessions", o.live,
		"now() + CASE WHEN i % 2 = 0 THEN interval '300 days' ELSE interval '27 days' END",
		"now() - (i % 259200) * interval '1 second'",
		"i % 2 = 0", "i % 10 = 1"); err != nil {
		return err
	}
	return run("analyze", "ANALYZE session")
}

// counts returns how many sessions the clean-up would remove now, and how
// many there are.
func counts(ctx context.Context, dsn string, idle time.Duration) (due, total int64, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE expires < now()
				OR (user_id IS NULL AND active_order_id IS NULL AND updated_at < now() - $1::interval)),
			count(*)
		FROM session`, fmt.Sprintf("%d seconds", int64(idle.Seconds()))).Scan(&due, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("count sessions: %w", err)
	}
	return due, total, nil
}
