package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadSpec is how to load a target.
type loadSpec struct {
	// Conns is the number of workers, each with its own keep-alive
	// connection, each sending its next request when the last is answered.
	Conns int
	// Warmup is sent and not measured; Duration is the measured window
	// that follows.
	Warmup, Duration time.Duration
	// MinPerWorker makes every worker send at least that many measured
	// requests, past the window if need be (the smoke test: 1, whatever
	// the machine's speed). Zero for a measurement.
	MinPerWorker int
	// CPU, when set, is read at the window's start and end.
	CPU cpuProbe
}

// newClient returns the generator's HTTP client: HTTP/1.1 keep-alive, one
// connection per worker, no compression, no proxy. A server that stops
// answering fails a request after two minutes (ResponseHeaderTimeout: a
// Client.Timeout would cost a timer and a context per request).
func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			ResponseHeaderTimeout: 2 * time.Minute,
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          conns,
			MaxIdleConnsPerHost:   conns,
			MaxConnsPerHost:       conns,
			IdleConnTimeout:       90 * time.Second,
			DisableCompression:    true,
			ForceAttemptHTTP2:     false,
		},
	}
}

// workerResult is what one worker measured.
type workerResult struct {
	latencies []time.Duration // of every measured request, failed ones too
	errors    int
	firstBad  string
	lastStart time.Time // of its last measured request
}

var jsonContentType = []string{"application/json"}

// generate loads tg as spec says. A request counts when it starts within
// the window (or is one of a worker's MinPerWorker); every counted request
// is waited for, so a slow one's latency is not cut off at the window's
// end. Requests/s is the count over the window: in a steady state as many
// start as end in it.
func generate(ctx context.Context, client *http.Client, tg *target, spec loadSpec) (Result, error) {
	start := time.Now()
	t0 := start.Add(spec.Warmup)
	t1 := t0.Add(spec.Duration)

	var cpu cpuWindow
	cpuDone := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(cpuDone)
		if spec.CPU != nil {
			cpu.measure(cctx, spec.CPU, t0, t1)
		}
	}()

	results := make([]workerResult, spec.Conns)
	var wg sync.WaitGroup
	for w := range spec.Conns {
		wg.Go(func() { results[w] = runWorker(ctx, client, tg, tg.source(w, spec.Conns), spec, t0, t1) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	cancel()
	<-cpuDone

	r := Result{Conns: spec.Conns}
	var all []time.Duration
	end := t1
	for _, wr := range results {
		all = append(all, wr.latencies...)
		r.Errors += wr.errors
		if r.FirstError == "" {
			r.FirstError = wr.firstBad
		}
		if wr.lastStart.After(end) {
			end = wr.lastStart
		}
	}
	window := end.Sub(t0)
	r.Requests = len(all)
	r.Seconds = window.Seconds()
	if window > 0 {
		r.RPS = float64(r.Requests) / window.Seconds()
	}
	slices.Sort(all)
	r.P50, r.P99 = percentile(all, 50), percentile(all, 99)
	r.GenCPU, r.ServerCPU = cpu.percent()
	return r, nil
}

func runWorker(ctx context.Context, client *http.Client, tg *target, next func() request, spec loadSpec, t0, t1 time.Time) workerResult {
	res := workerResult{latencies: make([]time.Duration, 0, 1<<12)}
	w := newWorker(ctx, client, tg, next)
	for ctx.Err() == nil {
		s := time.Now()
		if !s.Before(t1) && len(res.latencies) >= spec.MinPerWorker {
			break
		}
		ok, bad := w.send()
		if s.Before(t0) {
			continue
		}
		res.latencies = append(res.latencies, time.Since(s))
		res.lastStart = s
		if !ok {
			res.errors++
			if res.firstBad == "" {
				res.firstBad = bad
			}
		}
	}
	return res
}

// worker sends one request after the other. It reuses one http.Request
// (net/http allows it once the last response's body is closed) and one
// buffer for the answers, so that the generator's own cost per request
// stays small beside the server's.
type worker struct {
	client *http.Client
	tg     *target
	next   func() request
	req    *http.Request
	body   bodyReader
	token  string // the token req's Authorization header carries
	buf    bytes.Buffer
}

// bodyReader is a request body that can be rewound for the next request.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

func newWorker(ctx context.Context, client *http.Client, tg *target, next func() request) *worker {
	w := &worker{client: client, tg: tg, next: next}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.url, nil)
	if err != nil {
		panic(err) // tg.url is the server's, built by this command
	}
	req.Header = http.Header{"Content-Type": jsonContentType}
	w.req = req
	return w
}

// send sends the next request and reports whether the answer is the
// expected one, and if not, what it was.
func (w *worker) send() (bool, string) {
	r := w.next()
	w.body.Reset(r.body)
	w.req.Body = &w.body
	w.req.ContentLength = int64(len(r.body))
	if r.token != w.token {
		if r.token == "" {
			delete(w.req.Header, "Authorization")
		} else {
			w.req.Header["Authorization"] = []string{"Bearer " + r.token}
		}
		w.token = r.token
	}
	resp, err := w.client.Do(w.req)
	if err != nil {
		return false, err.Error()
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return false, err.Error()
	}
	if !w.tg.ok(resp.StatusCode, resp.Header, w.buf.Bytes()) {
		return false, fmt.Sprintf("HTTP %d %s", resp.StatusCode, truncate(w.buf.Bytes(), 300))
	}
	return true, ""
}

// cpuWindow is the CPU time both processes used within a window.
type cpuWindow struct {
	ok              bool
	wall, self, srv time.Duration
}

// measure reads probe at t0 and at t1, unless ctx ends first.
func (c *cpuWindow) measure(ctx context.Context, probe cpuProbe, t0, t1 time.Time) {
	wait := func(at time.Time) bool {
		t := time.NewTimer(time.Until(at))
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !wait(t0) {
		return
	}
	self0, srv0, ok0 := probe()
	w0 := time.Now()
	if !wait(t1) {
		return
	}
	self1, srv1, ok1 := probe()
	c.ok = ok0 && ok1
	c.wall, c.self, c.srv = time.Since(w0), self1-self0, srv1-srv0
}

// percent returns the generator's and the server's CPU use over the window
// in percent of one core, -1 when not measured.
func (c *cpuWindow) percent() (gen, srv float64) {
	if !c.ok || c.wall <= 0 {
		return -1, -1
	}
	return 100 * c.self.Seconds() / c.wall.Seconds(), 100 * c.srv.Seconds() / c.wall.Seconds()
}
