package adminapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/jobs"
)

func ptr[T any](v T) *T { return &v }

func TestJobListOptions(t *testing.T) {
	t.Parallel()
	asc, desc := model.SortOrderAsc, model.SortOrderDesc
	and, or := model.LogicalOperatorAnd, model.LogicalOperatorOr
	cases := []struct {
		name string
		in   *model.JobListOptions
		want jobs.ListOptions
	}{
		{"nil", nil, jobs.ListOptions{}},
		{"empty", &model.JobListOptions{}, jobs.ListOptions{}},
		{"paging", &model.JobListOptions{Skip: ptr(5), Take: ptr(MaxJobsTake)}, jobs.ListOptions{Skip: 5, Take: MaxJobsTake}},
		{"take 0 is the default page", &model.JobListOptions{Take: ptr(0)}, jobs.ListOptions{}},
		{"createdAt ASC", &model.JobListOptions{Sort: &model.JobSortParameter{CreatedAt: &asc}}, jobs.ListOptions{OldestFirst: true}},
		{"createdAt DESC", &model.JobListOptions{Sort: &model.JobSortParameter{CreatedAt: &desc}}, jobs.ListOptions{}},
		{"queueName eq", &model.JobListOptions{Filter: &model.JobFilterParameter{QueueName: &model.StringOperators{Eq: ptr("clean-sessions")}}},
			jobs.ListOptions{QueueNames: []string{"clean-sessions"}}},
		{"queueName in", &model.JobListOptions{Filter: &model.JobFilterParameter{QueueName: &model.StringOperators{In: []string{"a", "b"}}}},
			jobs.ListOptions{QueueNames: []string{"a", "b"}}},
		{"state eq", &model.JobListOptions{Filter: &model.JobFilterParameter{State: &model.StringOperators{Eq: ptr("FAILED")}}},
			jobs.ListOptions{States: []jobs.State{jobs.StateFailed}}},
		{"state in", &model.JobListOptions{Filter: &model.JobFilterParameter{State: &model.StringOperators{In: []string{"PENDING", "RETRYING"}}}},
			jobs.ListOptions{States: []jobs.State{jobs.StatePending, jobs.StateRetrying}}},
		{"isSettled eq false", &model.JobListOptions{Filter: &model.JobFilterParameter{IsSettled: &model.BooleanOperators{Eq: ptr(false)}}},
			jobs.ListOptions{Settled: ptr(false)}},
		{"empty operators are no condition", &model.JobListOptions{Filter: &model.JobFilterParameter{QueueName: &model.StringOperators{}, IsSettled: &model.BooleanOperators{}}},
			jobs.ListOptions{}},
		{"AND of all three", &model.JobListOptions{FilterOperator: &and, Filter: &model.JobFilterParameter{
			QueueName: &model.StringOperators{Eq: ptr("q")}, State: &model.StringOperators{Eq: ptr("RUNNING")}, IsSettled: &model.BooleanOperators{Eq: ptr(true)},
		}}, jobs.ListOptions{QueueNames: []string{"q"}, States: []jobs.State{jobs.StateRunning}, Settled: ptr(true)}},
		{"OR of one field", &model.JobListOptions{FilterOperator: &or, Filter: &model.JobFilterParameter{QueueName: &model.StringOperators{Eq: ptr("q")}}},
			jobs.ListOptions{QueueNames: []string{"q"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := jobListOptions(c.in)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestJobListOptionsRefusals(t *testing.T) {
	t.Parallel()
	asc := model.SortOrderAsc
	or := model.LogicalOperatorOr
	filter := func(f model.JobFilterParameter) *model.JobListOptions { return &model.JobListOptions{Filter: &f} }
	cases := []struct {
		in   *model.JobListOptions
		want string // the message starts with it
	}{
		{&model.JobListOptions{Skip: ptr(-1)}, "options.skip must not be negative"},
		{&model.JobListOptions{Take: ptr(-1)}, "options.take must be between 0 and 100"},
		{&model.JobListOptions{Take: ptr(MaxJobsTake + 1)}, "options.take must be between 0 and 100"},
		{&model.JobListOptions{Sort: &model.JobSortParameter{ID: &asc}}, "options.sort.id is not supported"},
		{&model.JobListOptions{Sort: &model.JobSortParameter{CreatedAt: &asc, Duration: &asc}}, "options.sort.duration is not supported"},
		{filter(model.JobFilterParameter{ID: &model.IDOperators{Eq: ptr("1")}}), "options.filter.id is not supported"},
		{filter(model.JobFilterParameter{CreatedAt: &model.DateOperators{}}), "options.filter.createdAt is not supported"},
		{filter(model.JobFilterParameter{StartedAt: &model.DateOperators{}}), "options.filter.startedAt is not supported"},
		{filter(model.JobFilterParameter{SettledAt: &model.DateOperators{}}), "options.filter.settledAt is not supported"},
		{filter(model.JobFilterParameter{Progress: &model.NumberOperators{}}), "options.filter.progress is not supported"},
		{filter(model.JobFilterParameter{Duration: &model.NumberOperators{}}), "options.filter.duration is not supported"},
		{filter(model.JobFilterParameter{Retries: &model.NumberOperators{}}), "options.filter.retries is not supported"},
		{filter(model.JobFilterParameter{Attempts: &model.NumberOperators{}}), "options.filter.attempts is not supported"},
		{filter(model.JobFilterParameter{And: []*model.JobFilterParameter{}}), "options.filter._and is not supported"},
		{filter(model.JobFilterParameter{Or: []*model.JobFilterParameter{}}), "options.filter._or is not supported"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{Contains: ptr("clean")}}), "options.filter.queueName.contains is not supported"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{NotEq: ptr("x")}}), "options.filter.queueName.notEq is not supported"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{NotContains: ptr("x")}}), "options.filter.queueName.notContains is not supported"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{NotIn: []string{"x"}}}), "options.filter.queueName.notIn is not supported"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{Regex: ptr("x")}}), "options.filter.queueName.regex is not supported"},
		{filter(model.JobFilterParameter{State: &model.StringOperators{IsNull: ptr(true)}}), "options.filter.state.isNull is not supported"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{Eq: ptr("a"), In: []string{"a"}}}), "options.filter.queueName: give eq or in, not both"},
		{filter(model.JobFilterParameter{QueueName: &model.StringOperators{In: []string{}}}), "options.filter.queueName.in must not be empty"},
		{filter(model.JobFilterParameter{State: &model.StringOperators{Eq: ptr("DONE")}}), `options.filter.state: "DONE" is not a JobState (PENDING, RUNNING, COMPLETED, RETRYING, FAILED, CANCELLED)`},
		{filter(model.JobFilterParameter{State: &model.StringOperators{In: []string{"FAILED", "pending"}}}), `options.filter.state: "pending" is not a JobState`},
		{filter(model.JobFilterParameter{IsSettled: &model.BooleanOperators{IsNull: ptr(false)}}), "options.filter.isSettled.isNull is not supported"},
		{&model.JobListOptions{FilterOperator: &or, Filter: &model.JobFilterParameter{
			QueueName: &model.StringOperators{Eq: ptr("q")}, IsSettled: &model.BooleanOperators{Eq: ptr(true)},
		}}, "options.filterOperator OR is not supported with more than one filter field (queueName, isSettled)"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			_, err := jobListOptions(c.in)
			var gqlErr *gqlerror.Error
			require.ErrorAs(t, err, &gqlErr)
			require.Equal(t, gqlerr.CodeUserInput, gqlerr.Code(gqlErr))
			require.True(t, strings.HasPrefix(gqlErr.Message, c.want), "message %q", gqlErr.Message)
		})
	}
}
