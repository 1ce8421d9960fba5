package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
)

// MaxListTake is the largest page Jobs returns, and the page size when
// the options give no take.
const MaxListTake = 100

// cleanSessionsDescription is Vendure's description of its task.
const cleanSessionsDescription = "Clean expired & inactive sessions from the database"

// riverStates maps Vendure's states to River's (see State).
var riverStates = map[State][]rivertype.JobState{
	StatePending:   {rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending},
	StateRunning:   {rivertype.JobStateRunning},
	StateCompleted: {rivertype.JobStateCompleted},
	StateRetrying:  {rivertype.JobStateRetryable},
	StateFailed:    {rivertype.JobStateDiscarded},
	StateCancelled: {rivertype.JobStateCancelled},
}

func toState(s rivertype.JobState) State {
	for state, rs := range riverStates {
		if slices.Contains(rs, s) {
			return state
		}
	}
	return StatePending
}

// toJob maps River's row to Vendure's Job.
func toJob(row *rivertype.JobRow) *Job {
	j := &Job{
		ID:        entity.ID(row.ID),
		QueueName: row.Queue,
		State:     toState(row.State),
		Data:      publicArgs(row),
		Retries:   max(row.MaxAttempts-1, 0),
		Attempts:  row.Attempt,
		CreatedAt: row.CreatedAt,
		StartedAt: row.AttemptedAt,
		SettledAt: row.FinalizedAt,
	}
	if j.State == StateCompleted {
		j.Progress = 100
	}
	if out := row.Output(); len(out) > 0 {
		j.Result = json.RawMessage(out)
	}
	if n := len(row.Errors); n > 0 {
		// Vendure's error is the message; River keeps one per attempt.
		msg, _ := json.Marshal(row.Errors[n-1].Error)
		j.Error = msg
	}
	return j
}

// Job implements Queries.
func (r *Runner) Job(ctx context.Context, id entity.ID) (*Job, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	row, err := r.client.JobGet(ctx, int64(id))
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: get job %d: %w", id, err)
	}
	return toJob(row), nil
}

// Jobs implements Queries. River's own listing pages by cursor and does
// not count, so the page's ids and the total are read from River's
// table with bun (whose deadline every statement gets), and the rows
// through River, which decodes them the same way on both dialects. The
// options are checked against ListTable.
func (r *Runner) Jobs(ctx context.Context, opts listquery.Options) (*List, error) {
	lq, err := ListTable.Parse(opts, r.cfg.DB.Dialect().Name())
	if err != nil {
		return nil, err
	}
	q := lq.Where(r.cfg.DB.NewSelect().Table("river_job").Column("id"))
	total, err := q.Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	var ids []int64
	if err := lq.Page(q).Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("jobs: list jobs: %w", err)
	}
	list := &List{Items: make([]*Job, 0, len(ids)), TotalItems: int(total)}
	if len(ids) == 0 {
		return list, nil
	}
	rows, err := r.rows(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		// A job the cleaner removed between the two reads is left out.
		if row, ok := rows[id]; ok {
			list.Items = append(list.Items, toJob(row))
		}
	}
	return list, nil
}

// rows reads River's rows of ids.
func (r *Runner) rows(ctx context.Context, ids []int64) (map[int64]*rivertype.JobRow, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	res, err := r.client.JobList(ctx, river.NewJobListParams().IDs(ids...).First(len(ids)))
	if err != nil {
		return nil, fmt.Errorf("jobs: read jobs: %w", err)
	}
	out := make(map[int64]*rivertype.JobRow, len(res.Jobs))
	for _, row := range res.Jobs {
		out[row.ID] = row
	}
	return out, nil
}

// ScheduledTasks implements Queries: the clean-sessions task, its next
// run by the schedule, and its last run from the newest job of its
// queue that has started (periodic or triggered, as Vendure's task only
// enqueues the job).
func (r *Runner) ScheduledTasks(ctx context.Context) ([]ScheduledTask, error) {
	task := ScheduledTask{
		ID: CleanSessionsQueue, Description: cleanSessionsDescription,
		Schedule: ScheduleOff, Enabled: r.schedule != nil,
	}
	if r.schedule != nil {
		task.Schedule = r.schedule.String()
		next := r.schedule.Next(r.cfg.NowFunc())
		task.NextExecutionAt = &next
	}
	var ids []int64
	err := r.cfg.DB.NewSelect().Table("river_job").Column("id").
		Where("queue = ?", CleanSessionsQueue).Where("attempted_at IS NOT NULL").
		OrderExpr("attempted_at DESC, id DESC").Limit(1).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("jobs: last clean-sessions job: %w", err)
	}
	if len(ids) == 1 {
		rows, err := r.rows(ctx, ids)
		if err != nil {
			return nil, err
		}
		if row, ok := rows[ids[0]]; ok {
			job := toJob(row)
			task.LastExecutedAt = job.StartedAt
			task.LastResult = job.Result
			task.IsRunning = job.State == StateRunning
		}
	}
	return []ScheduledTask{task}, nil
}
