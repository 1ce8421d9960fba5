package adminapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/listquery"
)

// stubQueries is a job queue holding fixed jobs, to show how the Admin
// schema puts package jobs' values on the wire; it records the options
// jobs was asked with.
type stubQueries struct {
	job    *jobs.Job
	asked  listquery.Options
	queues []jobs.Queue
	tasks  []jobs.ScheduledTask
}

func (s *stubQueries) EnqueueCleanSessions(context.Context, int) (*jobs.Job, error) {
	panic("not called")
}

func (s *stubQueries) Job(_ context.Context, id entity.ID) (*jobs.Job, error) {
	if id == s.job.ID {
		return s.job, nil
	}
	return nil, jobs.ErrNotFound
}

func (s *stubQueries) Jobs(_ context.Context, opts listquery.Options) (*jobs.List, error) {
	s.asked = opts
	return &jobs.List{Items: []*jobs.Job{s.job}, TotalItems: 7}, nil
}

func (s *stubQueries) Queues(context.Context) ([]jobs.Queue, error) { return s.queues, nil }

func (s *stubQueries) ScheduledTasks(context.Context) ([]jobs.ScheduledTask, error) {
	return s.tasks, nil
}

// newStubClient executes the Admin schema over stub with @allow letting
// every caller through (the e2e tests check the permissions).
func newStubClient(stub *stubQueries, now time.Time) *client.Client {
	cfg := Config{Resolvers: &Resolver{Jobs: stub, NowFunc: func() time.Time { return now }}, Schema: parsedSchema}
	cfg.Directives.Allow = func(ctx context.Context, _ any, next graphql.Resolver, _ []auth.Permission) (any, error) {
		return next(ctx)
	}
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.POST{})
	return client.New(srv)
}

func TestJobsOnTheWire(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	started := created.Add(time.Second)
	stub := &stubQueries{
		job: &jobs.Job{
			ID: 42, QueueName: jobs.CleanSessionsQueue, State: jobs.StateRunning, Progress: 50,
			Data: json.RawMessage(`{"batchSize":2}`), Retries: 3, Attempts: 1,
			CreatedAt: created, StartedAt: &started,
		},
		queues: []jobs.Queue{{Name: jobs.CleanSessionsQueue, Running: true}},
		tasks: []jobs.ScheduledTask{{
			ID: "clean-sessions", Description: "Clean expired sessions", Schedule: "0 0 * * *", Enabled: true,
			LastResult: json.RawMessage(`{"sessionsRemoved":3}`),
		}},
	}
	c := newStubClient(stub, started.Add(2500*time.Millisecond))

	post := func(query string) string {
		t.Helper()
		r, err := c.RawPost(query)
		require.NoError(t, err)
		require.Empty(t, r.Errors)
		data, err := json.Marshal(r.Data)
		require.NoError(t, err)
		return string(data)
	}
	resp := post(`{
		job(jobId: "42") { id createdAt startedAt settledAt queueName state progress data result error isSettled duration retries attempts }
		missing: job(jobId: "43") { id }
		jobsById(jobIds: ["43", "42"]) { id }
		jobQueues { name running }
		scheduledTasks { id description schedule scheduleDescription lastExecutedAt nextExecutionAt isRunning lastResult enabled }
	}`)
	require.JSONEq(t, `{
		"job": {"id": "42", "createdAt": "2026-11-27T10:00:00Z", "startedAt": "2026-11-27T10:00:01Z", "settledAt": null,
			"queueName": "clean-sessions", "state": "RUNNING", "progress": 50, "data": {"batchSize": 2}, "result": null,
			"error": null, "isSettled": false, "duration": 2500, "retries": 3, "attempts": 1},
		"missing": null,
		"jobsById": [{"id": "42"}],
		"jobQueues": [{"name": "clean-sessions", "running": true}],
		"scheduledTasks": [{"id": "clean-sessions", "description": "Clean expired sessions", "schedule": "0 0 * * *",
			"scheduleDescription": "At 00:00", "lastExecutedAt": null, "nextExecutionAt": null, "isRunning": false,
			"lastResult": {"sessionsRemoved": 3}, "enabled": true}]
	}`, resp)

	resp = post(`{ jobs(options: {skip: 10, take: 5, sort: {createdAt: ASC}, filter: {queueName: {eq: "clean-sessions"}, state: {in: ["RUNNING", "RETRYING"]}, isSettled: {eq: false}}}) {
		totalItems items { id } ... on PaginatedList { items { ... on Node { id } } } } }`)
	require.JSONEq(t, `{"jobs": {"totalItems": 7, "items": [{"id": "42"}]}}`, resp)
	skip, take, settled := 10, 5, false
	require.Equal(t, listquery.Options{
		Skip: &skip, Take: &take, Sort: []listquery.Sort{{Field: "createdAt"}},
		Filter: &listquery.Filter{Fields: []listquery.FieldFilter{
			{Field: "queueName", Ops: &listquery.StringOperators{Eq: ptr("clean-sessions")}},
			{Field: "state", Ops: &listquery.StringOperators{In: []string{"RUNNING", "RETRYING"}}},
			{Field: "isSettled", Ops: &listquery.BooleanOperators{Eq: &settled}},
		}},
	}, stub.asked)
}
