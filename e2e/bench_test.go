package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// meDocuments are the `me` documents of the benchmarks: "full" is the
// admin UI's document with every channel's permissions, "small" a
// storefront's.
var meDocuments = []struct{ name, body string }{
	{"full", `{"query":"{ me { id identifier channels { id code token permissions } } }"}`},
	{"small", `{"query":"{ me { id identifier } }"}`},
}

// benchBackends are the backends of the `me` benchmarks: every backend,
// and SQLite with redis+memory (which backends() leaves to its own tests),
// so that one run puts memory, redis and redis+memory side by side.
func benchBackends() []backend {
	return append(backends(), backend{"sqlite+redis+memory", "sqlite", config.CacheRedisMemory})
}

// BenchmarkMeHTTP is `me` of a logged-in administrator through the real
// handler with a bearer token, on each backend (the cache is hit after the
// first request), one request at a time. It calls the handler in-process;
// the wrk command of docs/benchmarks.md ("Cached `me`") measures the same
// over loopback TCP.
func BenchmarkMeHTTP(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			h, token := benchMeServer(b, be)
			for _, doc := range meDocuments {
				b.Run(doc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						serveMe(b, h, token, []byte(doc.body))
					}
				})
			}
		})
	}
}

// BenchmarkMeHTTPParallel is BenchmarkMeHTTP from 50 concurrent clients,
// as the wrk run: its ns/op is the inverse of the throughput.
func BenchmarkMeHTTPParallel(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			h, token := benchMeServer(b, be)
			for _, doc := range meDocuments {
				b.Run(doc.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetParallelism(25) // 50 clients on 2 cores
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							serveMe(b, h, token, []byte(doc.body))
						}
					})
				})
			}
		})
	}
}

// BenchmarkMeHTTPMetrics is BenchmarkMeHTTP and BenchmarkMeHTTPParallel
// on SQLite with the memory cache, without metrics and with them
// (METRICS_ADDR set: every request records its session lookup and its
// GraphQL operation), side by side: compare with benchstat -col /metrics
// (docs/metrics.md, "Cost").
func BenchmarkMeHTTPMetrics(b *testing.B) {
	be := backends()[0]
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			for _, doc := range meDocuments {
				b.Run(doc.name, func(b *testing.B) {
					for _, on := range []bool{false, true} {
						b.Run(map[bool]string{false: "metrics=off", true: "metrics=on"}[on], func(b *testing.B) {
							var opts []envOption
							if on {
								opts = append(opts, withMetrics())
							}
							h, token := benchMeServer(b, be, opts...)
							body := []byte(doc.body)
							b.ReportAllocs()
							if mode == "serial" {
								for b.Loop() {
									serveMe(b, h, token, body)
								}
								return
							}
							b.SetParallelism(25) // 50 clients on 2 cores
							b.RunParallel(func(pb *testing.PB) {
								for pb.Next() {
									serveMe(b, h, token, body)
								}
							})
						})
					}
				})
			}
		})
	}
}

// benchMeServer starts a server on be, logs the superadmin in and returns
// the handler and the token, cached (in the memory tier too, with
// redis+memory).
func benchMeServer(b *testing.B, be backend, opts ...envOption) (http.Handler, string) {
	e := newEnv(b, be, opts...)
	admin := e.admin(testenv.Bearer)
	admin.Do(loginMutation, creds("superadmin", "superadmin"))
	h := e.app.Handler()
	serveMe(b, h, admin.Token, []byte(meDocuments[0].body)) // the login's write dropped the memory tier's copy
	return h, admin.Token
}

// serveMe sends one `me` and fails on an error.
func serveMe(b *testing.B, h http.Handler, token string, body []byte) {
	if err := me(h, token, body); err != nil {
		b.Fatal(err)
	}
}

// me sends one `me` and returns its failure.
func me(h http.Handler, token string, body []byte) error {
	req := httptest.NewRequest(http.MethodPost, app.AdminPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		return fmt.Errorf("me failed: %d %s", w.Code, w.Body)
	}
	return nil
}

