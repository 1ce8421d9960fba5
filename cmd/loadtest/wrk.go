package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// runWrk runs the me case with wrk and internal/bench/me-tokens.lua: the
// same document and bearer token as the Go generator's me, at the same
// number of connections and for the same duration, right after it (the
// server is warm; wrk has no warm-up of its own).
func runWrk(ctx context.Context, wrk, root, tmp string, tg *target, o options, srv *server) (Result, error) {
	tokens := filepath.Join(tmp, "me-token.txt")
	if err := os.WriteFile(tokens, []byte(tg.token+"\n"), 0o600); err != nil {
		return Result{}, err
	}
	secs := max(1, int(o.duration.Round(time.Second).Seconds()))
	cmd := exec.CommandContext(ctx, wrk,
		"-t"+strconv.Itoa(o.wrkThreads), "-c"+strconv.Itoa(o.conns), "-d"+strconv.Itoa(secs)+"s", "--latency",
		"-s", filepath.Join(root, "internal", "bench", "me-tokens.lua"), tg.url)
	cmd.Env = append(os.Environ(), "TOKENS="+tokens)
	probe := srv.cpuProbe()
	_, srv0, ok0 := probe()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	_, srv1, ok1 := probe()
	if err != nil {
		return Result{}, fmt.Errorf("%w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return Result{}, fmt.Errorf("%w\n%s", err, out)
	}
	r.Generator, r.Conns = "wrk", o.conns
	r.GenCPU, r.ServerCPU = -1, -1
	if ok0 && ok1 && cmd.ProcessState != nil && wall > 0 {
		wrkCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		r.GenCPU = 100 * wrkCPU.Seconds() / wall.Seconds()
		r.ServerCPU = 100 * (srv1 - srv0).Seconds() / wall.Seconds()
	}
	return r, nil
}

var (
	wrkTotal      = regexp.MustCompile(`^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)`)
	wrkRate       = regexp.MustCompile(`^Requests/sec:\s+([\d.]+)`)
	wrkPercentile = regexp.MustCompile(`^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$`)
	wrkNon2xx     = regexp.MustCompile(`^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket     = regexp.MustCompile(`^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkFailed     = regexp.MustCompile(`^FAILED: (\d+) unexpected responses`)
	wrkUnexpected = regexp.MustCompile(`^unexpected response: (.*)$`)
)

// parseWrk reads wrk's report (with --latency) and what me-tokens.lua
// prints. Errors are the script's unexpected answers (non-2xx among them)
// or, without the script's count, the non-2xx answers, plus socket errors.
func parseWrk(out string) (Result, error) {
	var r Result
	var haveTotal, haveRate bool
	failed, non2xx, socket := -1, 0, 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := wrkTotal.FindStringSubmatch(line); m != nil {
			r.Requests, _ = strconv.Atoi(m[1])
			d, err := wrkDuration(m[2], m[3])
			if err != nil {
				return r, err
			}
			r.Seconds = d.Seconds()
			haveTotal = true
		} else if m := wrkRate.FindStringSubmatch(line); m != nil {
			r.RPS, _ = strconv.ParseFloat(m[1], 64)
			haveRate = true
		} else if m := wrkPercentile.FindStringSubmatch(line); m != nil {
			d, err := wrkDuration(m[2], m[3])
			if err != nil {
				return r, err
			}
			if m[1] == "50" {
				r.P50 = d
			} else {
				r.P99 = d
			}
		} else if m := wrkNon2xx.FindStringSubmatch(line); m != nil {
			non2xx, _ = strconv.Atoi(m[1])
		} else if m := wrkSocket.FindStringSubmatch(line); m != nil {
			for _, s := range m[1:] {
				n, _ := strconv.Atoi(s)
				socket += n
			}
		} else if m := wrkFailed.FindStringSubmatch(line); m != nil {
			failed, _ = strconv.Atoi(m[1])
		} else if m := wrkUnexpected.FindStringSubmatch(line); m != nil && r.FirstError == "" {
			r.FirstError = m[1]
		}
	}
	if !haveTotal || !haveRate || r.P50 == 0 || r.P99 == 0 {
		return r, errors.New("wrk's output lacks the request count, the rate or the latency distribution (--latency)")
	}
	r.Errors = max(failed, non2xx) + socket
	if r.Errors > 0 && r.FirstError == "" {
		r.FirstError = fmt.Sprintf("%d non-2xx, %d socket errors", non2xx, socket)
	}
	return r, nil
}

// wrkDuration reads one of wrk's durations: a number and us, ms, s, m or h.
func wrkDuration(num, unit string) (time.Duration, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("wrk duration %q: %w", num+unit, err)
	}
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	return time.Duration(v * float64(scale)), nil
}
