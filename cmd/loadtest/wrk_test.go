package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wrkReport is wrk 4.2's output with --latency and me-tokens.lua.
const wrkReport = `Running 10s test @ http://127.0.0.1:40123/shop-api
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.25ms    1.31ms  38.22ms   93.10%
    Req/Sec    41.26k     2.31k   45.80k    72.00%
  Latency Distribution
     50%  940.00us
     75%    1.31ms
     90%    2.06ms
     99%    6.60ms
  410528 requests in 10.00s, 71.26MB read
Requests/sec:  41048.32
Transfer/sec:      7.13MB
`

func TestParseWrk(t *testing.T) {
	t.Parallel()
	r, err := parseWrk(wrkReport)
	require.NoError(t, err)
	require.Equal(t, 410528, r.Requests)
	require.InDelta(t, 10.0, r.Seconds, 1e-9)
	require.InDelta(t, 41048.32, r.RPS, 1e-9)
	require.Equal(t, 940*time.Microsecond, r.P50)
	require.Equal(t, 6600*time.Microsecond, r.P99)
	require.Zero(t, r.Errors)
	require.Empty(t, r.FirstError)
}

func TestParseWrkErrors(t *testing.T) {
	t.Parallel()
	out := `unexpected response: 503 {"errors":[{"message":"Internal server error"}]}
unexpected response: 503 {"errors":[{"message":"Internal server error"}]}
Running 10s test @ http://127.0.0.1:40123/shop-api
  1 threads and 50 connections
  Latency Distribution
     50%    1.50s
     99%    2.00m
  1000 requests in 10.01s, 1.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    99.90
Transfer/sec:    102.30KB
FAILED: 9 unexpected responses (7 non-2xx)
`
	r, err := parseWrk(out)
	require.NoError(t, err)
	require.Equal(t, 1500*time.Millisecond, r.P50)
	require.Equal(t, 2*time.Minute, r.P99)
	require.Equal(t, 9+5, r.Errors, "the script's count (non-2xx among them) and the socket errors")
	require.Equal(t, `503 {"errors":[{"message":"Internal server error"}]}`, r.FirstError)

	// Without the script's count, the non-2xx answers.
	r, err = parseWrk(wrkReport + "  Non-2xx or 3xx responses: 4\n")
	require.NoError(t, err)
	require.Equal(t, 4, r.Errors)
	require.Equal(t, "4 non-2xx, 0 socket errors", r.FirstError)
}

func TestParseWrkIncomplete(t *testing.T) {
	t.Parallel()
	_, err := parseWrk("Running 10s test @ http://127.0.0.1:1/\n  0 requests in 10.00s, 0B read\nRequests/sec: 0.00\n")
	require.ErrorContains(t, err, "--latency")
	_, err = parseWrk("")
	require.Error(t, err)
}
