package adminapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/listquery"
)

func ptr[T any](v T) *T { return &v }

// jobsOptions is what the jobs field does with its options: convert them
// and check them against the job table.
func jobsOptions(in *model.JobListOptions) (listquery.Options, *listquery.Query, error) {
	opts := listOptions(in)
	q, err := jobs.ListTable.Parse(opts, dialect.SQLite)
	return opts, q, err
}

func TestJobListOptions(t *testing.T) {
	t.Parallel()
	asc, desc := model.SortOrderAsc, model.SortOrderDesc
	and, or := model.LogicalOperatorAnd, model.LogicalOperatorOr
	fields := func(ff ...listquery.FieldFilter) *listquery.Filter { return &listquery.Filter{Fields: ff} }
	queue := func(o listquery.StringOperators) listquery.FieldFilter {
		return listquery.FieldFilter{Field: "queueName", Ops: &o}
	}
	state := func(o listquery.StringOperators) listquery.FieldFilter {
		return listquery.FieldFilter{Field: "state", Ops: &o}
	}
	settled := func(o listquery.BooleanOperators) listquery.FieldFilter {
		return listquery.FieldFilter{Field: "isSettled", Ops: &o}
	}
	cases := []struct {
		name string
		in   *model.JobListOptions
		want listquery.Options
		take int
	}{
		{"nil", nil, listquery.Options{}, MaxJobsTake},
		{"empty", &model.JobListOptions{}, listquery.Options{}, MaxJobsTake},
		{"paging", &model.JobListOptions{Skip: ptr(5), Take: ptr(MaxJobsTake)}, listquery.Options{Skip: ptr(5), Take: ptr(MaxJobsTake)}, MaxJobsTake},
		{"take 0 is the default page", &model.JobListOptions{Take: ptr(0)}, listquery.Options{Take: ptr(0)}, MaxJobsTake},
		{"createdAt ASC", &model.JobListOptions{Sort: &model.JobSortParameter{CreatedAt: &asc}}, listquery.Options{Sort: []listquery.Sort{{Field: "createdAt"}}}, MaxJobsTake},
		{"createdAt DESC", &model.JobListOptions{Sort: &model.JobSortParameter{CreatedAt: &desc}}, listquery.Options{Sort: []listquery.Sort{{Field: "createdAt", Desc: true}}}, MaxJobsTake},
		{"queueName eq", &model.JobListOptions{Filter: &model.JobFilterParameter{QueueName: &listquery.StringOperators{Eq: ptr("clean-sessions")}}},
			listquery.Options{Filter: fields(queue(listquery.StringOperators{Eq: ptr("clean-sessions")}))}, MaxJobsTake},
		{"queueName in", &model.JobListOptions{Filter: &model.JobFilterParameter{QueueName: &listquery.StringOperators{In: []string{"a", "b"}}}},
			listquery.Options{Filter: fields(queue(listquery.StringOperators{In: []string{"a", "b"}}))}, MaxJobsTake},
		{"state eq", &model.JobListOptions{Filter: &model.JobFilterParameter{State: &listquery.StringOperators{Eq: ptr("FAILED")}}},
			listquery.Options{Filter: fields(state(listquery.StringOperators{Eq: ptr("FAILED")}))}, MaxJobsTake},
		{"state in", &model.JobListOptions{Filter: &model.JobFilterParameter{State: &listquery.StringOperators{In: []string{"PENDING", "RETRYING"}}}},
			listquery.Options{Filter: fields(state(listquery.StringOperators{In: []string{"PENDING", "RETRYING"}}))}, MaxJobsTake},
		{"isSettled eq false", &model.JobListOptions{Filter: &model.JobFilterParameter{IsSettled: &listquery.BooleanOperators{Eq: ptr(false)}}},
			listquery.Options{Filter: fields(settled(listquery.BooleanOperators{Eq: ptr(false)}))}, MaxJobsTake},
		{"empty operators are no condition", &model.JobListOptions{Filter: &model.JobFilterParameter{QueueName: &listquery.StringOperators{}, IsSettled: &listquery.BooleanOperators{}}},
			listquery.Options{Filter: fields(queue(listquery.StringOperators{}), settled(listquery.BooleanOperators{}))}, MaxJobsTake},
		{"AND of all three", &model.JobListOptions{FilterOperator: &and, Filter: &model.JobFilterParameter{
			QueueName: &listquery.StringOperators{Eq: ptr("q")}, State: &listquery.StringOperators{Eq: ptr("RUNNING")}, IsSettled: &listquery.BooleanOperators{Eq: ptr(true)},
		}}, listquery.Options{FilterOperator: listquery.And, Filter: fields(
			queue(listquery.StringOperators{Eq: ptr("q")}), state(listquery.StringOperators{Eq: ptr("RUNNING")}), settled(listquery.BooleanOperators{Eq: ptr(true)}),
		)}, MaxJobsTake},
		{"OR of one field", &model.JobListOptions{FilterOperator: &or, Filter: &model.JobFilterParameter{QueueName: &listquery.StringOperators{Eq: ptr("q")}}},
			listquery.Options{FilterOperator: listquery.Or, Filter: fields(queue(listquery.StringOperators{Eq: ptr("q")}))}, MaxJobsTake},
		{"a smaller page", &model.JobListOptions{Take: ptr(7)}, listquery.Options{Take: ptr(7)}, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, q, err := jobsOptions(c.in)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			require.Equal(t, c.take, q.Take())
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
		{filter(model.JobFilterParameter{ID: &listquery.IDOperators{Eq: ptr("1")}}), "options.filter.id is not supported"},
		{filter(model.JobFilterParameter{CreatedAt: &listquery.DateOperators{}}), "options.filter.createdAt is not supported"},
		{filter(model.JobFilterParameter{StartedAt: &listquery.DateOperators{}}), "options.filter.startedAt is not supported"},
		{filter(model.JobFilterParameter{SettledAt: &listquery.DateOperators{}}), "options.filter.settledAt is not supported"},
		{filter(model.JobFilterParameter{Progress: &listquery.NumberOperators{}}), "options.filter.progress is not supported"},
		{filter(model.JobFilterParameter{Duration: &listquery.NumberOperators{}}), "options.filter.duration is not supported"},
		{filter(model.JobFilterParameter{Retries: &listquery.NumberOperators{}}), "options.filter.retries is not supported"},
		{filter(model.JobFilterParameter{Attempts: &listquery.NumberOperators{}}), "options.filter.attempts is not supported"},
		{filter(model.JobFilterParameter{And: []*model.JobFilterParameter{}}), "options.filter._and is not supported"},
		{filter(model.JobFilterParameter{Or: []*model.JobFilterParameter{}}), "options.filter._or is not supported"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{Contains: ptr("clean")}}), "options.filter.queueName.contains is not supported"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{NotEq: ptr("x")}}), "options.filter.queueName.notEq is not supported"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{NotContains: ptr("x")}}), "options.filter.queueName.notContains is not supported"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{NotIn: []string{"x"}}}), "options.filter.queueName.notIn is not supported"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{Regex: ptr("x")}}), "options.filter.queueName.regex is not supported"},
		{filter(model.JobFilterParameter{State: &listquery.StringOperators{IsNull: ptr(true)}}), "options.filter.state.isNull is not supported"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{Eq: ptr("a"), In: []string{"a"}}}), "options.filter.queueName: give eq or in, not both"},
		{filter(model.JobFilterParameter{QueueName: &listquery.StringOperators{In: []string{}}}), "options.filter.queueName.in must not be empty"},
		{filter(model.JobFilterParameter{State: &listquery.StringOperators{Eq: ptr("DONE")}}), `options.filter.state: "DONE" is not a JobState (PENDING, RUNNING, COMPLETED, RETRYING, FAILED, CANCELLED)`},
		{filter(model.JobFilterParameter{State: &listquery.StringOperators{In: []string{"FAILED", "pending"}}}), `options.filter.state: "pending" is not a JobState`},
		{filter(model.JobFilterParameter{IsSettled: &listquery.BooleanOperators{IsNull: ptr(false)}}), "options.filter.isSettled.isNull is not supported"},
		{&model.JobListOptions{FilterOperator: &or, Filter: &model.JobFilterParameter{
			QueueName: &listquery.StringOperators{Eq: ptr("q")}, IsSettled: &listquery.BooleanOperators{Eq: ptr(true)},
		}}, "options.filterOperator OR is not supported with more than one filter field (queueName, isSettled)"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			_, _, err := jobsOptions(c.in)
			require.ErrorIs(t, err, listquery.ErrInvalid)
			require.True(t, strings.HasPrefix(err.Error(), c.want), "message %q", err.Error())
		})
	}
}
