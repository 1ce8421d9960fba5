package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// worked is one Recorder call.
type worked struct {
	kind   string
	result WorkResult
	d      time.Duration
}

// chanRecorder sends each call on its channel.
type chanRecorder chan worked

func (c chanRecorder) JobWorked(kind string, r WorkResult, d time.Duration) { c <- worked{kind, r, d} }

// TestMetricsMiddlewareResults: each way an attempt ends is recorded with
// its result and its duration on the Runner's clock.
func TestMetricsMiddlewareResults(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	rec := make(chanRecorder, 1)
	m := &metricsMiddleware{rec: rec, now: clock.Now}
	job := func(attempt int) *rivertype.JobRow {
		return &rivertype.JobRow{Kind: CleanSessionsQueue, Attempt: attempt, MaxAttempts: 3}
	}
	for _, tc := range []struct {
		name    string
		attempt int
		err     error
		want    WorkResult
	}{
		{"completed", 1, nil, WorkCompleted},
		{"retryable", 2, errors.New("database on fire"), WorkRetryable},
		{"discarded", 3, errors.New("database on fire"), WorkDiscarded},
		{"cancelled", 3, river.JobCancel(errors.New("bad arguments")), WorkCancelled},
		{"snoozed", 1, river.JobSnooze(time.Minute), WorkSnoozed},
	} {
		err := m.Work(context.Background(), job(tc.attempt), func(context.Context) error {
			clock.Advance(time.Second)
			return tc.err
		})
		require.Equal(t, tc.err, err, tc.name)
		require.Equal(t, worked{CleanSessionsQueue, tc.want, time.Second}, <-rec, tc.name)
	}

	require.PanicsWithValue(t, "boom", func() {
		_ = m.Work(context.Background(), job(1), func(context.Context) error { panic("boom") })
	})
	require.Equal(t, worked{CleanSessionsQueue, WorkRetryable, 0}, <-rec, "a panic is a failed attempt")
}

// TestMetricsRecordRiverJobs: a Runner with Metrics records the attempts
// River runs.
func TestMetricsRecordRiverJobs(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		rec := make(chanRecorder, 4)
		cleaner := &fakeCleaner{answers: []answer{{removed: 1, done: true}}}
		r := newRunner(t, db, cleaner, func(c *Config) { c.Metrics = rec })
		start(t, r)

		_, err := r.EnqueueCleanSessions(t.Context(), 10)
		require.NoError(t, err)
		select {
		case w := <-rec:
			require.Equal(t, CleanSessionsQueue, w.kind)
			require.Equal(t, WorkCompleted, w.result)
		case <-time.After(waitGuard):
			t.Fatal("no attempt recorded")
		}
	})
}

// TestKindsListsEveryJob: every job kind this package declares (each Args
// type's Kind) is one of Kinds, so the metrics count it.
func TestKindsListsEveryJob(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	kind := regexp.MustCompile(`func \(\w+Args\) Kind\(\) string \{ return (\w+) \}`)
	consts := map[string]string{"CleanSessionsQueue": CleanSessionsQueue, "NotifyQueue": NotifyQueue}
	found := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range kind.FindAllStringSubmatch(string(src), -1) {
			v, ok := consts[m[1]]
			require.True(t, ok, "%s: kind constant %s: add it here and to Kinds", f, m[1])
			require.Contains(t, Kinds(), v)
			found++
		}
	}
	require.Equal(t, len(Kinds()), found, "Kinds lists a kind no Args type declares")
}
