package requestctx_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/requestctx"
)

// A line logged with a request's context carries its id once, whether or
// not the caller named it; a line without a request has none.
func TestLogHandlerAddsTheRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(requestctx.LogHandler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	ctx := requestctx.WithRequestID(context.Background(), "req-42")
	log.WarnContext(ctx, "session lookup failed", "err", "boom")
	log.ErrorContext(ctx, "internal error", "requestId", "req-42")
	log.InfoContext(context.Background(), "no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	require.Contains(t, lines[0], "component=test")
	require.Contains(t, lines[0], "requestId=req-42")
	require.Equal(t, 1, strings.Count(lines[1], "requestId="))
	require.NotContains(t, lines[2], "requestId")
}
