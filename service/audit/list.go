package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
)

// MaxListTake is the largest page of entries, and the page a request
// without take gets.
const MaxListTake = 100

// ListTable is what the audit log list serves: every column with Vendure's
// operators of its type, newest first unless sorted.
var ListTable = listquery.MustTable(listquery.Table{
	Noun: "auditEntries",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "a.id", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "a.created_at", Sort: true},
		{Name: "actorUserId", Type: listquery.ID, Column: "a.actor_user_id"},
		{Name: "actorIdentifier", Type: listquery.String, Column: "a.actor_identifier", Sort: true},
		{Name: "clientAddress", Type: listquery.String, Column: "a.client_address"},
		{Name: "channelId", Type: listquery.ID, Column: "a.channel_id"},
		{
			Name: "action", Type: listquery.String, Column: "a.action",
			Ops: []listquery.Op{listquery.Eq, listquery.NotEq, listquery.In, listquery.NotIn},
			Values: []listquery.Value{
				{Name: string(Created), Stored: []string{string(Created)}},
				{Name: string(Updated), Stored: []string{string(Updated)}},
				{Name: string(Deleted), Stored: []string{string(Deleted)}},
				{Name: string(SessionsEnded), Stored: []string{string(SessionsEnded)}},
				{Name: string(Erased), Stored: []string{string(Erased)}},
			},
			ValuesName: "AuditAction",
		},
		{Name: "entityType", Type: listquery.String, Column: "a.entity_type", Sort: true},
		{Name: "entityId", Type: listquery.ID, Column: "a.entity_id"},
		{Name: "detail", Type: listquery.String, Column: "a.detail"},
	},
	MaxTake:     MaxListTake,
	DefaultSort: []listquery.Sort{{Field: "createdAt", Desc: true}},
	TieBreak:    "a.id",
	Nested:      true,
})

// Log reads the audit log.
type Log struct{ db *bun.DB }

// NewLog returns the audit log of db.
func NewLog(db *bun.DB) *Log { return &Log{db: db} }

// List returns a page of entries as opts ask (checked against ListTable;
// a refusal is a *listquery.Error) and how many match in all. channelID,
// when set, is the request's channel: off the default channel only the
// entries of requests on that channel are listed (entity.ChannelScope).
func (l *Log) List(ctx context.Context, channelID *entity.ID, opts listquery.Options) ([]*Row, int, error) {
	q, err := ListTable.Parse(opts, l.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	matching := func(sel *bun.SelectQuery) *bun.SelectQuery {
		sel = sel.Model((*Row)(nil))
		if channelID != nil {
			sel = entity.ChannelScope(sel.QueryBuilder(), *channelID, "a.channel_id = ?").Unwrap().(*bun.SelectQuery)
		}
		return q.Where(sel)
	}
	var (
		total int
		rows  []*Row
	)
	err = l.db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		n, err := matching(tx.NewSelect()).Count(ctx)
		if err != nil {
			return fmt.Errorf("count audit entries: %w", listquery.QueryError(err))
		}
		total = int(n)
		if err := q.Page(matching(tx.NewSelect())).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("list audit entries: %w", listquery.QueryError(err))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}
