package jobs

import (
	"slices"
	"strings"

	"github.com/riverqueue/river/rivertype"

	"github.com/shopsession/sessionserver/listquery"
)

// ListTable is what the job list serves: filters on queueName and state
// (eq, in) and isSettled (eq), combined with AND, and the order by
// createdAt, newest first unless ASC is asked; a page of at most
// MaxListTake jobs. A state is one of Vendure's JobState values and
// stands for the River states it maps to (see State).
var ListTable = listquery.MustTable(listquery.Table{
	Noun: "jobs",
	Fields: []listquery.Field{
		{Name: "createdAt", Type: listquery.Date, Column: "created_at", NoFilter: true, Sort: true},
		{Name: "queueName", Type: listquery.String, Column: "queue", Ops: []listquery.Op{listquery.Eq, listquery.In}},
		{
			Name: "state", Type: listquery.String, Column: "state", Ops: []listquery.Op{listquery.Eq, listquery.In},
			Values: stateValues(), ValuesName: "JobState",
		},
		{Name: "isSettled", Type: listquery.Boolean, Column: settledColumn(), Ops: []listquery.Op{listquery.Eq}},
	},
	MaxTake:     MaxListTake,
	DefaultSort: []listquery.Sort{{Field: "createdAt", Desc: true}},
	TieBreak:    "id",
	Check:       checkListOptions,
})

// allStates are Vendure's JobState values, in its order.
var allStates = []State{StatePending, StateRunning, StateCompleted, StateRetrying, StateFailed, StateCancelled}

// stateValues are the state filter's values: each JobState and its River
// states.
func stateValues() []listquery.Value {
	out := make([]listquery.Value, len(allStates))
	for i, s := range allStates {
		out[i] = listquery.Value{Name: string(s), Stored: riverStateNames(riverStates[s])}
	}
	return out
}

// settledColumn is the condition of a settled job (completed, failed or
// cancelled), as SQL over River's state column: a constant of this code.
func settledColumn() string {
	var names []string
	for _, s := range []State{StateCompleted, StateFailed, StateCancelled} {
		for _, n := range riverStateNames(riverStates[s]) {
			names = append(names, "'"+n+"'")
		}
	}
	slices.Sort(names)
	return "state IN (" + strings.Join(names, ", ") + ")"
}

func riverStateNames(states []rivertype.JobState) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}

// checkListOptions keeps the job list's filters to the ones it documents:
// each field gives eq or a non-empty in, and the fields combine with AND
// (OR over one field is that field's filter).
func checkListOptions(o listquery.Options) error {
	if o.Filter == nil {
		return nil
	}
	var used []string
	for _, ff := range o.Filter.Fields {
		used = append(used, ff.Field)
		s, ok := ff.Ops.(*listquery.StringOperators)
		if !ok {
			continue
		}
		switch {
		case s.Eq != nil && s.In != nil:
			return listquery.Errorf("options.filter.%s: give eq or in, not both", ff.Field)
		case s.In != nil && len(s.In) == 0:
			return listquery.Errorf("options.filter.%s.in must not be empty", ff.Field)
		}
	}
	if o.FilterOperator == listquery.Or && len(used) > 1 {
		return listquery.Errorf("options.filterOperator OR is not supported with more than one filter field (%s): jobs filters combine with AND", strings.Join(used, ", "))
	}
	return nil
}
