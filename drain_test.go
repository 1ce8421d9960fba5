package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testsignal"
)

// heldRequest is a POST to the Shop API whose body the test sends in two
// halves: between them the request is in flight on the server (its handler
// waits for the rest of the body).
type heldRequest struct {
	rest string
	w    *io.PipeWriter
	done chan heldResult
}

type heldResult struct {
	resp *http.Response
	body string
	err  error
}

// startHeld sends the headers and the first half of a query to url and
// returns once the client has written that half to the connection.
func startHeld(t *testing.T, client *http.Client, url string) *heldRequest {
	t.Helper()
	doc := `{"query":"{ activeChannel { code } }"}`
	r, w := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, url, r)
	require.NoError(t, err)
	req.ContentLength = int64(len(doc))
	req.Header.Set("Content-Type", "application/json")
	h := &heldRequest{rest: doc[len(doc)/2:], w: w, done: make(chan heldResult, 1)}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			h.done <- heldResult{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		h.done <- heldResult{resp: resp, body: string(body), err: err}
	}()
	_, err = io.WriteString(w, doc[:len(doc)/2]) // returns once the transport took it
	require.NoError(t, err)
	return h
}

// finish sends the rest of the body and returns the response.
func (h *heldRequest) finish(t *testing.T) heldResult {
	t.Helper()
	_, err := io.WriteString(h.w, h.rest)
	require.NoError(t, err)
	require.NoError(t, h.w.Close())
	return guarded(t, h.done, "the response")
}

// guarded receives from ch, failing the test if nothing comes within
// testsignal.WaitGuard: a guard against a hang, not a timed assertion.
func guarded[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testsignal.WaitGuard):
		t.Fatalf("%s did not come", what)
		panic("unreachable")
	}
}

func requireChannelAnswer(t *testing.T, r heldResult, what string) {
	t.Helper()
	require.NoError(t, r.err, what)
	require.Equal(t, http.StatusOK, r.resp.StatusCode, "%s: %s", what, r.body)
	require.JSONEq(t, `{"data":{"activeChannel":{"code":"__default_channel__"}}}`, r.body, what)
}

// TestRunDrains: on the signal (ctx ending) /ready turns 503 "draining"
// while the listener still accepts, for SHUTDOWN_DRAIN (which the test's
// drainWait stands for: the drain lasts until the test releases it), and
// every request meanwhile succeeds: those in flight when the signal came,
// those arriving during the drain (a steady stream of them, from before the
// signal until the drain ends) and one still in flight when the shutdown
// begins. Then run ends with status 0 and the port is closed.
func TestRunDrains(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := serverEnv(t.TempDir(), port)
	lookup := func(name string) (string, bool) {
		if name == "SHUTDOWN_DRAIN" {
			return "30s", true
		}
		return env(name)
	}

	listening, shuttingDown := make(chan struct{}), make(chan struct{})
	var log bytes.Buffer
	stderr := lineWriter{out: &log, onLine: func(line string) {
		switch {
		case strings.Contains(line, "msg=listening"):
			close(listening)
		case strings.Contains(line, `msg="shutting down"`):
			close(shuttingDown)
		}
	}}
	draining, release := make(chan time.Duration, 1), make(chan struct{})
	drainWait := func(d time.Duration) {
		draining <- d
		<-release
	}
	ctx, signal := context.WithCancel(t.Context())
	defer signal()
	done := make(chan int, 1)
	go func() { done <- run(ctx, lookup, &stderr, drainWait) }()
	select {
	case <-listening:
	case code := <-done:
		t.Fatalf("run returned %d before listening:\n%s", code, log.String())
	}

	client := &http.Client{Timeout: time.Minute}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	status, body := get("/ready")
	require.Equal(t, http.StatusOK, status, body)

	// A steady stream of requests, each on a connection of its own, from
	// before the signal until the drain ends.
	stop := make(chan struct{})
	var (
		streamed, failed atomic.Int64
		firstFailure     atomic.Value
		wg               sync.WaitGroup
	)
	stream := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := stream.Post(base+"/shop-api", "application/json", strings.NewReader(`{"query":"{ activeChannel { code } }"}`))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				streamed.Add(1)
			}
		})
	}

	// Held requests each get a connection of their own: a pooled idle one
	// could be closed by the shutdown before the server reads the request.
	held := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	inFlight := startHeld(t, held, base+"/shop-api")
	signal()
	require.Equal(t, 30*time.Second, guarded(t, draining, "the drain"), "the drain waits SHUTDOWN_DRAIN")
	require.Contains(t, log.String(), `msg="draining: /ready answers 503, requests are served" drain=30s`)

	status, body = get("/ready")
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, `{"status":"draining"}`+"\n", body)
	status, _ = get("/health")
	require.Equal(t, http.StatusOK, status, "liveness is not readiness")
	requireChannelAnswer(t, inFlight.finish(t), "in flight at the signal")
	requireChannelAnswer(t, startHeld(t, held, base+"/shop-api").finish(t), "sent during the drain")
	before := streamed.Load()
	for streamed.Load() < before+10 {
		requireChannelAnswer(t, startHeld(t, held, base+"/shop-api").finish(t), "sent during the drain")
	}

	// An idle keep-alive connection: the shutdown closes it, which tells
	// the test the shutdown has begun.
	idle, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	require.NoError(t, err)
	defer idle.Close()
	_, err = io.WriteString(idle, "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
	require.NoError(t, err)
	idleReader := bufio.NewReader(idle)
	resp, err := http.ReadResponse(idleReader, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	lastInFlight := startHeld(t, held, base+"/shop-api")
	close(stop)
	wg.Wait()
	require.Zero(t, failed.Load(), "a request failed during the drain: %v", firstFailure.Load())
	close(release)
	guarded(t, shuttingDown, "the shutdown")
	_, err = idleReader.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the shutdown closes idle connections")

	last := lastInFlight.finish(t)
	requireChannelAnswer(t, last, "in flight when the shutdown began")
	require.True(t, last.resp.Close, "answered during the shutdown (Connection: close)")
	require.Equal(t, 0, guarded(t, done, "run's return"), log.String())
	_, err = net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	require.Error(t, err, "the port is still open after shutdown")
}
