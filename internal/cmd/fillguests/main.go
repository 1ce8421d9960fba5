// Command fillguests fills a running server's session cache with guest
// sessions: it POSTs `{ activeCustomer { id } }` without a token -n times,
// -c at once, and fails if a response is not a new session. Each request
// creates one guest session (a row, and a cache entry). It is what
// docs/benchmarks.md, "Memory per cached session", runs to put 1,000,000
// entries into the memory cache; wrk cannot stop after a number of
// requests, only after a time.
//
//	go run ./internal/cmd/fillguests -url http://127.0.0.1:3111/shop-api -n 1000000
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:3111/shop-api", "the Shop API")
	n := flag.Int64("n", 1000000, "requests (guest sessions) to make")
	c := flag.Int("c", 50, "requests at once")
	flag.Parse()
	body := []byte(`{"query":"{ activeCustomer { id } }"}`)
	tr := &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c}
	client := &http.Client{Transport: tr}
	var done, fails atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			for done.Add(1) <= *n {
				resp, err := client.Post(*url, "application/json", bytes.NewReader(body))
				if err != nil {
					fails.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("vendure-auth-token") == "" {
					fails.Add(1)
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	fmt.Printf("%d requests in %s (%.0f/s), %d failed\n", *n, d.Round(time.Millisecond), float64(*n)/d.Seconds(), fails.Load())
	if fails.Load() > 0 {
		os.Exit(1)
	}
}
