// Command seedsessions measures the session clean-up at scale: it seeds a
// PostgreSQL database with a million expired sessions beside a hundred
// thousand live ones, runs session.Service.CleanExpiredSessions on them
// through the server's own wiring (app.New: the same database pool, cache
// and outbox as the server), and prints how long it took. With -wrk it
// also measures the latency of `me` on a running server, once idle and
// once while the clean-up runs, with wrk and the me.lua script beside
// this file.
//
// It is a command, not a test: it takes minutes and its numbers depend on
// the machine. Steps, from the repository root (PostgreSQL and Redis on
// loopback, wrk installed):
//
//	psql postgres://postgres@127.0.0.1:5432/postgres -c 'CREATE DATABASE seedsessions'
//	export DATABASE_URL='postgres://postgres@127.0.0.1:5432/seedsessions?sslmode=disable'
//	export REDIS_URL=redis://127.0.0.1:6379/10
//	go build -o /tmp/ss . && go build -o /tmp/seedsessions ./internal/cmd/seedsessions
//	/tmp/seedsessions -clean=false               # migrate, seed the base data, add the rows
//	PORT=3111 LOG_LEVEL=warn /tmp/ss &           # the server, on the seeded database
//	/tmp/seedsessions -seed=false -batch 1000 -wrk http://127.0.0.1:3111/admin-api
//
// The last line logs in as the superadmin, runs `wrk -t1 -c10 -d10s
// --latency` against `me` idle, then again from a second before the
// clean-up until it ends, and prints both reports and the clean-up's time. Run the seeding again before each
// measurement (-batch 10000 for the other batch size); it adds to what is
// there, so drop and recreate the database for a clean start. Once the
// clean-sessions job exists, the same clean-up runs through the Admin API's
// triggerCleanSessionsJob(batchSize) instead; seed, then trigger it during
// the second wrk run.
//
// With -list it measures the Admin API's sessions list instead (or as
// well): a page of 20 with its exact totalItems, by user and by type,
// newest first, through session.Service.ListSessions, and prints the
// timings and EXPLAIN (ANALYZE, BUFFERS) of its statements. For a table of
// a million sessions (half of them logged in, 10,000 users):
//
//	/tmp/seedsessions -clean=false -expired 0 -live 1000000
//	psql "$DATABASE_URL" -c 'VACUUM ANALYZE session'   # as autovacuum would
//	/tmp/seedsessions -seed=false -clean=false -list
//
// Flags -expired, -live, -idle and -users size the seed; see -h. The
// seeded users are customers (the customer role), as registration makes
// them.
//
// With -tokens N it also adds N live logged-in sessions whose raw tokens
// it writes to -tokens-file (the database holds only their hashes), for a
// load test of cache misses with a different token per request: the
// session cache off (SESSION_CACHE_STRATEGY=noop) and
// internal/bench/me-tokens.lua, which sends the Shop API's `me` with the
// next token of that file each time. For 100,000 and 5,000,000 sessions
// in all:
//
//	/tmp/seedsessions -clean=false -expired 0 -live 90000 -tokens 10000 -tokens-file /tmp/tokens.txt
//	/tmp/seedsessions -clean=false -expired 4000000 -live 990000 -tokens 10000 -tokens-file /tmp/tokens.txt
//	SESSION_CACHE_STRATEGY=noop PORT=3111 LOG_LEVEL=warn /tmp/ss &
//	TOKENS=/tmp/tokens.txt wrk -t1 -c50 -d15s --latency -s internal/bench/me-tokens.lua http://127.0.0.1:3111/shop-api
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime/pprof"
	"time"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
)

type options struct {
	seed, clean, list        bool
	listRuns                 int
	expired, live, idle      int
	users                    int
	tokens                   int
	tokensFile               string
	batch                    int
	wrkURL, wrkDuration      string
	wrkConnections           int
	wrkScript                string
	identifier, passwordText string
	cpuProfile               string
}

