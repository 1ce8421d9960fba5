// Command loadtest measures the built server over loopback HTTP: it builds
// the server (go build of the repository root, once), starts it as a child
// process on a free loopback port for each configuration, prepares what the
// cases need through the APIs (a customer, carts), and runs each case for a
// fixed time at a fixed number of keep-alive connections after a warm-up.
// It prints one row per case and configuration: requests/s, p50, p99 and
// errors. Run it from the repository root:
//
//	go run ./cmd/loadtest                                   # SQLite + memory cache
//	DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	REDIS_URL='redis://127.0.0.1:6379/14' go run ./cmd/loadtest   # and PostgreSQL + Redis
//	go run ./cmd/loadtest -cases me,login -d 5s -json
//
// Configurations: SQLite + memory cache always (a database file in a
// temporary directory); with -database-url (DATABASE_URL) a PostgreSQL
// database the command creates on that server and drops at the end, with
// the Redis cache when -redis-url (REDIS_URL) is set too, the memory cache
// otherwise; with -redis-url alone, SQLite + Redis. Redis keys are written
// under the server's usual prefix in the database the URL names and expire
// with SESSION_CACHE_TTL: give the command a Redis database of its own.
//
// Every server runs with THROTTLE=off, GUEST_ADDRESS_LIMIT=0 and
// GUEST_CACHE_LIMIT=0 (every request comes from one address), LOG_LEVEL=warn
// and BCRYPT_COST from -bcrypt-cost (12 by default, Vendure's); -server-env
// adds or overrides settings. Only PATH, HOME, TMPDIR, GOGC, GOMEMLIMIT and
// GOMAXPROCS are taken from the command's own environment.
//
// Cases (-cases, comma-separated; they run in this order):
//
//	me            the Shop API's { me { id identifier } } with a logged-in customer's bearer token (cached)
//	active-order  activeOrder of a guest whose cart holds 3 lines
//	add-item      addItemToOrder on existing guest carts, each connection cycling through its own (-carts in all)
//	miss          me with a new random bearer token each request: a lookup that misses the cache and the database
//	login         the customer's login (bcrypt at -bcrypt-cost)
//	guest         { activeCustomer { id } } without a token: a new guest session each request
//
// An error is a transport error, a non-2xx answer, or an answer that is not
// the case's expected one (a GraphQL error, an ErrorResult; miss expects me
// null with FORBIDDEN). A row with errors is flagged: its figures do not
// measure the case.
//
// The load generator is this process: a net/http client with one
// keep-alive connection per worker. It shares the machine's cores with the
// server (and PostgreSQL and Redis): the table's header says how many, and
// the cpu columns say how much of them each side used during the measured
// window (100% is one core). When wrk is installed (-wrk auto), the me case
// runs a second time with wrk and internal/bench/me-tokens.lua, the same
// document and token, so that the two generators can be compared in the
// same run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	cases       []caseDef
	configs     string
	conns       int
	duration    time.Duration
	warmup      time.Duration
	bcryptCost  int
	carts       int
	databaseURL string
	redisURL    string
	dbPrefix    string
	serverBin   string
	serverEnv   []string
	wrk         string
	wrkThreads  int
	json        bool
	verbose     bool
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cases := fs.String("cases", strings.Join(caseNames(), ","), "cases to run, comma-separated")
	fs.StringVar(&o.configs, "configs", "", "configurations to run, comma-separated (default: every one the URLs allow)")
	fs.IntVar(&o.conns, "c", 50, "connections (concurrent requests)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration of each case")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each case")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 12, "BCRYPT_COST of the server (the customer's password hash, so the login case)")
	fs.IntVar(&o.carts, "carts", 500, "guest carts the add-item case cycles through")
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "a PostgreSQL server to create the test database on (default $DATABASE_URL)")
	fs.StringVar(&o.redisURL, "redis-url", os.Getenv("REDIS_URL"), "Redis for the session cache (default $REDIS_URL)")
	fs.StringVar(&o.dbPrefix, "db-prefix", "loadtest_", "name prefix of the PostgreSQL database the command creates")
	fs.StringVar(&o.serverBin, "server", "", "a server binary to run instead of building the repository root")
	fs.Var((*stringList)(&o.serverEnv), "server-env", "KEY=VALUE for the server's environment (repeatable)")
	fs.StringVar(&o.wrk, "wrk", "auto", "run the me case with wrk too: auto (when wrk is on PATH), on or off")
	fs.IntVar(&o.wrkThreads, "wrk-threads", 1, "wrk's -t")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON")
	fs.BoolVar(&o.verbose, "v", false, "show the server's log and progress")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if o.cases, err = parseCases(*cases); err != nil {
		return o, err
	}
	var problems []error
	if o.conns < 1 {
		problems = append(problems, errors.New("-c must be at least 1"))
	}
	if o.duration <= 0 || o.warmup < 0 {
		problems = append(problems, errors.New("-d must be positive and -warmup not negative"))
	}
	if o.bcryptCost < 4 || o.bcryptCost > 31 {
		problems = append(problems, errors.New("-bcrypt-cost must be from 4 to 31"))
	}
	if o.carts < 1 {
		problems = append(problems, errors.New("-carts must be at least 1"))
	}
	if o.wrk != "auto" && o.wrk != "on" && o.wrk != "off" {
		problems = append(problems, errors.New("-wrk must be auto, on or off"))
	}
	if !validDBPrefix(o.dbPrefix) {
		problems = append(problems, errors.New("-db-prefix: lower-case letters, digits and underscores, starting with a letter, at most 32 characters"))
	}
	for _, kv := range o.serverEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			problems = append(problems, fmt.Errorf("-server-env %q: want KEY=VALUE", kv))
		}
	}
	return o, errors.Join(problems...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	// The generator allocates a few KB a request on a small live heap, as
	// the server does; collecting less often leaves more CPU to the server.
	debug.SetGCPercent(400)
	if err := runAll(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	return 0
}

func runAll(ctx context.Context, o options, stdout, stderr io.Writer) error {
	configs, err := selectConfigs(o)
	if err != nil {
		return err
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logf := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, "loadtest: "+format+"\n", args...)
		}
	}

	bin := o.serverBin
	if bin == "" {
		bin = filepath.Join(tmp, "sessionserver")
		logf("building the server into %s", bin)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		build.Dir, build.Stdout, build.Stderr = root, stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	wrkPath := ""
	if o.wrk != "off" {
		if p, err := exec.LookPath("wrk"); err == nil {
			wrkPath = p
		} else if o.wrk == "on" {
			return fmt.Errorf("-wrk on: %w", err)
		}
	}

	var results []Result
	for _, sc := range configs {
		rs, err := runConfig(ctx, o, sc, bin, tmp, root, wrkPath, logf, stderr)
		results = append(results, rs...)
		if err != nil {
			printResults(stdout, o, results)
			return fmt.Errorf("%s: %w", sc.name, err)
		}
	}
	printResults(stdout, o, results)
	return nil
}

