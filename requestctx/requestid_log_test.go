package requestctx_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/requestctx"
)

// A line logged with a request's context carries its id once, whether or
// not the caller named it; a line without a request has none.
func TestLogHandlerAddsTheRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(requestctx.LogHandler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	req := httptest.NewRequest(http.MethodPost, "/shop-api", nil)
	req.Header.Set("X-Request-Id", "req-42")
	rec := httptest.NewRecorder()
	requestctx.Scope(time.Minute)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		require.Equal(t, "req-42", requestctx.RequestID(ctx))
		log.WarnContext(ctx, "session lookup failed", "err", "boom")
		log.ErrorContext(ctx, "internal error", "requestId", "req-42")
	})).ServeHTTP(rec, req)
	log.InfoContext(context.Background(), "no request")
	require.Equal(t, "req-42", rec.Header().Get("X-Request-Id"), "echoed")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	require.Contains(t, lines[0], "component=test")
	require.Contains(t, lines[0], "requestId=req-42")
	require.Equal(t, 1, strings.Count(lines[1], "requestId="))
	require.NotContains(t, lines[2], "requestId")
}
