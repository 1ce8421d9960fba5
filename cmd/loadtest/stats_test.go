package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"one p99", ms(7), 99, 7 * time.Millisecond},
		{"two p50 is the lower", ms(1, 2), 50, time.Millisecond},
		{"two p99 is the upper", ms(1, 2), 99, 2 * time.Millisecond},
		{"odd p50 is the middle", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"1..100 p50", hundred, 50, 50 * time.Millisecond},
		{"1..100 p99", hundred, 99, 99 * time.Millisecond},
		{"1..100 p100", hundred, 100, 100 * time.Millisecond},
		{"tiny p is the first", hundred, 0.001, time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, percentile(c.sorted, c.p))
		})
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{
		0: "0", 7.4: "7", 999.5: "1,000", 1234: "1,234", 45200.2: "45,200", 1234567: "1,234,567", -1234: "-1,234",
	} {
		require.Equal(t, want, thousands(in), "%v", in)
	}
}

func TestFormatRate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1.5", formatRate(1.46))
	require.Equal(t, "99.9", formatRate(99.94))
	require.Equal(t, "45,200", formatRate(45200.2))
}

func TestFormatLatency(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		940 * time.Microsecond:  "0.94ms",
		6600 * time.Microsecond: "6.6ms",
		36 * time.Millisecond:   "36ms",
		1200 * time.Millisecond: "1.2s",
		0:                       "0.00ms",
	} {
		require.Equal(t, want, formatLatency(d), "%v", d)
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// A command name with a space and a parenthesis; utime 250 and stime
	// 50 ticks (fields 14 and 15).
	line := "4242 (session server) R 1 4242 4242 0 -1 4194304 1000 0 0 0 250 50 0 0 20 0 12 0 100 1000000 500 18446744073709551615"
	d, ok := parseProcStat(line)
	require.True(t, ok)
	require.Equal(t, 3*time.Second, d)

	_, ok = parseProcStat("4242 (cut short) R 1")
	require.False(t, ok)
	_, ok = parseProcStat("no parenthesis")
	require.False(t, ok)
}

func TestParseCases(t *testing.T) {
	t.Parallel()
	got, err := parseCases(" login, me ,login")
	require.NoError(t, err)
	require.Equal(t, []string{caseMe, caseLogin}, names(got), "running order, each once")

	got, err = parseCases(strings.Join(caseNames(), ","))
	require.NoError(t, err)
	require.Len(t, got, len(cases))

	_, err = parseCases("me,nope")
	require.ErrorContains(t, err, `unknown case "nope"`)
	_, err = parseCases(" , ")
	require.ErrorContains(t, err, "no case")
}

func names(cs []caseDef) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	o, err := parseFlags([]string{"-cases", "me", "-c", "8", "-d", "3s", "-server-env", "GOGC=100", "-database-url", "", "-redis-url", ""}, &stderr)
	require.NoError(t, err)
	require.Equal(t, 8, o.conns)
	require.Equal(t, 3*time.Second, o.duration)
	require.Equal(t, []string{"GOGC=100"}, o.serverEnv)
	require.Equal(t, 12, o.bcryptCost, "Vendure's cost by default")

	_, err = parseFlags([]string{"-c", "0", "-bcrypt-cost", "3", "-wrk", "maybe", "-server-env", "NOEQUALS", "-db-prefix", "Bad-"}, &stderr)
	require.Error(t, err)
	for _, want := range []string{"-c", "-bcrypt-cost", "-wrk", "NOEQUALS", "-db-prefix"} {
		require.ErrorContains(t, err, want, "every mistake is reported at once")
	}
}

func TestSelectConfigs(t *testing.T) {
	t.Parallel()
	pg, rd := "postgres://u@127.0.0.1:5432/postgres", "redis://127.0.0.1:6379/14"
	cfgNames := func(o options) []string {
		t.Helper()
		cs, err := selectConfigs(o)
		require.NoError(t, err)
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.name
		}
		return out
	}
	require.Equal(t, []string{configSQLiteMemory}, cfgNames(options{}))
	require.Equal(t, []string{configSQLiteMemory, configPostgresRedis}, cfgNames(options{databaseURL: pg, redisURL: rd}))
	require.Equal(t, []string{configSQLiteMemory, configPostgresMemory}, cfgNames(options{databaseURL: pg}))
	require.Equal(t, []string{configSQLiteMemory, configSQLiteRedis}, cfgNames(options{redisURL: rd}))
	require.Equal(t, []string{configPostgresRedis}, cfgNames(options{databaseURL: pg, redisURL: rd, configs: "postgres+redis"}))

	_, err := selectConfigs(options{databaseURL: "sqlite:///tmp/x.db"})
	require.ErrorContains(t, err, "postgres:// URL")
	_, err = selectConfigs(options{configs: "postgres+redis"})
	require.ErrorContains(t, err, "needs -database-url")
}

func TestServerEnv(t *testing.T) {
	t.Parallel()
	base := []string{"PATH=/bin", "HOME=/h", "DATABASE_URL=postgres://elsewhere", "REDIS_URL=redis://elsewhere", "THROTTLE=on", "GOGC=200"}
	env := serverEnv(base, "sqlite:///tmp/db.sqlite", "")
	require.Contains(t, env, "PATH=/bin")
	require.Contains(t, env, "GOGC=200")
	require.Contains(t, env, "THROTTLE=off")
	require.Contains(t, env, "SESSION_CACHE_STRATEGY=memory")
	require.Contains(t, env, "DATABASE_URL=sqlite:///tmp/db.sqlite")
	require.NotContains(t, env, "REDIS_URL=redis://elsewhere", "the command's own settings do not leak into the server's")
	require.NotContains(t, env, "THROTTLE=on")

	env = serverEnv(nil, "postgres://db", "redis://r/14")
	require.Contains(t, env, "SESSION_CACHE_STRATEGY=redis")
	require.Contains(t, env, "REDIS_URL=redis://r/14")
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Result{Case: "me", Config: "sqlite+memory", Generator: "go", Requests: 10, RPS: 1.5,
		P50: 940 * time.Microsecond, P99: 6600 * time.Microsecond, GenCPU: -1, ServerCPU: -1})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.InDelta(t, 0.94, m["p50_ms"], 1e-9)
	require.InDelta(t, 6.6, m["p99_ms"], 1e-9)
	require.Equal(t, "me", m["case"])
	require.NotContains(t, m, "first_error")
}

func TestTableFlagsRowsWithErrors(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	writeTable(&b, []Result{
		{Case: "me", Config: "sqlite+memory", Generator: "go", RPS: 45200, P50: time.Millisecond, P99: 6 * time.Millisecond, GenCPU: 80, ServerCPU: 110},
		{Case: "login", Config: "sqlite+memory", Generator: "go", RPS: 3, Requests: 40, Errors: 2, FirstError: "HTTP 503 …", GenCPU: -1, ServerCPU: -1},
	})
	out := b.String()
	require.Contains(t, out, "45,200")
	require.Contains(t, out, "2 !")
	require.Contains(t, out, "login sqlite+memory go: 2 of 40: HTTP 503 …")
	require.NotContains(t, strings.SplitN(out, "\n", 3)[1], "!", "a row without errors is not flagged")
}