// BenchmarkInvalidationDelivery measures the window of redis+memory with
// Redis healthy: how long after a revocation on instance A instance B has
// dropped its copy. Two instances share a database and a Redis key prefix
// (TEST_REDIS_URL's Redis, else a miniredis); each iteration revokes one
// key on A (the cache call a logout makes after its commit) and waits for
// B's apply. "idle" runs nothing else; "me-load" runs 50 keep-alive
// clients sending the cached full `me` to B over loopback HTTP meanwhile
// (as the wrk run of docs/benchmarks.md, but in the same process), so both
// cores are busy. It reports the p50 and p99 of
// call-to-apply (from A's call to B's drop) and return-to-apply (from
// A's return, what a client logged out on A could measure; 0 when B
// dropped it first), in microseconds.
func BenchmarkInvalidationDelivery(b *testing.B) {
	for _, load := range []bool{false, true} {
		name := "idle"
		if load {
			name = "me-load"
		}
		b.Run(name, func(b *testing.B) {
			client, mr := testenv.Redis(b)
			var bClient redis.UniversalClient = client
			if mr == nil {
				bClient, _ = testenv.Redis(b)
			}
			db := testenv.SQLiteDB(b)
			prefix := testenv.RandomPrefix()
			a := newBenchInstance(b, app.Options{DB: db, Redis: client, RedisKeyPrefix: prefix})
			bi := newBenchInstance(b, app.Options{DB: db, Redis: bClient, RedisKeyPrefix: prefix})
			if load {
				stop := loadMe(b, bi)
				defer stop()
			}
			ctx := context.Background()
			signals := &bi.Tiered.TestSignals.Applied
			signals.Init(b)
			callToApply := make([]time.Duration, 0, b.N)
			returnToApply := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				i++
				key := "bench-" + strconv.Itoa(i)
				start := time.Now()
				if err := a.Tiered.Delete(ctx, key); err != nil {
					b.Fatal(err)
				}
				returned := time.Now()
				for {
					v := signals.WaitOrTimeout()
					if slices.Contains(v.Keys, key) {
						callToApply = append(callToApply, v.At.Sub(start))
						returnToApply = append(returnToApply, max(0, v.At.Sub(returned)))
						break
					}
				}
			}
			reportPercentiles(b, "call-to-apply", callToApply)
			reportPercentiles(b, "return-to-apply", returnToApply)
		})
	}
}

// newBenchInstance starts a redis+memory server for a benchmark and waits
// until its memory tier is in use.
func newBenchInstance(b *testing.B, opts app.Options) *app.App {
	cfg := config.Defaults()
	cfg.BcryptCost = 4
	cfg.DefaultChannelToken = "e2e-default-channel"
	cfg.SessionCacheStrategy = config.CacheRedisMemory
	cfg.RedisURL = "redis://unused:6379/0" // the client is given
	// As the e2e tests: a call a loaded machine answers in 80 ms is not
	// what this measures (and would stop the run).
	cfg.SessionCacheTimeout = testCacheTimeout
	opts.Logger = slog.New(slog.DiscardHandler)
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	if err := a.Tiered.Confirm(context.Background()); err != nil {
		b.Fatal(err)
	}
	return a
}

// loadMe logs the superadmin in on a and sends the cached full `me` to it
// over loopback HTTP from 50 keep-alive clients, as wrk does, until the
// returned function is called.
func loadMe(b *testing.B, a *app.App) (stop func()) {
	srv := httptest.NewServer(a.Handler())
	b.Cleanup(srv.Close)
	login := testenv.NewClient(b, srv.URL+app.AdminPath, testenv.Bearer)
	login.Do(loginMutation, creds("superadmin", "superadmin"))
	body := []byte(meDocuments[0].body)
	transport := &http.Transport{MaxIdleConnsPerHost: 50}
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	done := make(chan struct{})
	failed := make(chan error, 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := meOverHTTP(client, srv.URL+app.AdminPath, login.Token, body); err != nil {
					failed <- err
					return
				}
			}
		})
	}
	return sync.OnceFunc(func() {
		close(done)
		wg.Wait()
		close(failed)
		if err := <-failed; err != nil {
			b.Fatal(err)
		}
	})
}

// meOverHTTP posts one `me` to url and returns its failure.
func meOverHTTP(client *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(data, []byte(`"errors"`)) {
		return fmt.Errorf("me failed: %d %s", resp.StatusCode, data)
	}
	return nil
}

// reportPercentiles reports the p50 and p99 of ds, in microseconds.
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), name+"-p50-µs")
	b.ReportMetric(at(0.99), name+"-p99-µs")
}
