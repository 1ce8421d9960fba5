package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// The Admin API's channel and role lists. Each lists only what the caller
// may see (as FindAs finds it): the visible ids are worked out first, from
// the caller's permissions, and the list's filter, order and page apply to
// them in SQL, so totalItems counts what the caller may see and nothing
// else. Both tables are small (a shop has tens of channels and roles), and
// MaxVisible bounds what one request reads to decide.

// MaxVisible is the most channels or roles a list considers; a shop with
// more is refused with an error rather than answered in part.
const MaxVisible = 10000

// MaxListTake is the largest page of channels or roles.
const MaxListTake = 100

// ChannelListTable is what the channels list serves: Vendure's
// ChannelFilterParameter and ChannelSortParameter fields, by id unless
// sorted.
var ChannelListTable = listquery.MustTable(listquery.Table{
	Noun: "channels",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "ch.id", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "ch.created_at", Sort: true},
		{Name: "updatedAt", Type: listquery.Date, Column: "ch.updated_at", Sort: true},
		{Name: "code", Type: listquery.String, Column: "ch.code", Sort: true},
		{Name: "token", Type: listquery.String, Column: "ch.token", Sort: true},
		{Name: "defaultLanguageCode", Type: listquery.String, Column: "ch.default_language_code"},
		{Name: "currencyCode", Type: listquery.String, Column: "ch.default_currency_code"},
		{Name: "defaultCurrencyCode", Type: listquery.String, Column: "ch.default_currency_code"},
		{Name: "trackInventory", Type: listquery.Boolean, Column: "ch.track_inventory"},
		{Name: "outOfStockThreshold", Type: listquery.Number, Column: "ch.out_of_stock_threshold", Sort: true},
		{Name: "pricesIncludeTax", Type: listquery.Boolean, Column: "ch.prices_include_tax"},
	},
	MaxTake:     MaxListTake,
	DefaultSort: []listquery.Sort{{Field: "id"}},
	TieBreak:    "ch.id",
	Nested:      true,
})

// RoleListTable is what the roles list serves: Vendure's
// RoleFilterParameter and RoleSortParameter fields, by id unless sorted.
var RoleListTable = listquery.MustTable(listquery.Table{
	Noun: "roles",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "r.id", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "r.created_at", Sort: true},
		{Name: "updatedAt", Type: listquery.Date, Column: "r.updated_at", Sort: true},
		{Name: "code", Type: listquery.String, Column: "r.code", Sort: true},
		{Name: "description", Type: listquery.String, Column: "r.description", Sort: true},
	},
	MaxTake:     MaxListTake,
	DefaultSort: []listquery.Sort{{Field: "id"}},
	TieBreak:    "r.id",
	Nested:      true,
})

// errTooMany refuses a list over more than MaxVisible rows.
var errTooMany = fmt.Errorf("list: more than %d rows to consider", MaxVisible)

// ListAs returns a page of the channels the caller may read (ReadSettings
// or ReadChannel on each, as FindAs), with their zones, as opts ask
// (checked against ChannelListTable; a refusal is a *listquery.Error),
// and how many of them match in all.
func (s *ChannelService) ListAs(ctx context.Context, by Caller, opts listquery.Options) ([]*entity.Channel, int, error) {
	q, err := ChannelListTable.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	var ids []entity.ID
	if err := s.db.NewSelect().Model((*entity.Channel)(nil)).Column("id").Limit(MaxVisible+1).Scan(ctx, &ids); err != nil {
		return nil, 0, fmt.Errorf("find channels: %w", err)
	}
	if len(ids) > MaxVisible {
		return nil, 0, errTooMany
	}
	visible := ids[:0]
	for _, id := range ids {
		if by.holdsAny(id, permReadSettings, permReadChannel) {
			visible = append(visible, id)
		}
	}
	var items []*entity.Channel
	total, err := listPage(ctx, s.db, q, visible, "ch.id", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().Model(&items).Relation("DefaultTaxZone").Relation("DefaultShippingZone")
	})
	return items, total, err
}

