package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/session"
)

// seedTokens adds n live logged-in sessions whose raw tokens it knows,
// spread over the users from firstUser on, and writes the tokens to path,
// one a line, for internal/bench/me-tokens.lua. As the server does, only
// the SHA-256 of each token (session.HashToken) is stored. The rows go in
// with one COPY, so a million takes seconds. Each expires in 300 days:
// more than half of the default SESSION_DURATION (1 y) away, so looking
// one up never writes a renewal.
func seedTokens(ctx context.Context, conn *pgx.Conn, path string, n int, firstUser, users, channel int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	now := time.Now().UTC()
	expires := now.Add(300 * 24 * time.Hour)
	strategy := account.NativeStrategyName
	rows := make([][]any, 0, n)
	var raw [32]byte
	for i := range n {
		_, _ = rand.Read(raw[:]) // never fails
		token := hex.EncodeToString(raw[:])
		if _, err := w.WriteString(token + "\n"); err != nil {
			_ = f.Close()
			return err
		}
		rows = append(rows, []any{now, now, session.HashToken(token), entity.SessionAuthenticated,
			expires, channel, firstUser + int64(i)%users, strategy})
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	start := time.Now()
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"session"},
		[]string{"created_at", "updated_at", "token_hash", "type", "expires", "active_channel_id", "user_id", "authentication_strategy"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy sessions with known tokens: %w", err)
	}
	fmt.Printf("  logged-in sessions with known tokens: %d rows in %s, tokens in %s\n",
		copied, time.Since(start).Round(time.Millisecond), path)
	return nil
}
