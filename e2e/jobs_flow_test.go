package e2e_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

const jobFields = `id queueName state progress data result error isSettled duration retries attempts createdAt startedAt settledAt`

type jobView struct {
	ID        string          `json:"id"`
	QueueName string          `json:"queueName"`
	State     string          `json:"state"`
	Progress  float64         `json:"progress"`
	Data      json.RawMessage `json:"data"`
	Result    json.RawMessage `json:"result"`
	Error     json.RawMessage `json:"error"`
	IsSettled bool            `json:"isSettled"`
	Duration  int             `json:"duration"`
	Retries   int             `json:"retries"`
	Attempts  int             `json:"attempts"`
	CreatedAt string          `json:"createdAt"`
	StartedAt *string         `json:"startedAt"`
	SettledAt *string         `json:"settledAt"`
}

// waitSettled asks job(jobId) until the job is settled and returns it. It
// waits as long as the test may run: how long the job takes is not what
// is tested.
func waitSettled(t *testing.T, admin *testenv.Client, id string) jobView {
	t.Helper()
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r := admin.Do(`query($id: ID!) { job(jobId: $id) { `+jobFields+` } }`, map[string]any{"id": id})
		require.Empty(t, r.Errors)
		var out struct{ Job *jobView }
		r.Decode(t, &out)
		require.NotNil(t, out.Job, "job %s", id)
		if out.Job.IsSettled {
			return *out.Job
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s did not settle before the test's deadline: %+v", id, *out.Job)
		case <-tick.C:
		}
	}
}

// triggerCleanSessionsJob enqueues Vendure's clean-sessions job; it removes
// every expired session, batchSize at a time, and reports how many; the
// jobs queries find it.
func TestCleanSessionsJobFlow(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		// Eager guests: the job removes rows.
		e := newEnv(t, b, withSession(time.Hour, time.Minute), withGuestSessions(config.GuestEager))
		ctx := context.Background()

		// Three guest sessions, then past every session's expiry.
		for range 3 {
			shop := e.shop(testenv.Bearer)
			require.Empty(t, shop.Do(`{ activeCustomer { id } }`, nil).Errors)
			require.NotEmpty(t, shop.Token)
		}
		e.clock.Advance(400 * 24 * time.Hour)
		expired, err := e.db.NewSelect().Model((*entity.Session)(nil)).Where("expires <= ?", e.clock.Now().UTC()).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 3, expired)

		admin := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)

		r := admin.Do(`mutation { triggerCleanSessionsJob(batchSize: 2) { `+jobFields+` } }`, nil)
		require.Empty(t, r.Errors)
		var trig struct{ TriggerCleanSessionsJob jobView }
		r.Decode(t, &trig)
		job := trig.TriggerCleanSessionsJob
		require.NotEmpty(t, job.ID)
		require.Equal(t, "clean-sessions", job.QueueName)
		require.JSONEq(t, `{"batchSize":2}`, string(job.Data))
		require.Contains(t, []string{"PENDING", "RUNNING", "COMPLETED"}, job.State)

		done := waitSettled(t, admin, job.ID)
		require.Equal(t, "COMPLETED", done.State, "error: %s", done.Error)
		require.Equal(t, job.ID, done.ID)
		require.Equal(t, float64(100), done.Progress)
		require.JSONEq(t, `{"batchSize":2}`, string(done.Data))
		var result struct{ BatchSize, SessionsRemoved int }
		require.NoError(t, json.Unmarshal(done.Result, &result), "result %s", done.Result)
		require.Equal(t, 2, result.BatchSize)
		require.EqualValues(t, expired, result.SessionsRemoved)
		require.JSONEq(t, `null`, string(done.Error))
		require.NotNil(t, done.StartedAt)
		require.NotNil(t, done.SettledAt)
		require.GreaterOrEqual(t, done.Duration, 0)
		require.GreaterOrEqual(t, done.Attempts, 1)

		// Only the administrator's session is left.
		left, err := e.db.NewSelect().Model((*entity.Session)(nil)).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, left)

		// The jobs queries find it.
		type list struct {
			Jobs struct {
				TotalItems int
				Items      []struct{ ID, QueueName, State string }
			}
		}
		listed := func(options string) list {
			t.Helper()
			r := admin.Do(`{ jobs(options: `+options+`) { totalItems items { id queueName state } } }`, nil)
			require.Empty(t, r.Errors, options)
			var out list
			r.Decode(t, &out)
			return out
		}
		ids := func(l list) []string {
			var out []string
			for _, it := range l.Jobs.Items {
				out = append(out, it.ID)
			}
			return out
		}
		byQueue := listed(`{filter: {queueName: {eq: "clean-sessions"}}}`)
		require.Contains(t, ids(byQueue), job.ID)
		require.GreaterOrEqual(t, byQueue.Jobs.TotalItems, 1)
		for _, it := range byQueue.Jobs.Items {
			require.Equal(t, "clean-sessions", it.QueueName)
		}
		require.Contains(t, ids(listed(`{filter: {queueName: {in: ["clean-sessions", "other"]}, state: {eq: "COMPLETED"}, isSettled: {eq: true}}, sort: {createdAt: ASC}}`)), job.ID)
		require.NotContains(t, ids(listed(`{filter: {isSettled: {eq: false}}}`)), job.ID)
		require.NotContains(t, ids(listed(`{filter: {state: {in: ["FAILED", "CANCELLED"]}}}`)), job.ID)
		require.Empty(t, listed(`{filter: {queueName: {eq: "no-such-queue"}}}`).Jobs.Items)
		page := listed(`{take: 1, filter: {queueName: {eq: "clean-sessions"}}}`)
		require.Len(t, page.Jobs.Items, 1)
		require.Equal(t, byQueue.Jobs.TotalItems, page.Jobs.TotalItems, "totalItems counts every match, not the page")

		r = admin.Do(`query($ids: [ID!]!) { jobsById(jobIds: $ids) { id } }`, map[string]any{"ids": []string{job.ID, "999999"}})
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"jobsById":[{"id":"`+job.ID+`"}]}`, string(r.Data))
		r = admin.Do(`{ job(jobId: "999999") { id } }`, nil)
		require.Empty(t, r.Errors)
		require.JSONEq(t, `{"job":null}`, string(r.Data))

		// A ReadSystem administrator reads them too.
		reader := e.adminWith(t, "reader", auth.Permission("ReadSystem"))
		r = reader.Do(`query($id: ID!) { job(jobId: $id) { id state } jobQueues { name running } scheduledTasks { id description schedule scheduleDescription enabled isRunning } }`,
			map[string]any{"id": job.ID})
		require.Empty(t, r.Errors)
		var read struct {
			Job       struct{ ID, State string }
			JobQueues []struct {
				Name    string
				Running bool
			}
			ScheduledTasks []struct {
				ID, Description, Schedule, ScheduleDescription string
				Enabled, IsRunning                             bool
			}
		}
		r.Decode(t, &read)
		require.Equal(t, job.ID, read.Job.ID)
		require.Equal(t, "COMPLETED", read.Job.State)
		require.Contains(t, read.JobQueues, struct {
			Name    string
			Running bool
		}{"clean-sessions", true})
		var taskIDs []string
		for _, task := range read.ScheduledTasks {
			taskIDs = append(taskIDs, task.ID)
			require.NotEmpty(t, task.Description)
			require.NotEmpty(t, task.ScheduleDescription)
		}
		require.Contains(t, taskIDs, "clean-sessions", "Vendure's id of its clean-sessions task")
	})
}