// ListAs returns a page of the roles the caller may see (as FindAs),
// with their channels, as opts ask (checked against RoleListTable; a
// refusal is a *listquery.Error), and how many of them match in all.
func (s *RoleService) ListAs(ctx context.Context, by Caller, opts listquery.Options) ([]*entity.Role, int, error) {
	q, err := RoleListTable.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	var roles []*entity.Role
	if err := s.db.NewSelect().Model(&roles).Column("id", "permissions").Limit(MaxVisible + 1).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("find roles: %w", err)
	}
	if len(roles) > MaxVisible {
		return nil, 0, errTooMany
	}
	var links []entity.RoleChannel
	if err := s.db.NewSelect().Model(&links).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("find channels of roles: %w", err)
	}
	byID := make(map[entity.ID]*entity.Role, len(roles))
	for _, r := range roles {
		byID[r.ID] = r
	}
	for _, l := range links {
		if r := byID[l.RoleID]; r != nil {
			r.Channels = append(r.Channels, &entity.Channel{ID: l.ChannelID})
		}
	}
	visible := make([]entity.ID, 0, len(roles))
	for _, r := range roles {
		if canSee(by, r) {
			visible = append(visible, r.ID)
		}
	}
	var items []*entity.Role
	total, err := listPage(ctx, s.db, q, visible, "r.id", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().Model(&items)
	})
	if err != nil {
		return nil, 0, err
	}
	// The page's channels, in one read.
	if len(items) > 0 {
		ids := make([]entity.ID, len(items))
		for i, r := range items {
			ids[i] = r.ID
		}
		var channels []*entity.Channel
		if err := s.db.NewSelect().Model(&channels).
			Where("ch.id IN (SELECT channel_id FROM role_channel WHERE role_id IN (?))", bun.List(ids)).
			OrderExpr("ch.id").Scan(ctx); err != nil {
			return nil, 0, fmt.Errorf("find channels of roles: %w", err)
		}
		for _, r := range items {
			r.Channels = []*entity.Channel{}
			for _, ch := range channels {
				if slices.Contains(channelIDs(byID[r.ID].Channels), ch.ID) {
					r.Channels = append(r.Channels, ch)
				}
			}
		}
	}
	return items, total, nil
}

// listPage counts the rows among ids that match q and reads q's page of
// them into the model of sel's query, in one read-only transaction so the
// two agree. idColumn is the list's id column.
func listPage(ctx context.Context, db *bun.DB, q *listquery.Query, ids []entity.ID, idColumn string, sel func(bun.Tx) *bun.SelectQuery) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var total int
	err := db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		matching := q.Where(sel(tx).Where(idColumn+" IN (?)", bun.List(ids)))
		n, err := matching.Count(ctx)
		if err != nil {
			return fmt.Errorf("count: %w", listquery.QueryError(err))
		}
		total = int(n)
		if err := q.Apply(sel(tx).Where(idColumn+" IN (?)", bun.List(ids))).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("list: %w", listquery.QueryError(err))
		}
		return nil
	})
	return total, err
}

// deleteMany runs del for each of ids (at most MaxIDs; a
// repeated id once, answered as the first) in one transaction, then
// finish when set. An *outcome.NotDeletedError is the id's answer; any
// other error rolls everything back and is returned.
func deleteMany(ctx context.Context, db *bun.DB, ids []entity.ID, del func(context.Context, *session.Tx, entity.ID) error, finish func(context.Context, *session.Tx) error) ([]error, error) {
	if err := checkIDs("ids", len(ids)); err != nil {
		return nil, err
	}
	out := make([]error, len(ids))
	err := session.RunInTx(ctx, db, func(ctx context.Context, t *session.Tx) error {
		for i, id := range ids {
			if first := slices.Index(ids, id); first < i {
				out[i] = out[first]
				continue
			}
			err := del(ctx, t, id)
			if nd, ok := errors.AsType[*outcome.NotDeletedError](err); ok {
				out[i] = nd
				continue
			}
			if err != nil {
				return err
			}
		}
		if finish != nil {
			return finish(ctx, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
