package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one case on one configuration with one generator.
type Result struct {
	Case      string `json:"case"`
	Config    string `json:"config"`
	Generator string `json:"generator"` // go or wrk
	Conns     int    `json:"conns"`
	// Seconds is the measured window.
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	// Errors are the requests whose answer was not the case's expected
	// one (transport errors and non-2xx included).
	Errors int           `json:"errors"`
	RPS    float64       `json:"requests_per_second"`
	P50    time.Duration `json:"-"`
	P99    time.Duration `json:"-"`
	// GenCPU and ServerCPU are the CPU the generator's process and the
	// server's used in the window, in percent of one core; -1 when not
	// measured.
	GenCPU    float64 `json:"generator_cpu_percent"`
	ServerCPU float64 `json:"server_cpu_percent"`
	// FirstError is the first unexpected answer (or transport error).
	FirstError string `json:"first_error,omitempty"`
}

// MarshalJSON writes the percentiles in milliseconds.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		P50 float64 `json:"p50_ms"`
		P99 float64 `json:"p99_ms"`
	}{plain(r), ms(r.P50), ms(r.P99)})
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. Zero for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// printResults writes the table (or JSON with -json).
func printResults(w io.Writer, o options, results []Result) {
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Machine    string    `json:"machine"`
			BcryptCost int       `json:"bcrypt_cost"`
			Warmup     float64   `json:"warmup_seconds"`
			Results    []Result  `json:"results"`
			Taken      time.Time `json:"taken"`
		}{machine(), o.bcryptCost, o.warmup.Seconds(), results, time.Now().UTC().Truncate(time.Second)})
		return
	}
	fmt.Fprintf(w, "%s; %s after a %s warm-up at %d connections; BCRYPT_COST=%d; %s\n",
		machine(), o.duration, o.warmup, o.conns, o.bcryptCost, time.Now().UTC().Format(time.DateTime+" MST"))
	writeTable(w, results)
}

// writeTable writes results as an aligned table, a row with errors marked
// "!" and its first unexpected answer listed below.
func writeTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tconfig\tgen\treq/s\tp50\tp99\terrors\tgen cpu\tserver cpu\t")
	flagged := false
	for _, r := range results {
		errs := strconv.Itoa(r.Errors)
		if r.Errors > 0 {
			errs += " !"
			flagged = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Case, r.Config, r.Generator,
			formatRate(r.RPS), formatLatency(r.P50), formatLatency(r.P99), errs, cpuPercent(r.GenCPU), cpuPercent(r.ServerCPU))
	}
	_ = tw.Flush()
	if flagged {
		fmt.Fprintln(w, "! errors: these rows do not measure their case. First unexpected answer of each:")
		for _, r := range results {
			if r.Errors > 0 {
				fmt.Fprintf(w, "  %s %s %s: %d of %d: %s\n", r.Case, r.Config, r.Generator, r.Errors, r.Requests, r.FirstError)
			}
		}
	}
}

// formatRate writes requests/s: with one decimal below 100, else whole
// with comma separators.
func formatRate(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return thousands(v)
}

// thousands formats v rounded to a whole number with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatLatency writes d with two or three significant digits: 0.94ms,
// 6.6ms, 36ms, 1.2s.
func formatLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + "ms"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	}
}

func cpuPercent(p float64) string {
	if p < 0 {
		return "-"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}
