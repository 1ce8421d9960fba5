package testenv

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Backend is a server a package's tests also run on when its environment
// variable is set.
type Backend int

// The backends Main reports on.
const (
	// PostgreSQL: TEST_DATABASE_URL (PostgresURLEnv).
	PostgreSQL Backend = iota
	// RedisServer: TEST_REDIS_URL (RedisURLEnv); without it, miniredis.
	RedisServer
)

// skipLine is what Main says about a backend whose variable is unset.
func (b Backend) skipLine() (env, line string) {
	switch b {
	case PostgreSQL:
		return PostgresURLEnv, fmt.Sprintf("postgres: skipped (set %s=postgres://… to run on PostgreSQL, e.g. make test/pg)", PostgresURLEnv)
	default:
		return RedisURLEnv, fmt.Sprintf("redis: skipped, miniredis ran instead (set %s=redis://… to run on Redis, e.g. make test/pg)", RedisURLEnv)
	}
}

// Main runs a package's tests (call it from TestMain) after saying, in one
// line per backend the package uses, which ones are skipped because their
// variable is unset and how to enable them.
//
// go test hides the output of a package that passes, so the line goes to
// the controlling terminal when there is one, and to standard output
// otherwise (shown by go test -v, or when the package fails). One go test
// run says each line once, however many packages it runs: the first
// package to start leaves a marker named after the go command's process id
// in the temporary directory. All of this happens before m.Run, so go
// test's cache does not see these files: a cached package stays cached.
//
// A test binary that runs itself as a helper process (os.Args[0] with
// -test.run) says nothing: the helper inherits saidEnv, and its output is
// often read by the test that started it.
func Main(m *testing.M, uses ...Backend) {
	if os.Getenv(saidEnv) == "" {
		for _, b := range uses {
			env, line := b.skipLine()
			if os.Getenv(env) == "" && firstInRun(env) {
				say(line)
			}
		}
		_ = os.Setenv(saidEnv, "1")
	}
	os.Exit(m.Run())
}

// saidEnv is set in the environment of a test binary that Main ran in, and
// so in that of the processes it starts.
const saidEnv = "SESSIONSERVER_TESTENV_MAIN"

// markerMaxAge bounds how long a marker silences the line: an older one
// was left by an earlier run whose go command had the same process id.
const markerMaxAge = time.Hour

// firstInRun reports whether no other package of this go test run has said
// env's line yet, and marks it said.
func firstInRun(env string) bool {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "sessionserver-testenv-*"))
	for _, name := range old {
		if fi, err := os.Stat(name); err == nil && time.Since(fi.ModTime()) > markerMaxAge {
			_ = os.Remove(name)
		}
	}
	marker := filepath.Join(os.TempDir(), fmt.Sprintf("sessionserver-testenv-%s-%d", env, os.Getppid()))
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return os.IsNotExist(err) // no temporary directory: say it anyway
	}
	_ = f.Close()
	return true
}

// say writes line to the controlling terminal, or to standard output.
func say(line string) {
	var w io.Writer = os.Stdout
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		w = tty
	}
	fmt.Fprintln(w, line)
}
