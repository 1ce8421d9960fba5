package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Session administration: the Admin API's sessions list and the
// operations that end sessions (deleteSessionsByUser,
// deleteSessionsByActiveOrderId, deleteSession). It reads session rows and
// ends them through the revoking helpers, so every ended session is
// evicted after commit, through the outbox when the cache is shared.
//
// Only rows are administered: a lazy guest that holds nothing lives in the
// cache alone (session_guest.go) and is neither listed nor ended here.

// MaxListTake is the largest page of sessions, and the page a request
// without take gets.
const MaxListTake = 100

// Type is a session's kind, as the session table's discriminator stores
// it.
type Type string

// The session kinds.
const (
	TypeAnonymous     Type = entity.SessionAnonymous
	TypeAuthenticated Type = entity.SessionAuthenticated
)

// ListTable is what the sessions list serves: every field with Vendure's
// operators of its type (type, an enum, with eq, notEq, in, notIn and
// isNull), combined with AND or OR and in _and and _or groups, and the
// order by id, createdAt or expires, newest first unless asked.
var ListTable = listquery.MustTable(listquery.Table{
	Noun: "sessions",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "s.id", Sort: true},
		{Name: "userId", Type: listquery.ID, Column: "s.user_id"},
		{
			Name: "type", Type: listquery.String, Column: "s.type",
			Ops:    []listquery.Op{listquery.Eq, listquery.NotEq, listquery.In, listquery.NotIn, listquery.IsNull},
			Values: []listquery.Value{{Name: "ANONYMOUS", Stored: []string{entity.SessionAnonymous}}, {Name: "AUTHENTICATED", Stored: []string{entity.SessionAuthenticated}}},
			// The GraphQL enum's name.
			ValuesName: "SessionType",
		},
		{Name: "activeOrderId", Type: listquery.ID, Column: "s.active_order_id"},
		{Name: "activeChannelId", Type: listquery.ID, Column: "s.active_channel_id"},
		{Name: "authenticationStrategy", Type: listquery.String, Column: "s.authentication_strategy"},
		{Name: "createdAt", Type: listquery.Date, Column: "s.created_at", Sort: true},
		{Name: "expires", Type: listquery.Date, Column: "s.expires", Sort: true},
	},
	MaxTake:     MaxListTake,
	DefaultSort: []listquery.Sort{{Field: "createdAt", Desc: true}},
	TieBreak:    "s.id",
	Nested:      true,
})

// Info is one session as session administration and the self-service
// list show it: what it is, whose, since and until when, when last used,
// from which client, and what it holds; never its token or the token's
// hash.
type Info struct {
	ID                     entity.ID
	Type                   Type
	CreatedAt              time.Time
	Expires                time.Time
	ActiveOrderID          *entity.ID
	ActiveChannelID        *entity.ID
	AuthenticationStrategy *string
	// User is nil for a guest's (anonymous) session.
	User *InfoUser
	// LastUsedAt is when the session was last used, to the minute; nil
	// when unknown.
	LastUsedAt *time.Time
	// ClientAddress and UserAgent are those of the request that created
	// the session; nil when unknown or erased.
	ClientAddress *string
	UserAgent     *string
	// Browser, OperatingSystem and DeviceType are read from UserAgent
	// (ParseUserAgent); Browser and OperatingSystem are nil when it names
	// none the parser knows.
	Browser         *string
	OperatingSystem *string
	DeviceType      DeviceType
	// Current is whether this is the session of the caller that lists it.
	Current bool
}

// InfoUser is the user of an authenticated session.
type InfoUser struct {
	ID         entity.ID
	Identifier string
	// Administrator is whether the user has a live administrator profile:
	// its sessions are administrators' sessions.
	Administrator bool
}

// Scope is what of the session table one administrator may see (the
// list) or end (the deletions).
type Scope struct {
	// Administrators: the sessions of users with an administrator
	// profile.
	Administrators bool
	// Customers: every other session, customers' and guests'.
	Customers bool
	// ChannelID, when set, is the request's channel: off the default
	// channel only the sessions whose active channel it is are in scope
	// (entity.ChannelScope). Nil scopes no channel.
	ChannelID *entity.ID
	// Actor is who ends sessions, for the audit log.
	Actor audit.Actor
	// CallerSessionID is the session of the caller, which the list marks
	// Current; 0 marks none.
	CallerSessionID entity.ID
}

