package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Logger sends go-redis's own log lines (dial errors, pool and
// failover notices) to slog at warn level, at most one line per interval:
// during an outage go-redis prints a dial error for every attempt (8 lines a
// second were seen), and one line with the count of the dropped ones says as
// much. Install it with redis.SetLogger; go-redis keeps one logger per
// process.
type Logger struct {
	log      *slog.Logger
	interval time.Duration
	last     atomic.Int64 // Unix nanoseconds of the last line written
	dropped  atomic.Int64
}

// NewLogger returns a Logger writing to log at most once per
// interval (one second if interval is not positive).
func NewLogger(log *slog.Logger, interval time.Duration) *Logger {
	if interval <= 0 {
		interval = time.Second
	}
	return &Logger{log: log, interval: interval}
}

// Printf implements go-redis's internal.Logging.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(l.interval) || !l.last.CompareAndSwap(last, now) {
		l.dropped.Add(1)
		return
	}
	l.log.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...), "suppressed", l.dropped.Swap(0))
}