func main() {
	var o options
	flag.BoolVar(&o.seed, "seed", true, "add the sessions (and their users) to the database")
	flag.BoolVar(&o.clean, "clean", true, "run CleanExpiredSessions once seeded")
	flag.BoolVar(&o.list, "list", false, "measure the Admin API's sessions list (by user, by type) once seeded, with EXPLAIN ANALYZE")
	flag.IntVar(&o.listRuns, "list-runs", 20, "measured runs of each sessions list case")
	flag.IntVar(&o.expired, "expired", 1_000_000, "expired sessions to add (a third of them logged in)")
	flag.IntVar(&o.live, "live", 100_000, "live sessions to add (half logged in, a fifth of the guests with an order)")
	flag.IntVar(&o.idle, "idle", 0, "idle guest sessions to add (no order, last written 8 days ago, not expired)")
	flag.IntVar(&o.users, "users", 10_000, "users the logged-in sessions belong to")
	flag.IntVar(&o.tokens, "tokens", 0, "live logged-in sessions to add whose raw tokens are written to -tokens-file (for internal/bench/me-tokens.lua)")
	flag.StringVar(&o.tokensFile, "tokens-file", "tokens.txt", "where -tokens writes the raw tokens, one a line")
	flag.IntVar(&o.batch, "batch", 1000, "clean-up batch size")
	flag.StringVar(&o.wrkURL, "wrk", "", "Admin API URL of a running server (http://127.0.0.1:3111/admin-api): measure `me` idle and during the clean-up")
	flag.StringVar(&o.wrkDuration, "wrk-duration", "10s", "duration of each wrk run")
	flag.IntVar(&o.wrkConnections, "wrk-connections", 10, "wrk connections")
	flag.StringVar(&o.wrkScript, "wrk-script", "internal/cmd/seedsessions/me.lua", "the wrk script (reads TOKEN from the environment)")
	flag.StringVar(&o.identifier, "identifier", "superadmin", "administrator to log in as for wrk")
	flag.StringVar(&o.passwordText, "password", "superadmin", "that administrator's password")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the clean-up to this file (go tool pprof)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "seedsessions:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.DatabaseDialect() != database.Postgres {
		return errors.New("DATABASE_URL must be a postgres:// URL")
	}
	// The server's own wiring: migrations, seed data, cache, outbox sync.
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer a.Close()

	if o.seed {
		start := time.Now()
		if err := seed(ctx, cfg.DatabaseURL, o); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Printf("seeded %d expired, %d idle guest, %d live and %d known-token sessions in %s\n",
			o.expired, o.idle, o.live, o.tokens, time.Since(start).Round(time.Millisecond))
	}
	if o.list {
		if err := measureList(ctx, cfg.DatabaseURL, o.listRuns); err != nil {
			return fmt.Errorf("sessions list: %w", err)
		}
	}
	if !o.clean {
		return nil
	}
	due, total, err := counts(ctx, cfg.DatabaseURL, a.Config.AnonymousIdleTimeout)
	if err != nil {
		return err
	}
	fmt.Printf("before: %d sessions, %d of them due for clean-up\n", total, due)

	clean := func() error {
		if o.cpuProfile != "" {
			f, err := os.Create(o.cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		start := time.Now()
		removed, err := a.Sessions.CleanExpiredSessions(ctx, o.batch)
		elapsed := time.Since(start)
		if err != nil {
			return fmt.Errorf("clean-up after %d sessions: %w", removed, err)
		}
		fmt.Printf("clean-up: batch size %d, removed %d sessions in %s (%.0f/s)\n",
			o.batch, removed, elapsed.Round(time.Millisecond), float64(removed)/elapsed.Seconds())
		return nil
	}
	if o.wrkURL == "" {
		if err := clean(); err != nil {
			return err
		}
	} else if err := measure(ctx, o, clean); err != nil {
		return err
	}
	due, total, err = counts(ctx, cfg.DatabaseURL, a.Config.AnonymousIdleTimeout)
	if err != nil {
		return err
	}
	fmt.Printf("after: %d sessions, %d of them due for clean-up\n", total, due)
	return nil
}

// measure runs wrk against `me` for -wrk-duration while idle, then again
// from a second before the clean-up starts until it ends (wrk prints its
// report on SIGINT), and prints both reports.
func measure(ctx context.Context, o options, clean func() error) error {
	token, err := login(ctx, o.wrkURL, o.identifier, o.passwordText)
	if err != nil {
		return err
	}
	wrk := func(duration string) *exec.Cmd {
		c := exec.CommandContext(ctx, "wrk", "-t1", fmt.Sprintf("-c%d", o.wrkConnections),
			"-d"+duration, "--latency", "-s", o.wrkScript, o.wrkURL)
		c.Env = append(os.Environ(), "TOKEN="+token)
		return c
	}
	out, err := wrk(o.wrkDuration).CombinedOutput()
	fmt.Printf("--- wrk, idle:\n%s", out)
	if err != nil {
		return fmt.Errorf("wrk: %w", err)
	}

	during := wrk("1h")
	var buf bytes.Buffer
	during.Stdout, during.Stderr = &buf, &buf
	if err := during.Start(); err != nil {
		return fmt.Errorf("wrk: %w", err)
	}
	time.Sleep(time.Second) // wrk's connections are up and loaded
	cleanErr := clean()
	_ = during.Process.Signal(os.Interrupt)
	waitErr := during.Wait()
	fmt.Printf("--- wrk, from 1 s before the clean-up to its end:\n%s", buf.String())
	if cleanErr != nil {
		return cleanErr
	}
	if waitErr != nil {
		return fmt.Errorf("wrk: %w", waitErr)
	}
	return nil
}
