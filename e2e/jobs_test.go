package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// The Admin API's job fields, each asked for in the smallest document.
var jobFieldDocuments = []struct{ field, doc string }{
	{"job", `{ job(jobId: "1") { id } }`},
	{"jobs", `{ jobs { totalItems } }`},
	{"jobsById", `{ jobsById(jobIds: ["1"]) { id } }`},
	{"jobQueues", `{ jobQueues { name } }`},
	{"scheduledTasks", `{ scheduledTasks { id } }`},
	{"triggerCleanSessionsJob", `mutation { triggerCleanSessionsJob { id } }`},
}

// requireForbidden: the response is Vendure's FORBIDDEN at field, and
// nothing else (data is null, or {"job": null} for the one nullable field).
func requireForbidden(t *testing.T, r *testenv.Response, field string) {
	t.Helper()
	require.Len(t, r.Errors, 1, "%s: %+v", field, r.Errors)
	require.Equal(t, "FORBIDDEN", r.ErrorCode(), field)
	require.Equal(t, "You are not currently authorized to perform this action", r.Errors[0].Message, field)
	require.Equal(t, []any{field}, r.Errors[0].Path, field)
	want := `null`
	if field == "job" {
		want = `{"job":null}`
	}
	require.JSONEq(t, want, string(r.Data), field)
}

// requireUserInputError: the response is one USER_INPUT_ERROR at field
// whose message starts with want.
func requireUserInputError(t *testing.T, r *testenv.Response, field, want string) {
	t.Helper()
	require.Len(t, r.Errors, 1, "%s: %+v", want, r.Errors)
	require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%s: %+v", want, r.Errors)
	require.True(t, strings.HasPrefix(r.Errors[0].Message, want), "message %q, want it to start with %q", r.Errors[0].Message, want)
	require.Equal(t, []any{field}, r.Errors[0].Path)
	require.JSONEq(t, `null`, string(r.Data))
}

// adminWith logs in, on a new Admin API client, an administrator whose one
// role holds perms on the default channel.
func (e *env) adminWith(t *testing.T, code string, perms ...auth.Permission) *testenv.Client {
	t.Helper()
	ctx := context.Background()
	role, err := e.app.Roles.Create(ctx, access.NewRole{
		Code: code, Description: code, Permissions: perms, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
	})
	require.NoError(t, err)
	email := code + "@example.com"
	_, err = e.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
		EmailAddress: email, Password: "secret", FirstName: code, LastName: "Admin", RoleIDs: []entity.ID{role.ID},
	})
	require.NoError(t, err)
	admin := e.admin(testenv.Bearer)
	require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds(email, "secret"))).Login.Typename)
	return admin
}

// Vendure's JobResolver and ScheduledTaskResolver: reading takes
// ReadSettings or ReadSystem, triggering UpdateSettings or UpdateSystem;
// anonymous callers, customers and administrators without them get
// FORBIDDEN for every field. (A caller who passes the guard is shown here by
// an input refusal, which comes after it and needs no job queue; reading
// real jobs is in jobs_flow_test.go.)
func TestJobFieldsPermissions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()

		anonymous := e.admin(testenv.Bearer)
		_, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: "shopper@example.com", Password: "test", FirstName: "Shop", LastName: "Per",
			Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
		shop := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, shop.Do(loginMutation, creds("shopper@example.com", "test"))).Login.Typename)
		customer := e.admin(testenv.Bearer)
		customer.Token = shop.Token // a customer's session, sent to the Admin API
		catalog := e.adminWith(t, "catalog", auth.Permission("ReadCatalog"), auth.Permission("UpdateCatalog"))

		for name, c := range map[string]*testenv.Client{"anonymous": anonymous, "customer": customer, "catalog admin": catalog} {
			for _, f := range jobFieldDocuments {
				t.Run(name+"/"+f.field, func(t *testing.T) {
					requireForbidden(t, c.Do(f.doc, nil), f.field)
				})
			}
		}

		tooMany := make([]string, 101)
		for i := range tooMany {
			tooMany[i] = fmt.Sprint(i + 1)
		}
		readers := []string{"ReadSystem", "ReadSettings"}
		updaters := []string{"UpdateSystem", "UpdateSettings"}
		for _, perm := range readers {
			reader := e.adminWith(t, strings.ToLower(perm), auth.Permission(perm))
			requireUserInputError(t, reader.Do(`{ jobs(options: {take: 101}) { totalItems } }`, nil), "jobs", "options.take")
			requireUserInputError(t, reader.Do(`query($ids: [ID!]!) { jobsById(jobIds: $ids) { id } }`, map[string]any{"ids": tooMany}),
				"jobsById", "jobIds may hold at most 100 ids")
			requireForbidden(t, reader.Do(`mutation { triggerCleanSessionsJob(batchSize: 100001) { id } }`, nil), "triggerCleanSessionsJob")
		}
		for _, perm := range updaters {
			updater := e.adminWith(t, strings.ToLower(perm), auth.Permission(perm))
			requireUserInputError(t, updater.Do(`mutation { triggerCleanSessionsJob(batchSize: 100001) { id } }`, nil),
				"triggerCleanSessionsJob", "batchSize must be at most 100000, got 100001")
			for _, f := range jobFieldDocuments[:5] {
				requireForbidden(t, updater.Do(f.doc, nil), f.field)
			}
		}
	})
}

