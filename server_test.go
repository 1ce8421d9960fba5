package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serverEnv is the environment of a server on a fresh SQLite file in dir,
// with the cheapest bcrypt cost (the seed hashes the superadmin password),
// and the variables of extra (name, value, name, value, ...).
func serverEnv(dir string, port int, extra ...string) func(string) (string, bool) {
	vars := map[string]string{
		"PORT":         strconv.Itoa(port),
		"DATABASE_URL": "sqlite://" + filepath.Join(dir, "data", "test.db"),
		"BCRYPT_COST":  "4",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
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

// TestRunJSONLogsAndTraces: with LOG_FORMAT=json every line is a JSON
// object, and a request's line carries its request id and, with
// OTEL_EXPORTER_OTLP_ENDPOINT set, the trace id of the traceparent it
// came with. Stopping the server sends the spans still held to the
// collector (the OTLP/HTTP path /v1/traces of the endpoint), under the
// default service name.
func TestRunJSONLogsAndTraces(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		exports [][]byte
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			mu.Lock()
			exports = append(exports, body)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	port := freePort(t)
	base := serverEnv(t.TempDir(), port)
	lookup := func(name string) (string, bool) {
		switch name {
		case "LOG_FORMAT":
			return "json", true
		case "OTEL_EXPORTER_OTLP_ENDPOINT":
			return collector.URL, true
		}
		return base(name)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	listening := make(chan struct{}, 1)
	var log bytes.Buffer
	stderr := lineWriter{out: &log, onLine: func(line string) {
		if strings.Contains(line, `"msg":"listening"`) {
			listening <- struct{}{}
		}
	}}
	done := make(chan int, 1)
	go func() { done <- run(ctx, lookup, &stderr, noDrain) }()
	select {
	case <-listening:
	case code := <-done:
		t.Fatalf("run returned %d before listening:\n%s", code, log.String())
	}

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/shop-api", port),
		strings.NewReader(`{"query":"mutation Login { login(username: \"nobody@example.com\", password: \"hunter2\") { __typename } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "InvalidCredentialsError")
	requestID := resp.Header.Get("X-Request-Id")
	require.NotEmpty(t, requestID)

	cancel()
	require.Equal(t, 0, <-done, log.String())

	var failed map[string]any
	for line := range strings.Lines(log.String()) {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "not JSON: %q", line)
		if entry["msg"] == "login failed" {
			failed = entry
		}
	}
	require.NotNil(t, failed, log.String())
	require.Equal(t, requestID, failed["requestId"])
	require.Equal(t, traceID, failed["trace_id"])
	require.Len(t, failed["span_id"], 16)
	require.NotContains(t, log.String(), "hunter2")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, exports, "no spans reached the collector")
	all := bytes.Join(exports, nil)
	require.Contains(t, string(all), "sessionserver", "service.name")
	require.Contains(t, string(all), "POST /shop-api")
	require.NotContains(t, string(all), "hunter2")
	require.NotContains(t, string(all), "nobody@example.com")
}

// TestRunMetricsAddrIsPort: METRICS_ADDR on the API's port is refused at
// start, with the reason.
func TestRunMetricsAddrIsPort(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	var stderr bytes.Buffer
	code := run(t.Context(), serverEnv(t.TempDir(), port, "METRICS_ADDR", addr), &stderr, noDrain)

	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(),
		fmt.Sprintf(`METRICS_ADDR: %q has the API's port (PORT=%d); the metrics need a port of their own`, addr, port))
}

// TestRunMetricsAddrTaken: a metrics address another socket holds ends run
// with status 1 and one line naming the setting and the system's reason,
// before the database is touched.
func TestRunMetricsAddrTaken(t *testing.T) {
	t.Parallel()
	holder, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer holder.Close()
	addr := holder.Addr().String()
	dir := t.TempDir()

	var stderr bytes.Buffer
	code := run(t.Context(), serverEnv(dir, freePort(t), "METRICS_ADDR", addr), &stderr, noDrain)

	require.Equal(t, 1, code)
	out := stderr.String()
	require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	require.True(t, strings.HasPrefix(out, fmt.Sprintf("sessionserver: METRICS_ADDR=%s: listen tcp %s: ", addr, addr)), out)
	require.Contains(t, out, "address already in use")
	_, err = os.Stat(filepath.Join(dir, "data"))
	require.ErrorIs(t, err, os.ErrNotExist, "the database was opened before the metrics address was bound")
}

// TestRunServesMetrics: with METRICS_ADDR the metrics are served on their
// own listener (logged once it serves), not on the API's port, and the
// listener closes with the server.
func TestRunServesMetrics(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	urls := make(chan string, 1)
	var log bytes.Buffer
	stderr := lineWriter{out: &log, onLine: func(line string) {
		if _, url, ok := strings.Cut(line, "msg=\"serving metrics\" url="); ok {
			urls <- url
		}
	}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, serverEnv(t.TempDir(), port, "METRICS_ADDR", "127.0.0.1:0"), &stderr, noDrain)
	}()

	var url string
	select {
	case url = <-urls:
	case code := <-done:
		t.Fatalf("run returned %d before serving metrics:\n%s", code, log.String())
	}
	resp, err := http.Get(url)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "sessionserver_session_lookups_total{outcome=\"cache_hit\"} 0")
	require.Contains(t, string(body), "go_goroutines ")

	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusOK, resp.StatusCode, "the API's port serves no metrics")

	cancel()
	require.Equal(t, 0, <-done, log.String())
	_, err = http.Get(url)
	require.Error(t, err, "the metrics listener is still open after shutdown")
}
