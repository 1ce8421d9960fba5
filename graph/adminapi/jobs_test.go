package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/jobs"
)

func TestJSONScalar(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		``:                           `null`,
		`null`:                       `null`,
		`{"batchSize":2}`:            `{"batchSize":2}`,
		`[1,"a",true]`:               `[1,"a",true]`,
		`{"batchSize":`:              `null`, // not JSON: the response stays valid
		`{"a":1}{"b":2}`:             `null`,
		`"text"`:                     `"text"`,
		`{"sessionsRemoved":100000}`: `{"sessionsRemoved":100000}`,
	} {
		var buf bytes.Buffer
		model.MarshalJSON(json.RawMessage(raw)).MarshalGQL(&buf)
		require.Equal(t, want, buf.String(), "raw %q", raw)
	}
	raw, err := model.UnmarshalJSON(map[string]any{"batchSize": json.Number("2"), "tags": []any{"a"}})
	require.NoError(t, err)
	require.JSONEq(t, `{"batchSize":2,"tags":["a"]}`, string(raw))
}

func TestScheduleDescription(t *testing.T) {
	t.Parallel()
	for schedule, want := range map[string]string{
		"0 0 * * *":    "At 00:00",
		"30 4 * * *":   "At 04:30",
		"* * * * *":    "Every minute",
		"*/15 * * * *": "Every 15 minutes",
		"5 * * * *":    "At 5 minutes past the hour",
		"0 */6 * * *":  "At 0 minutes past the hour, every 6 hours",
		"0 0 1 * *":    "Cron schedule 0 0 1 * *",
		"@daily":       "Cron schedule @daily",
	} {
		require.Equal(t, want, scheduleDescription(&jobs.ScheduledTask{Schedule: schedule, Enabled: true}), schedule)
	}
	require.Equal(t, "Disabled", scheduleDescription(&jobs.ScheduledTask{Schedule: "off"}))
}

func TestJobDurationIsMilliseconds(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start.Add(90 * time.Second)
	r := &jobResolver{&Resolver{NowFunc: func() time.Time { return now }}}
	settled := start.Add(1500 * time.Millisecond)
	for _, c := range []struct {
		job  jobs.Job
		want int
	}{
		{jobs.Job{}, 0},
		{jobs.Job{StartedAt: &start}, 90_000},
		{jobs.Job{StartedAt: &start, SettledAt: &settled}, 1500},
	} {
		got, err := r.Duration(context.Background(), &c.job)
		require.NoError(t, err)
		require.Equal(t, c.want, got)
	}
}

// fakeQueries answers Job from a map; the other methods are not called.
type fakeQueries struct {
	jobs.Queries
	byID map[entity.ID]*jobs.Job
	err  error
}

func (f *fakeQueries) Job(_ context.Context, id entity.ID) (*jobs.Job, error) {
	if f.err != nil {
		return nil, f.err
	}
	if j, ok := f.byID[id]; ok {
		return j, nil
	}
	return nil, fmt.Errorf("job %d: %w", id, jobs.ErrNotFound)
}

func TestJobsByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &Resolver{Jobs: &fakeQueries{byID: map[entity.ID]*jobs.Job{1: {ID: 1}, 2: {ID: 2}, 3: {ID: 3}}}}

	got, err := r.jobsByID(ctx, []entity.ID{3, 9, 1, 3})
	require.NoError(t, err)
	require.Equal(t, []*jobs.Job{{ID: 3}, {ID: 1}}, got, "in the order asked, each once, unknown ids left out")

	got, err = r.jobsByID(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = (&Resolver{}).jobsByID(ctx, make([]entity.ID, MaxJobsTake+1))
	var gqlErr *gqlerror.Error
	require.ErrorAs(t, err, &gqlErr)
	require.Equal(t, gqlerr.CodeUserInput, gqlerr.Code(gqlErr))
	require.Equal(t, "jobIds may hold at most 100 ids, got 101", gqlErr.Message, "refused before the queue is needed")

	_, err = (&Resolver{}).jobsByID(ctx, []entity.ID{1})
	require.ErrorIs(t, err, errNoJobQueue)

	boom := errors.New("database down")
	_, err = (&Resolver{Jobs: &fakeQueries{err: boom}}).jobsByID(ctx, []entity.ID{1})
	require.ErrorIs(t, err, boom, "a fault is not a missing job")
}

func TestJobOrNil(t *testing.T) {
	t.Parallel()
	j, err := jobOrNil(nil, fmt.Errorf("x: %w", jobs.ErrNotFound))
	require.NoError(t, err)
	require.Nil(t, j)
}
