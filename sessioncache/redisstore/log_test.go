package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A burst of go-redis lines becomes one line; the next one, after the
// interval, carries the count of those dropped.
func TestRedisLoggerRateLimits(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, nil)), time.Hour)
	for i := range 100 {
		l.Printf(context.Background(), "dial tcp 127.0.0.1:6379: connect: connection refused (%d)", i)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], "level=WARN")
	require.Contains(t, lines[0], "connection refused (0)")
	require.EqualValues(t, 99, l.dropped.Load())

	l.last.Store(0) // the interval has passed
	l.Printf(context.Background(), "again")
	require.Contains(t, buf.String(), "suppressed=99")
}