// JobListOptions is Vendure's, but jobs can be filtered by queueName and
// state (eq, in) and isSettled (eq), and sorted by createdAt, only: any
// other filter, operator or sort is refused, naming it, instead of being
// ignored; so are pages over 100 and the trigger's batch sizes over
// 100000.
func TestJobsOptionsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	admin := e.admin(testenv.Bearer)
	require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)

	for _, c := range []struct{ options, want string }{
		{`{take: 101}`, "options.take must be between 0 and 100 (the maximum number of items that may be returned by a query), got 101"},
		{`{take: -1}`, "options.take must be between 0 and 100"},
		{`{skip: -5}`, "options.skip must not be negative, got -5"},
		{`{sort: {id: ASC}}`, "options.sort.id is not supported: jobs can be sorted by createdAt"},
		{`{sort: {createdAt: DESC, progress: ASC}}`, "options.sort.progress is not supported"},
		{`{filter: {createdAt: {after: "2026-01-01T00:00:00Z"}}}`, "options.filter.createdAt is not supported: jobs can be filtered by queueName (eq, in), state (eq, in) and isSettled (eq)"},
		{`{filter: {id: {eq: "1"}}}`, "options.filter.id is not supported"},
		{`{filter: {retries: {gt: 0}}}`, "options.filter.retries is not supported"},
		{`{filter: {_or: [{state: {eq: "FAILED"}}]}}`, "options.filter._or is not supported"},
		{`{filter: {_and: [{state: {eq: "FAILED"}}]}}`, "options.filter._and is not supported"},
		{`{filter: {queueName: {contains: "clean"}}}`, "options.filter.queueName.contains is not supported"},
		{`{filter: {queueName: {regex: "^clean"}}}`, "options.filter.queueName.regex is not supported"},
		{`{filter: {state: {notIn: ["FAILED"]}}}`, "options.filter.state.notIn is not supported"},
		{`{filter: {isSettled: {isNull: false}}}`, "options.filter.isSettled.isNull is not supported"},
		{`{filter: {state: {eq: "DONE"}}}`, `options.filter.state: "DONE" is not a JobState (PENDING, RUNNING, COMPLETED, RETRYING, FAILED, CANCELLED)`},
		{`{filter: {queueName: {in: []}}}`, "options.filter.queueName.in must not be empty"},
		{`{filter: {queueName: {eq: "a", in: ["b"]}}}`, "options.filter.queueName: give eq or in, not both"},
		{`{filterOperator: OR, filter: {queueName: {eq: "clean-sessions"}, isSettled: {eq: true}}}`,
			"options.filterOperator OR is not supported with more than one filter field (queueName, isSettled)"},
	} {
		t.Run(c.options, func(t *testing.T) {
			requireUserInputError(t, admin.Do(`{ jobs(options: `+c.options+`) { totalItems items { id } } }`, nil), "jobs", c.want)
		})
	}

	// The same through variables, as clients send them.
	r := admin.Do(`query($o: JobListOptions) { jobs(options: $o) { totalItems } }`,
		map[string]any{"o": map[string]any{"filter": map[string]any{"startedAt": map[string]any{"before": "2026-01-01T00:00:00Z"}}}})
	requireUserInputError(t, r, "jobs", "options.filter.startedAt is not supported")

	requireUserInputError(t, admin.Do(`mutation { triggerCleanSessionsJob(batchSize: 100001) { id } }`, nil),
		"triggerCleanSessionsJob", "batchSize must be at most 100000, got 100001")
}
