package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serverEnv is the environment of a server on a fresh SQLite file in dir,
// with the cheapest bcrypt cost (the seed hashes the superadmin password).
func serverEnv(dir string, port int) func(string) (string, bool) {
	vars := map[string]string{
		"PORT":         strconv.Itoa(port),
		"DATABASE_URL": "sqlite://" + filepath.Join(dir, "data", "test.db"),
		"BCRYPT_COST":  "4",
	}
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// TestRunPortTaken: a port another socket holds ends run with status 1 and
// one line naming the setting and the system's reason, before the database
// is touched.
func TestRunPortTaken(t *testing.T) {
	t.Parallel()
	holder, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer holder.Close()
	port := holder.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()

	var stderr bytes.Buffer
	code := run(t.Context(), serverEnv(dir, port), &stderr, noDrain)

	require.Equal(t, 1, code)
	out := stderr.String()
	require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	require.True(t, strings.HasPrefix(out, fmt.Sprintf("sessionserver: PORT=%d: listen tcp :%d: ", port, port)), out)
	require.Contains(t, out, "address already in use")
	_, err = os.Stat(filepath.Join(dir, "data"))
	require.ErrorIs(t, err, os.ErrNotExist, "the database was opened before the port was bound")
}

// TestRunListensThenShutsDown: when "listening" is logged the port already
// accepts connections (the dial happens inside the log write, before run
// goes on), /health answers, and cancelling the context shuts the server
// down with status 0.
func TestRunListensThenShutsDown(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	dialed := make(chan error, 1)
	var log bytes.Buffer
	stderr := lineWriter{out: &log, onLine: func(line string) {
		if strings.Contains(line, "msg=listening") {
			conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				conn.Close()
			}
			dialed <- err
		}
	}}
	done := make(chan int, 1)
	go func() { done <- run(ctx, serverEnv(t.TempDir(), port), &stderr, noDrain) }()

	select {
	case err := <-dialed:
		require.NoError(t, err, "the port refused a connection when listening was logged")
	case code := <-done:
		t.Fatalf("run returned %d before listening:\n%s", code, log.String())
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, `{"status":"ok"}`+"\n", string(body))

	cancel()
	require.Equal(t, 0, <-done, log.String())
	require.Contains(t, log.String(), "msg=\"shutting down\"")
	_, err = net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	require.Error(t, err, "the port is still open after shutdown")
}

// noDrain is run's drainWait for tests that do not look at the drain: it
// returns at once.
func noDrain(time.Duration) {}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lineWriter copies what it is given to out and calls onLine with each
// complete line before Write returns, so the caller acts at the moment a
// line is logged. The logger serialises its writes.
type lineWriter struct {
	out     *bytes.Buffer
	partial []byte
	onLine  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.out.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.onLine(line)
	}
}
