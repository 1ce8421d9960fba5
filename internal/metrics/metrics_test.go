package metrics

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/session"
)

// fakeSessions is what the scrape reads of a session service with a
// shared cache.
type fakeSessions struct {
	state   session.CacheState
	pending int
	oldest  time.Time
	err     error
}

func (f *fakeSessions) CacheState() session.CacheState { return f.state }
func (f *fakeSessions) SharesCache() bool              { return true }
func (f *fakeSessions) OutboxBacklog(context.Context) (int, time.Time, error) {
	return f.pending, f.oldest, f.err
}

type fakePool struct{ size, inUse, waiting int }

func (p fakePool) Size() int    { return p.size }
func (p fakePool) InUse() int   { return p.inUse }
func (p fakePool) Waiting() int { return p.waiting }

// fullMetrics returns a Metrics with every series present: the watched
// services registered and one GraphQL response and job recorded.
func fullMetrics(t *testing.T, now time.Time) (*Metrics, *fakeSessions) {
	t.Helper()
	m := New(Options{NowFunc: func() time.Time { return now }})
	sessions := &fakeSessions{state: session.CacheStateHealthy}
	m.WatchSessions(sessions)
	m.WatchPasswordPool(fakePool{size: 4, inUse: 1, waiting: 2})
	m.GraphQL(auth.ShopAPI).Operation("ActiveOrder", true, "", time.Millisecond)
	m.Jobs().JobWorked(jobs.CleanSessionsQueue, jobs.WorkCompleted, time.Second)
	return m, sessions
}

// documentedSeries reads the table of docs/metrics.md: for each series
// its type and each label's fixed values and open part.
func documentedSeries(t *testing.T) map[string]Series {
	t.Helper()
	text, err := os.ReadFile("../../docs/metrics.md")
	require.NoError(t, err)
	row := regexp.MustCompile("^\\| `(" + Namespace + "_[a-z_]+)` \\| ([a-z]+) \\| ([^|]+) \\|")
	label := regexp.MustCompile("^`([a-z_]+)`: (.*)$")
	value := regexp.MustCompile("`([^`]+)`")
	open := regexp.MustCompile(`\(([^)]+)\)`)
	out := map[string]Series{}
	for line := range strings.SplitSeq(string(text), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := Series{Name: m[1], Type: m[2]}
		if cell := strings.TrimSpace(m[3]); cell != "—" {
			for part := range strings.SplitSeq(cell, "; ") {
				lm := label.FindStringSubmatch(part)
				require.NotNil(t, lm, "%s: label %q is not `name`: values", s.Name, part)
				l := Label{Name: lm[1]}
				for _, v := range value.FindAllStringSubmatch(lm[2], -1) {
					l.Values = append(l.Values, v[1])
				}
				if o := open.FindStringSubmatch(lm[2]); o != nil {
					l.Open = o[1]
				}
				s.Labels = append(s.Labels, l)
			}
		}
		require.NotContains(t, out, s.Name, "listed twice")
		out[s.Name] = s
	}
	return out
}

// TestSeriesDocumented holds docs/metrics.md's table to AllSeries: every
// series, its type, its labels in order and each label's values. A series
// added or changed without its row fails here.
func TestSeriesDocumented(t *testing.T) {
	t.Parallel()
	docs := documentedSeries(t)
	for _, s := range AllSeries() {
		d, ok := docs[s.Name]
		if !assertTrue(t, ok, "%s is not in docs/metrics.md's table", s.Name) {
			continue
		}
		delete(docs, s.Name)
		require.Equal(t, s.Type, d.Type, s.Name)
		require.Len(t, d.Labels, len(s.Labels), "%s: labels", s.Name)
		for i, l := range s.Labels {
			require.Equal(t, l.Name, d.Labels[i].Name, s.Name)
			require.Equal(t, l.Values, d.Labels[i].Values, "%s: values of %s", s.Name, l.Name)
			require.Equal(t, l.Open, d.Labels[i].Open, "%s: open values of %s", s.Name, l.Name)
		}
	}
	require.Empty(t, docs, "documented series that the code does not have")
}

func assertTrue(t *testing.T, ok bool, format string, args ...any) bool {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
	return ok
}

// TestGatheredSeriesListed: what the registry serves is exactly
// AllSeries (plus go_* and process_*), each family of its type, with its
// labels, and only their values.
func TestGatheredSeriesListed(t *testing.T) {
	t.Parallel()
	m, _ := fullMetrics(t, time.Now())
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	spec := map[string]Series{}
	for _, s := range AllSeries() {
		spec[s.Name] = s
	}
	var goSeen, processSeen bool
	for _, f := range families {
		name := f.GetName()
		switch {
		case strings.HasPrefix(name, "go_"):
			goSeen = true
			continue
		case strings.HasPrefix(name, "process_"):
			processSeen = true
			continue
		}
		s, ok := spec[name]
		require.True(t, ok, "%s is served but not in AllSeries", name)
		delete(spec, name)
		require.Equal(t, s.Type, strings.ToLower(f.GetType().String()), name)
		for _, metric := range f.GetMetric() {
			var names []string
			for _, lp := range metric.GetLabel() {
				names = append(names, lp.GetName())
				l := s.Labels[slices.IndexFunc(s.Labels, func(l Label) bool { return l.Name == lp.GetName() })]
				if !slices.Contains(l.Values, lp.GetValue()) {
					require.NotEmpty(t, l.Open, "%s: %s=%q is not one of its values", name, l.Name, lp.GetValue())
					require.True(t, usableName(lp.GetValue()), "%s: %s=%q", name, l.Name, lp.GetValue())
				}
			}
			require.ElementsMatch(t, s.labelNames(), names, name)
		}
	}
	require.Empty(t, spec, "series of AllSeries not served")
	require.True(t, goSeen, "the Go collector")
	require.True(t, processSeen, "the process collector")
}

