package jobs

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/listquery"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	s, err := ParseSchedule(" 0 0 * * * ")
	require.NoError(t, err)
	require.Equal(t, "0 0 * * *", s.String())
	berlin := time.FixedZone("CET", 3600)
	// Read in UTC whatever the zone of the time given.
	require.Equal(t, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC),
		s.Next(time.Date(2026, 1, 2, 23, 30, 0, 0, time.UTC).In(berlin)))
	tz, err := ParseSchedule("CRON_TZ=Europe/Berlin 0 0 * * *")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 1, 2, 23, 0, 0, 0, time.UTC),
		tz.Next(time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)).UTC())

	off, err := ParseSchedule("Off")
	require.NoError(t, err)
	require.Nil(t, off)
	for _, bad := range []string{"", "0 0 * *", "61 * * * *", "0 0 30 2 *", "@sometimes"} {
		_, err := ParseSchedule(bad)
		require.Error(t, err, "%q", bad)
	}
}

// TestScheduleSlot: the run a firing belongs to, which the periodic
// job's unique key hashes, is the same whether River fires a little
// early, on time, or late.
func TestScheduleSlot(t *testing.T) {
	t.Parallel()
	midnight := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	for spec, cases := range map[string][]struct{ at, want time.Time }{
		"0 0 * * *": {
			{midnight.Add(-100 * time.Millisecond), midnight.Add(-24 * time.Hour)}, // without the margin
			{midnight, midnight},
			{midnight.Add(5 * time.Hour), midnight},
			{midnight.Add(24*time.Hour - time.Nanosecond), midnight},
		},
		"*/15 * * * *": {{midnight.Add(44 * time.Minute), midnight.Add(30 * time.Minute)}},
		"0 0 1 1 *":    {{midnight.AddDate(0, 6, 0), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		s, err := ParseSchedule(spec)
		require.NoError(t, err)
		for _, c := range cases {
			got, ok := s.slot(c.at)
			require.True(t, ok)
			require.Equal(t, c.want, got, "%s at %s", spec, c.at)
		}
	}
}

// offsetTime is River's clock in these tests: real time moved by an
// offset, so River's timers run as usual but the schedule's run comes
// within a second.
type offsetTime struct{ offset atomic.Int64 }

func (o *offsetTime) Now() time.Time              { return time.Now().Add(time.Duration(o.offset.Load())) }
func (o *offsetTime) NowOrNil() *time.Time        { now := o.Now(); return &now }
func (o *offsetTime) setNow(t time.Time)          { o.offset.Store(int64(time.Until(t))) }
func (o *offsetTime) String() string              { return o.Now().String() }
func (o *offsetTime) StubNow(time.Time) time.Time { panic("not used") }

// insertSpy records River's inserts of periodic jobs.
type insertSpy struct {
	river.MiddlewareDefaults
	mu      sync.Mutex
	results []*rivertype.JobInsertResult
}

func (s *insertSpy) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	res, err := doInner(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range res {
		if strings.Contains(string(r.Job.Metadata), `"periodic"`) {
			s.results = append(s.results, r)
		}
	}
	return res, err
}

func (s *insertSpy) periodic() []*rivertype.JobInsertResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*rivertype.JobInsertResult(nil), s.results...)
}

// TestPeriodicJobOncePerRunAcrossInstances: two instances on one
// PostgreSQL. The leader inserts the periodic job for the run; when it
// stops and the other, whose clock is a little behind, takes over and
// fires the same run, River's unique key makes that insert a no-op: one
// job per run, which the workers then complete.
func TestPeriodicJobOncePerRunAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testenv.PostgresURL(t)
	run := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour) // next midnight
	cleaner := &fakeCleaner{answers: []answer{{removed: 4, done: true}}}

	instance := func(id string) (*Runner, *offsetTime, *insertSpy) {
		db, err := database.Open(t.Context(), database.Postgres, url, database.Options{MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		clock, spy := &offsetTime{}, &insertSpy{}
		clock.setNow(run.Add(-time.Second))
		r := newRunner(t, db, cleaner, func(c *Config) {
			c.Schedule = "0 0 * * *"
			c.BatchSize = 77
			c.riverTime, c.clientID, c.middleware = clock, id, []rivertype.Middleware{spy}
			c.Logger = slog.New(slog.DiscardHandler)
		})
		return r, clock, spy
	}
	a, _, spyA := instance("instance-a")
	start(t, a)
	waitFor(t, "instance-a to lead", func(c *assert.CollectT) {
		var leader string
		require.NoError(c, a.cfg.DB.NewRaw("SELECT leader_id FROM river_leader").Scan(context.Background(), &leader))
		require.Equal(c, "instance-a", leader)
	})
	b, clockB, spyB := instance("instance-b")
	start(t, b)

	waitFor(t, "the leader to insert the run's job", func(c *assert.CollectT) { require.Len(c, spyA.periodic(), 1) })
	first := spyA.periodic()[0]
	require.False(t, first.UniqueSkippedAsDuplicate)
	require.True(t, first.Job.ScheduledAt.Equal(run), "scheduled for the run: %s", first.Job.ScheduledAt)
	require.Empty(t, spyB.periodic(), "only the leader inserts")

	// The leader goes; the other takes over a second before the run by
	// its own clock and fires it again.
	clockB.setNow(run.Add(-time.Second))
	stop(t, a)
	waitFor(t, "instance-b to fire the same run", func(c *assert.CollectT) { require.Len(c, spyB.periodic(), 1) })
	again := spyB.periodic()[0]
	require.True(t, again.UniqueSkippedAsDuplicate, "a second job for the run")
	require.Equal(t, first.Job.ID, again.Job.ID)

	job := waitState(t, b, first.Job.ID, StateCompleted)
	require.JSONEq(t, `{"batchSize":77,"sessionsRemoved":4}`, string(job.Result))
	list, err := b.Jobs(t.Context(), listquery.Options{})
	require.NoError(t, err)
	require.Equal(t, 1, list.TotalItems, "one job for the run")
}