// AdminScope is the rule of session administration, Vendure's
// XAdministrator/XCustomer pattern applied to sessions: reading an
// administrator's sessions takes ReadAdministrator, a customer's or a
// guest's ReadCustomer; ending them takes UpdateAdministrator or
// UpdateCustomer (ending a session changes what its user may do, and
// deletes no user). granted are the caller's permissions on the request's
// channel, channelID; on a channel other than the default one the scope
// is that channel's sessions only, as a channel's administrators see that
// channel's customers only (entity.ChannelScope).
func AdminScope(granted auth.Granted, end bool, channelID entity.ID) Scope {
	admins, customers := auth.Permission("ReadAdministrator"), auth.Permission("ReadCustomer")
	if end {
		admins, customers = "UpdateAdministrator", "UpdateCustomer"
	}
	return Scope{Administrators: granted.Has(admins), Customers: granted.Has(customers), ChannelID: &channelID}
}

// isAdministrator is true for a session whose user has a live
// administrator profile. Its session columns are unqualified, so it serves
// the session table with or without its alias (a DELETE has none) and
// beside the user table (which has no user_id).
const isAdministrator = "user_id IN (SELECT administrator.user_id FROM administrator WHERE administrator.deleted_at IS NULL)"

// where adds the scope's conditions to a query of the session table: its
// kinds and its channel.
func (sc Scope) where(q bun.QueryBuilder) bun.QueryBuilder {
	switch {
	case sc.Administrators && sc.Customers:
	case sc.Administrators:
		q = q.Where(isAdministrator)
	case sc.Customers:
		q = q.Where("(user_id IS NULL OR NOT " + isAdministrator + ")")
	default:
		q = q.Where("1 = 0")
	}
	if sc.ChannelID != nil {
		q = entity.ChannelScope(q, *sc.ChannelID, "active_channel_id = ?")
	}
	return q
}

// others is the scope of the sessions on sc's channel that sc may not
// touch: the other kinds.
func (sc Scope) others() Scope {
	return Scope{Administrators: !sc.Administrators, Customers: !sc.Customers, ChannelID: sc.ChannelID}
}

// infoRow is a listed session's row with its user's identifier and kind.
type infoRow struct {
	ID                     entity.ID  `bun:"id"`
	Type                   string     `bun:"type"`
	CreatedAt              time.Time  `bun:"created_at"`
	Expires                time.Time  `bun:"expires"`
	ActiveOrderID          *entity.ID `bun:"active_order_id"`
	ActiveChannelID        *entity.ID `bun:"active_channel_id"`
	AuthenticationStrategy *string    `bun:"authentication_strategy"`
	UserID                 *entity.ID `bun:"user_id"`
	LastUsedAt             *time.Time `bun:"last_used_at"`
	ClientAddress          *string    `bun:"client_address"`
	UserAgent              *string    `bun:"user_agent"`
	UserIdentifier         *string    `bun:"user_identifier"`
	UserAdministrator      bool       `bun:"user_administrator"`
}

// infoColumns are infoRow's columns of the session table (alias s); the
// user's identifier and kind are selected beside them.
const infoColumns = "s.id, s.type, s.created_at, s.expires, s.active_order_id, s.active_channel_id, " +
	"s.authentication_strategy, s.user_id, s.last_used_at, s.client_address, s.user_agent"

// info is the row as shown to the caller whose session is current (0:
// none), its User-Agent described.
func (r infoRow) info(current entity.ID) *Info {
	in := &Info{
		ID: r.ID, Type: Type(r.Type), CreatedAt: r.CreatedAt, Expires: r.Expires,
		ActiveOrderID: r.ActiveOrderID, ActiveChannelID: r.ActiveChannelID,
		AuthenticationStrategy: r.AuthenticationStrategy,
		LastUsedAt:             r.LastUsedAt, ClientAddress: r.ClientAddress, UserAgent: r.UserAgent,
		Current: current != 0 && r.ID == current,
	}
	if r.UserID != nil {
		in.User = &InfoUser{ID: *r.UserID, Identifier: deref(r.UserIdentifier), Administrator: r.UserAdministrator}
	}
	c := ParseUserAgent(deref(r.UserAgent))
	in.DeviceType = c.DeviceType
	if c.Browser != "" {
		in.Browser = &c.Browser
	}
	if c.OperatingSystem != "" {
		in.OperatingSystem = &c.OperatingSystem
	}
	return in
}