// TestResultCodesCoverGqlerr: every extensions.code package gqlerr
// declares is a value of the code label (else it would count as other).
func TestResultCodesCoverGqlerr(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../graph/gqlerr/gqlerr.go")
	require.NoError(t, err)
	codes := regexp.MustCompile(`\bCode[A-Za-z]+\s*=\s*"([A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	require.NotEmpty(t, codes)
	for _, c := range codes {
		require.Contains(t, resultCodes, c[1])
	}
}

// TestRecorders: each recorder moves the counter of its arguments.
func TestRecorders(t *testing.T) {
	t.Parallel()
	m := New(Options{})

	s := m.Sessions()
	s.SessionLookup(session.LookupCacheHit, time.Microsecond)
	s.SessionLookup(session.LookupNegative, time.Microsecond)
	s.SessionLookup(session.LookupExpired, time.Millisecond)
	s.SessionCreated(false)
	s.SessionCreated(true)
	s.GuestRefused()
	s.SessionsRevoked(session.RevokeLogout, 3)
	s.SessionsCleaned(session.CleanIdleCart, 7)
	s.CacheFailed("get", true)
	s.CacheFailed("set", false)
	s.CacheFailed("bogus", false) // not an op: ignored
	m.Logins().LoginAttempt(auth.AdminAPI, account.LoginInvalidCredentials)
	m.Throttle().Throttled("login-addr")
	m.PasswordPool().SlotWaited(0, true)
	m.PasswordPool().SlotWaited(time.Second, false)
	m.Jobs().JobWorked(jobs.CleanSessionsQueue, jobs.WorkDiscarded, time.Second)

	for _, c := range []struct {
		series string
		labels []string
		want   float64
	}{
		{seriesLookups.Name, []string{"cache_hit"}, 1},
		{seriesLookups.Name, []string{"negative"}, 1},
		{seriesLookups.Name, []string{"expired"}, 1},
		{seriesLookups.Name, []string{"cache_miss"}, 0},
		{seriesCreated.Name, []string{"guest"}, 1},
		{seriesCreated.Name, []string{"authenticated"}, 1},
		{seriesRevoked.Name, []string{"logout"}, 3},
		{seriesCleaned.Name, []string{"idle_cart"}, 7},
		{seriesCacheErrors.Name, []string{"get", "timeout"}, 1},
		{seriesCacheErrors.Name, []string{"set", "error"}, 1},
		{seriesLogins.Name, []string{"admin", "invalid_credentials"}, 1},
		{seriesLogins.Name, []string{"shop", "invalid_credentials"}, 0},
		{seriesThrottled.Name, []string{"login-addr"}, 1},
		{seriesThrottled.Name, []string{"guest-address"}, 1},
		{seriesHashRefused.Name, nil, 1},
		{seriesJobs.Name, []string{jobs.CleanSessionsQueue, "discarded"}, 1},
	} {
		require.Equal(t, c.want, value(t, m, c.series, c.labels...), "%s%v", c.series, c.labels)
	}
	require.Equal(t, uint64(2), histogramCount(t, m, seriesLookupDuration.Name, "hit"))
	require.Equal(t, uint64(1), histogramCount(t, m, seriesLookupDuration.Name, "miss"))
	require.Equal(t, uint64(2), histogramCount(t, m, seriesHashWait.Name))
}

// TestWatchedSeries: the gauges the scrape reads.
func TestWatchedSeries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	m, sessions := fullMetrics(t, now)
	require.Equal(t, 1.0, value(t, m, seriesCacheState.Name, "healthy"))
	require.Equal(t, 0.0, value(t, m, seriesCacheState.Name, "down"))
	sessions.state = session.CacheStateDown
	require.Equal(t, 0.0, value(t, m, seriesCacheState.Name, "healthy"))
	require.Equal(t, 1.0, value(t, m, seriesCacheState.Name, "down"))

	require.Equal(t, 0.0, value(t, m, seriesOutboxPending.Name))
	require.Equal(t, 0.0, value(t, m, seriesOutboxLag.Name))
	sessions.pending, sessions.oldest = 12, now.Add(-3*time.Second)
	require.Equal(t, 12.0, value(t, m, seriesOutboxPending.Name))
	require.Equal(t, 3.0, value(t, m, seriesOutboxLag.Name))

	// A failed read leaves both out of the scrape, which goes on.
	sessions.err = fmt.Errorf("database down")
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		require.NotEqual(t, seriesOutboxPending.Name, f.GetName())
	}

	require.Equal(t, 4.0, value(t, m, seriesHashSlots.Name))
	require.Equal(t, 1.0, value(t, m, seriesHashInUse.Name))
	require.Equal(t, 2.0, value(t, m, seriesHashQueue.Name))
}

// TestOperationNamesCapped: an API counts its first names under their own
// label; later ones, and names that are not GraphQL names, count as
// other; no series is added for them.
func TestOperationNamesCapped(t *testing.T) {
	t.Parallel()
	m := New(Options{OperationNames: 3})
	shop := m.GraphQL(auth.ShopAPI)
	for i := range 10 {
		shop.Operation(fmt.Sprintf("Op%d", i), true, "", time.Millisecond)
	}
	shop.Operation("Op0", true, "FORBIDDEN", time.Millisecond)
	shop.Operation("", true, "", time.Millisecond)
	shop.Operation("whatever", false, "GRAPHQL_PARSE_FAILED", time.Millisecond)
	shop.Operation("Op1", true, "SOMETHING_NEW", time.Millisecond)
	m.GraphQL(auth.AdminAPI).Operation("Op9", true, "", time.Millisecond)

	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "shop", "Op0", "ok"))
	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "shop", "Op0", "FORBIDDEN"))
	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "shop", "Op2", "ok"))
	require.Equal(t, 7.0, value(t, m, seriesOperations.Name, "shop", "other", "ok"))
	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "shop", "anonymous", "ok"))
	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "shop", "unknown", "GRAPHQL_PARSE_FAILED"))
	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "shop", "Op1", "other"))
	require.Equal(t, 1.0, value(t, m, seriesOperations.Name, "admin", "Op9", "ok"), "each API has its own names")
	require.Equal(t, 3.0, value(t, m, seriesOperationNames.Name, "shop"))
	require.Equal(t, 1.0, value(t, m, seriesOperationNames.Name, "admin"))
	shopDurations := 0
	for _, mt := range metricsOf(t, m, seriesOperationDuration.Name) {
		if mt.GetLabel()[0].GetValue() == "shop" { // api sorts first
			shopDurations++
		}
	}
	require.Equal(t, 3+3, shopDurations, "durations: 3 names and the 3 reserved labels")

	for _, bad := range []string{"9lives", "has space", "é", strings.Repeat("a", maxOperationNameLength+1), "\xff"} {
		require.False(t, usableName(bad), "%q", bad)
	}
	require.True(t, usableName(strings.Repeat("a", maxOperationNameLength)))
	require.True(t, usableName("_private9"))
}

// TestRecordingAllocatesNothing: the hot path's recordings (a session
// lookup, a GraphQL response of a known name) allocate nothing.
func TestRecordingAllocatesNothing(t *testing.T) {
	m := New(Options{})
	s, shop := m.Sessions(), m.GraphQL(auth.ShopAPI)
	shop.Operation("Me", true, "", time.Millisecond) // the name's first sight allocates its series
	require.Zero(t, testing.AllocsPerRun(100, func() {
		s.SessionLookup(session.LookupCacheHit, time.Microsecond)
		shop.Operation("Me", true, "", time.Millisecond)
	}))
}

// value returns the value of a counter or gauge with the given label
// values (in the series' label order).
func value(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	mt := find(t, m, name, labels)
	if c := mt.GetCounter(); c != nil {
		return c.GetValue()
	}
	return mt.GetGauge().GetValue()
}

// histogramCount returns a histogram's observation count.
func histogramCount(t *testing.T, m *Metrics, name string, labels ...string) uint64 {
	t.Helper()
	return find(t, m, name, labels).GetHistogram().GetSampleCount()
}

func find(t *testing.T, m *Metrics, name string, labels []string) *dto.Metric {
	t.Helper()
	i := slices.IndexFunc(AllSeries(), func(s Series) bool { return s.Name == name })
	require.GreaterOrEqual(t, i, 0, name)
	spec := AllSeries()[i]
	require.Len(t, labels, len(spec.Labels), name)
	want := map[string]string{}
	for i, l := range spec.Labels {
		want[l.Name] = labels[i]
	}
	for _, mt := range metricsOf(t, m, name) {
		got := map[string]string{}
		for _, lp := range mt.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if maps.Equal(want, got) {
			return mt
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return nil
}

// metricsOf returns the gathered metrics of a family.
func metricsOf(t *testing.T, m *Metrics, name string) []*dto.Metric {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

// BenchmarkRecordRequest is what metrics add to a cached `me`: its session
// lookup and its GraphQL response recorded, with the two clock reads of
// each (docs/metrics.md, "Cost").
func BenchmarkRecordRequest(b *testing.B) {
	m := New(Options{})
	s, shop := m.Sessions(), m.GraphQL(auth.AdminAPI)
	record := func() {
		start := time.Now()
		s.SessionLookup(session.LookupCacheHit, time.Since(start))
		shop.Operation("Me", true, "", time.Since(start))
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			record()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				record()
			}
		})
	})
}
