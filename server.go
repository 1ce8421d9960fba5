// Command sessionserver serves Vendure-compatible Shop and Admin GraphQL APIs
// for sessions: guest and authenticated sessions, login, logout, the session
// cache, active channel and active order.
//
// Configuration comes from environment variables (see README.md). With none
// set it uses a SQLite file under ./data and an in-memory session cache.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/metrics"
)

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.LookupEnv, os.Stderr, drainTimer)
	stop()
	os.Exit(code)
}

// drainTimer waits d, or less if a second SIGTERM or SIGINT comes: a
// second Ctrl-C ends the drain at once.
func drainTimer(d time.Duration) {
	again, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-again.Done():
	}
}

// defaultGCPercent replaces Go's GOGC=100 unless GOGC is set. The live heap
// is small (sessions live in the database, Redis or a bounded LRU) while
// every request allocates, so the default collector would run very often
// under load; 400 lets the heap grow to five times the live heap between
// cycles. docs/benchmarks.md has the measurements.
const defaultGCPercent = 400

// defaultMemoryLimit replaces Go's default (no limit) unless GOMEMLIMIT is
// set. GOGC=400 alone lets the heap grow to five times the live heap, and
// the live heap is not always small: the memory cache may be sized for
// millions of sessions (SESSION_CACHE_SIZE). The soft limit keeps such a
// process near it, and the collector runs more often only when the heap
// nears the limit: while the live heap is well below it, GOGC=400 decides
// alone (docs/benchmarks.md, "Memory per cached session").
//
// If the live heap itself outgrows the limit, Go does not fail: the limit
// is soft, the heap exceeds it, and the collector is capped at about 50% of
// the CPU (its GC CPU limiter), so the server slows down instead of running
// out of memory. Set GOMEMLIMIT (e.g. to ~90% of a container's memory) to
// fit a machine, or GOMEMLIMIT=off for no limit.
const defaultMemoryLimit = 768 << 20

// logHandler writes the log at LOG_LEVEL in LOG_FORMAT: slog's text lines,
// or one JSON object a line. app.New adds the request and trace ids to the
// lines of a request (requestctx.LogHandler), in either format.
func logHandler(cfg config.Config, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == config.LogJSON {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// readTimeout bounds reading a whole request, body included.
const readTimeout = 30 * time.Second

// run is the whole server: it reads the configuration through lookup, logs
// to stderr, serves until ctx ends, drains, then shuts down gracefully. It
// returns the process's exit status. Anything that stops the server from
// starting (a bad setting, a taken port, an unreachable database) is
// reported on stderr as one "sessionserver: ..." message, and the status
// is 1.
//
// Draining: once ctx ends, /ready answers 503 {"status":"draining"} while
// every other request is served as before, for SHUTDOWN_DRAIN, which
// drainWait waits (main passes drainTimer; a test passes a function that
// waits for its own signal). Then the listener closes and the requests in
// flight get SHUTDOWN_TIMEOUT to finish.
func run(ctx context.Context, lookup func(string) (string, bool), stderr io.Writer, drainWait func(time.Duration)) int {
	if err := serve(ctx, lookup, stderr, drainWait); err != nil {
		fmt.Fprintln(stderr, "sessionserver:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, lookup func(string) (string, bool), stderr io.Writer, drainWait func(time.Duration)) error {
	cfg, err := config.Load(lookup)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := slog.New(logHandler(cfg, stderr))
	slog.SetDefault(log)

	// The port is bound first: a taken port fails at once, before the
	// database is opened or migrated, and connections that arrive while
	// the app is built wait in the listen backlog instead of being refused,
	// so "listening" below is only logged once it is true.
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("PORT=%d: %w", cfg.Port, err)
	}
	defer ln.Close() // Serve closes it too; this covers a failed app.New

	a, err := app.New(ctx, cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()

	// WriteTimeout runs from the end of a request's headers to the end of its
	// response: it must outlast the body read and the request's deadline,
	// with room to write the REQUEST_TIMEOUT answer, or a slow request would
	// lose its connection instead of getting that answer.
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      max(readTimeout, cfg.RequestTimeout) + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening",
		"shop", fmt.Sprintf("http://localhost:%d%s", cfg.Port, app.ShopPath),
		"admin", fmt.Sprintf("http://localhost:%d%s", cfg.Port, app.AdminPath),
		"database", cfg.DatabaseDialect(), "cache", cfg.SessionCacheStrategy, "tracing", cfg.Tracing(),
		"sessionDuration", config.FormatDuration(a.Config.SessionDuration),
		"sessionCacheTTL", config.FormatDuration(a.Config.SessionCacheTTL))
	if addr := a.MetricsAddr(); addr != "" {
		log.Info("serving metrics", "url", "http://"+addr+metrics.Path)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Drain()
	if d := a.Config.ShutdownDrain; d > 0 {
		log.Info("draining: /ready answers 503, requests are served", "drain", config.FormatDuration(d))
		drainWait(d)
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
