package adminapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/jobs"
)

// MaxJobsTake is the largest page of jobs (JobListOptions.take) and the
// most ids jobsById accepts in one call.
const MaxJobsTake = 100

// The filters and sorts jobs.ListOptions supports, as the refusals name
// them.
const (
	supportedJobFilters = "queueName (eq, in), state (eq, in) and isSettled (eq)"
	supportedJobSorts   = "createdAt"
)

// jobListOptions translates Vendure's JobListOptions into jobs.ListOptions.
// Everything jobs.ListOptions cannot express (another filter field or
// operator, _and/_or, OR across fields, another sort field) is refused with
// a USER_INPUT_ERROR naming it: ignoring it would answer another question
// than the one asked.
func jobListOptions(in *model.JobListOptions) (jobs.ListOptions, error) {
	var out jobs.ListOptions
	if in == nil {
		return out, nil
	}
	if in.Skip != nil {
		if *in.Skip < 0 {
			return out, inputError("options.skip must not be negative, got %d", *in.Skip)
		}
		out.Skip = *in.Skip
	}
	if in.Take != nil {
		if *in.Take < 0 || *in.Take > MaxJobsTake {
			return out, inputError("options.take must be between 0 and %d (the maximum number of items that may be returned by a query), got %d", MaxJobsTake, *in.Take)
		}
		out.Take = *in.Take
	}
	if err := jobSort(in.Sort, &out); err != nil {
		return out, err
	}
	if in.Filter != nil {
		return out, jobFilter(in.Filter, in.FilterOperator, &out)
	}
	return out, nil
}

// jobSort sets the order: by createdAt only, DESC (newest first) unless
// ASC is asked.
func jobSort(s *model.JobSortParameter, out *jobs.ListOptions) error {
	if s == nil {
		return nil
	}
	if fields := setNames(
		flag{"id", s.ID != nil}, flag{"startedAt", s.StartedAt != nil}, flag{"settledAt", s.SettledAt != nil},
		flag{"queueName", s.QueueName != nil}, flag{"progress", s.Progress != nil}, flag{"duration", s.Duration != nil},
		flag{"retries", s.Retries != nil}, flag{"attempts", s.Attempts != nil},
	); len(fields) > 0 {
		return inputError("options.sort.%s is not supported: jobs can be sorted by %s", fields[0], supportedJobSorts)
	}
	out.OldestFirst = s.CreatedAt != nil && *s.CreatedAt == model.SortOrderAsc
	return nil
}

// jobFilter sets the filters: queueName and state (eq or in) and isSettled
// (eq), combined with AND.
func jobFilter(f *model.JobFilterParameter, op *model.LogicalOperator, out *jobs.ListOptions) error {
	if fields := setNames(
		flag{"id", f.ID != nil}, flag{"createdAt", f.CreatedAt != nil}, flag{"startedAt", f.StartedAt != nil},
		flag{"settledAt", f.SettledAt != nil}, flag{"progress", f.Progress != nil}, flag{"duration", f.Duration != nil},
		flag{"retries", f.Retries != nil}, flag{"attempts", f.Attempts != nil},
		flag{"_and", f.And != nil}, flag{"_or", f.Or != nil},
	); len(fields) > 0 {
		return inputError("options.filter.%s is not supported: jobs can be filtered by %s", fields[0], supportedJobFilters)
	}
	// OR over one field is that field's filter; over several, not
	// something jobs.ListOptions can express.
	used := setNames(flag{"queueName", f.QueueName != nil}, flag{"state", f.State != nil}, flag{"isSettled", f.IsSettled != nil})
	if op != nil && *op == model.LogicalOperatorOr && len(used) > 1 {
		return inputError("options.filterOperator OR is not supported with more than one filter field (%s): jobs filters combine with AND", strings.Join(used, ", "))
	}
	var err error
	if out.QueueNames, err = stringFilter("queueName", f.QueueName); err != nil {
		return err
	}
	names, err := stringFilter("state", f.State)
	if err != nil {
		return err
	}
	for _, name := range names {
		if !slices.Contains(allJobStates, jobs.State(name)) {
			return inputError("options.filter.state: %q is not a JobState (%s)", name, jobStateNames)
		}
		out.States = append(out.States, jobs.State(name))
	}
	if b := f.IsSettled; b != nil {
		if b.IsNull != nil {
			return inputError("options.filter.isSettled.isNull is not supported: jobs can be filtered by %s", supportedJobFilters)
		}
		out.Settled = b.Eq
	}
	return nil
}

// stringFilter returns the values a StringOperators filter on field allows:
// eq's one value or in's list; nil when neither is set (no condition).
func stringFilter(field string, o *model.StringOperators) ([]string, error) {
	if o == nil {
		return nil, nil
	}
	if ops := setNames(
		flag{"notEq", o.NotEq != nil}, flag{"contains", o.Contains != nil}, flag{"notContains", o.NotContains != nil},
		flag{"notIn", o.NotIn != nil}, flag{"regex", o.Regex != nil}, flag{"isNull", o.IsNull != nil},
	); len(ops) > 0 {
		return nil, inputError("options.filter.%s.%s is not supported: jobs can be filtered by %s", field, ops[0], supportedJobFilters)
	}
	if err := checkFilterValues("options.filter."+field, o); err != nil {
		return nil, err
	}
	switch {
	case o.Eq != nil && o.In != nil:
		return nil, inputError("options.filter.%s: give eq or in, not both", field)
	case o.Eq != nil:
		return []string{*o.Eq}, nil
	case o.In != nil && len(o.In) == 0:
		// jobs.ListOptions reads an empty list as no condition, the
		// opposite of what an empty in asks for.
		return nil, inputError("options.filter.%s.in must not be empty", field)
	default:
		return o.In, nil
	}
}

// allJobStates are Vendure's JobState values, in its order.
var allJobStates = []jobs.State{
	jobs.StatePending, jobs.StateRunning, jobs.StateCompleted,
	jobs.StateRetrying, jobs.StateFailed, jobs.StateCancelled,
}

// jobStateNames lists the JobState values for a refusal.
const jobStateNames = "PENDING, RUNNING, COMPLETED, RETRYING, FAILED, CANCELLED"

// flag is an input field's name and whether the input sets it.
type flag struct {
	name string
	set  bool
}

// setNames returns the names of the flags that are set, in order.
func setNames(flags ...flag) []string {
	var names []string
	for _, f := range flags {
		if f.set {
			names = append(names, f.name)
		}
	}
	return names
}

// inputError is a USER_INPUT_ERROR with a message for the client.
func inputError(format string, args ...any) *gqlerror.Error {
	return gqlerr.New(gqlerr.CodeUserInput, fmt.Sprintf(format, args...))
}
