package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Configuration names.
const (
	configSQLiteMemory   = "sqlite+memory"
	configSQLiteRedis    = "sqlite+redis"
	configPostgresMemory = "postgres+memory"
	configPostgresRedis  = "postgres+redis"
)

// serverConfig is one database and cache combination to run the cases on.
type serverConfig struct {
	name        string
	postgresURL string // the server to create the database on; "" for SQLite
	redisURL    string // "" for the memory cache
	dbPrefix    string
}

// selectConfigs returns the configurations o's URLs allow, narrowed to
// -configs when it is set.
func selectConfigs(o options) ([]serverConfig, error) {
	pg := o.databaseURL
	if pg != "" && !strings.HasPrefix(pg, "postgres://") && !strings.HasPrefix(pg, "postgresql://") {
		return nil, fmt.Errorf("-database-url (DATABASE_URL) must be a postgres:// URL, not %q", redact(pg))
	}
	if o.redisURL != "" && !strings.HasPrefix(o.redisURL, "redis://") && !strings.HasPrefix(o.redisURL, "rediss://") {
		return nil, fmt.Errorf("-redis-url (REDIS_URL) must be a redis:// URL, not %q", redact(o.redisURL))
	}
	all := []serverConfig{{name: configSQLiteMemory}}
	switch {
	case pg != "" && o.redisURL != "":
		all = append(all, serverConfig{name: configPostgresRedis, postgresURL: pg, redisURL: o.redisURL, dbPrefix: o.dbPrefix})
	case pg != "":
		all = append(all, serverConfig{name: configPostgresMemory, postgresURL: pg, dbPrefix: o.dbPrefix})
	case o.redisURL != "":
		all = append(all, serverConfig{name: configSQLiteRedis, redisURL: o.redisURL})
	}
	if o.configs == "" {
		return all, nil
	}
	var out []serverConfig
	for name := range strings.SplitSeq(o.configs, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, c := range all {
			if c.name == name {
				out = append(out, c)
				found = true
			}
		}
		if !found {
			names := make([]string, len(all))
			for i, c := range all {
				names[i] = c.name
			}
			return nil, fmt.Errorf("-configs: %q is not one of %s (PostgreSQL needs -database-url, Redis -redis-url)", name, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// redact drops a URL's password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// serverEnv is the server's environment for a database URL and a Redis URL
// ("" for the memory cache): the settings every case needs, on top of the
// few variables passed through from base (the command's environment).
func serverEnv(base []string, databaseURL, redisURL string) []string {
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "TMPDIR", "GOGC", "GOMEMLIMIT", "GOMAXPROCS":
			env = append(env, kv)
		}
	}
	env = append(env,
		"LOG_LEVEL=warn",
		"THROTTLE=off",
		// Every request comes from one address.
		"GUEST_ADDRESS_LIMIT=0",
		"GUEST_CACHE_LIMIT=0",
		"DATABASE_URL="+databaseURL,
	)
	if redisURL != "" {
		env = append(env, "SESSION_CACHE_STRATEGY=redis", "REDIS_URL="+redisURL)
	} else {
		env = append(env, "SESSION_CACHE_STRATEGY=memory")
	}
	return env
}

// prepare makes sc's database (a file under tmp, or a new PostgreSQL
// database) and returns the server's environment and what removes the
// database.
func (sc serverConfig) prepare(ctx context.Context, tmp string) (env []string, cleanup func() error, err error) {
	if sc.postgresURL == "" {
		dir, err := os.MkdirTemp(tmp, sc.name+"-")
		if err != nil {
			return nil, nil, err
		}
		env = serverEnv(os.Environ(), "sqlite://"+filepath.Join(dir, "db.sqlite"), sc.redisURL)
		return env, func() error { return os.RemoveAll(dir) }, nil
	}
	dbURL, drop, err := createDatabase(ctx, sc.postgresURL, sc.dbPrefix)
	if err != nil {
		return nil, nil, err
	}
	return serverEnv(os.Environ(), dbURL, sc.redisURL), drop, nil
}

var dbPrefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

func validDBPrefix(p string) bool { return dbPrefixPattern.MatchString(p) }

// createDatabase creates an empty database named prefix+<unix time>_<random>
// on the PostgreSQL server of serverURL and returns its URL and what drops it.
func createDatabase(ctx context.Context, serverURL, prefix string) (string, func() error, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("-database-url: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("%s%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b[:]))
	do := func(ctx context.Context, sql string) error {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", u.Redacted(), err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := do(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	db := *u
	db.Path = "/" + name
	drop := func() error {
		// The command's context may be cancelled (Ctrl-C): drop anyway.
		if err := do(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return db.String(), drop, nil
}

// server is a running server process.
type server struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	done chan struct{}
	log  *tailBuffer
}

// startServer starts bin with env on a free loopback port and waits until
// its /health answers 200. Its standard error goes to logTo when it is set,
// and its end is kept for an error message in any case.
func startServer(ctx context.Context, bin string, env []string, logTo io.Writer) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{}), log: &tailBuffer{max: 16 << 10}}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(env, fmt.Sprintf("PORT=%d", port))
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if logTo != nil {
		s.cmd.Stdout = io.MultiWriter(s.log, logTo)
		s.cmd.Stderr = s.cmd.Stdout
	}
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(s.base + "/health"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the server exited: %s\n%s", s.cmd.ProcessState, s.log)
		case <-deadline.C:
			_ = s.stop()
			return nil, fmt.Errorf("the server did not answer /health within 2 minutes:\n%s", s.log)
		case <-ctx.Done():
			_ = s.stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL after 30 seconds.
func (s *server) stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("the server did not stop within 30 seconds of SIGTERM; killed")
	}
}

// cpuProbe reads the CPU time used so far by this process and by the
// server.
func (s *server) cpuProbe() cpuProbe {
	pid := s.cmd.Process.Pid
	return func() (self, srv time.Duration, ok bool) {
		self, ok1 := selfCPU()
		srv, ok2 := processCPU(pid)
		return self, srv, ok1 && ok2
	}
}

// freePort returns a loopback TCP port nothing listened on a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