// runConfig starts a server for sc, runs every case on it and stops it.
func runConfig(ctx context.Context, o options, sc serverConfig, bin, tmp, root, wrkPath string,
	logf func(string, ...any), stderr io.Writer,
) (results []Result, err error) {
	env, cleanup, err := sc.prepare(ctx, tmp)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	env = append(env, "BCRYPT_COST="+fmt.Sprint(o.bcryptCost))
	env = append(env, o.serverEnv...)
	var logTo io.Writer
	if o.verbose {
		logTo = stderr
	}
	logf("%s: starting the server", sc.name)
	srv, err := startServer(ctx, bin, env, logTo)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := srv.stop(); serr != nil && err == nil {
			err = serr
		}
	}()

	f := newFixtures(srv.base, o.carts, o.conns)
	client := newClient(o.conns)
	defer client.CloseIdleConnections()
	for _, c := range o.cases {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		logf("%s: %s", sc.name, c.name)
		tg, err := c.prepare(ctx, f)
		if err != nil {
			return results, fmt.Errorf("%s: prepare: %w", c.name, err)
		}
		spec := loadSpec{Conns: o.conns, Warmup: o.warmup, Duration: o.duration, CPU: srv.cpuProbe()}
		r, err := generate(ctx, client, tg, spec)
		if err != nil {
			return results, fmt.Errorf("%s: %w", c.name, err)
		}
		r.Case, r.Config, r.Generator = c.name, sc.name, "go"
		results = append(results, r)
		if c.name == caseMe && wrkPath != "" {
			logf("%s: me with wrk", sc.name)
			r, err := runWrk(ctx, wrkPath, root, tmp, tg, o, srv)
			if err != nil {
				return results, fmt.Errorf("wrk: %w", err)
			}
			r.Case, r.Config = c.name, sc.name
			results = append(results, r)
		}
	}
	return results, nil
}

// repoRoot is the directory of the main module's go.mod: the server's
// package and internal/bench are found from there.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run it inside the repository (go run ./cmd/loadtest)")
	}
	return filepath.Dir(gomod), nil
}

// machine describes where the figures were taken, for the table's header.
func machine() string {
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf(", load average %s %s %s at the end", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%d CPUs (runtime.NumCPU) shared by the load generator and the server (and PostgreSQL and Redis when used)%s",
		runtime.NumCPU(), load)
}