// ListSessions returns a page of the sessions in scope, as opts ask
// (checked against ListTable; a refusal is a *listquery.Error), and how
// many sessions in scope match in all. Expired sessions the clean-up has
// not removed yet are listed: filter on expires to leave them out.
func (s *Service) ListSessions(ctx context.Context, sc Scope, opts listquery.Options) ([]*Info, int, error) {
	q, err := ListTable.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	matching := func(sel *bun.SelectQuery) *bun.SelectQuery {
		return q.Where(sc.where(sel.TableExpr("session AS s").QueryBuilder()).Unwrap().(*bun.SelectQuery))
	}
	var (
		total int
		rows  []infoRow
	)
	// The total and the page are read in one transaction, so they agree
	// (on PostgreSQL a read-only REPEATABLE READ one: one snapshot). Its
	// statements run without parallel workers: the count is an index-only
	// scan that is faster alone than with workers, whose start cost more
	// than they save (docs/benchmarks.md, "Sessions list").
	var txOpts *sql.TxOptions
	pg := s.db.Dialect().Name() == dialect.PG
	if pg {
		txOpts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	err = s.db.RunInTx(ctx, txOpts, func(ctx context.Context, tx bun.Tx) error {
		if pg {
			if _, err := tx.ExecContext(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
				return fmt.Errorf("list sessions: %w", err)
			}
		}
		n, err := matching(tx.NewSelect()).Count(ctx)
		if err != nil {
			return fmt.Errorf("count sessions: %w", listquery.QueryError(err))
		}
		total = int(n)
		page := q.Page(matching(tx.NewSelect()).
			ColumnExpr(infoColumns).
			ColumnExpr("u.identifier AS user_identifier").
			ColumnExpr(isAdministrator + " AS user_administrator").
			Join(`LEFT JOIN "user" AS u ON u.id = s.user_id`))
		if err := page.Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("list sessions: %w", listquery.QueryError(err))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*Info, len(rows))
	for i, r := range rows {
		out[i] = r.info(sc.CallerSessionID)
	}
	return out, total, nil
}

// EndSessionsByUser ends the sessions in scope of a user (Vendure's
// deleteSessionsByUser) and returns how many it ended.
func (s *Service) EndSessionsByUser(ctx context.Context, sc Scope, userID entity.ID) (int, error) {
	return s.endSessions(ctx, sc, audit.User, "user_id = ?", userID)
}

// EndSessionsByActiveOrder ends the sessions in scope whose active order
// is orderID (Vendure's deleteSessionsByActiveOrderId) and returns how
// many it ended.
func (s *Service) EndSessionsByActiveOrder(ctx context.Context, sc Scope, orderID entity.ID) (int, error) {
	return s.endSessions(ctx, sc, audit.Order, "active_order_id = ?", orderID)
}

// EndSession ends one session if it is in scope, and returns how many it
// ended (0 when no session of the scope has that id).
func (s *Service) EndSession(ctx context.Context, sc Scope, id entity.ID) (int, error) {
	return s.endSessions(ctx, sc, audit.Session, "id = ?", id)
}

// endSessions ends, in one transaction, the sessions that match (where,
// over the session table's unqualified columns, one argument) on the
// scope's channel, records who ended how many of which (of, an audit
// entity type, and arg) in the audit log, and revokes them after commit.
// It refuses with
// outcome.ErrForbidden, ending none, when one of them is of a kind the
// scope may not end: an administrator's session without Administrators,
// a customer's or a guest's without Customers.
func (s *Service) endSessions(ctx context.Context, sc Scope, of string, where string, arg entity.ID) (int, error) {
	if !sc.Administrators && !sc.Customers {
		return 0, outcome.ErrForbidden
	}
	var n int
	err := RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		if others := sc.others(); others.Administrators || others.Customers {
			sel := t.NewSelect().Model((*entity.Session)(nil)).Where(where, arg)
			refused, err := others.where(sel.QueryBuilder()).Unwrap().(*bun.SelectQuery).Exists(ctx)
			if err != nil {
				return fmt.Errorf("find sessions to end: %w", err)
			}
			if refused {
				return outcome.ErrForbidden
			}
		}
		del := t.NewDelete().Model((*entity.Session)(nil)).Where(where, arg)
		var err error
		n, err = s.deleteAndRevokeCount(ctx, t, RevokeAdmin, sc.where(del.QueryBuilder()).Unwrap().(*bun.DeleteQuery))
		if err != nil {
			return err
		}
		return audit.Record(ctx, t, s.now(), sc.Actor, audit.Entry{
			Action: audit.SessionsEnded, EntityType: of, EntityID: audit.IDOf(arg),
			Detail: fmt.Sprintf("%d ended", n),
		})
	})
	return n, err
}
