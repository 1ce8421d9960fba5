package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/access"
)

// MaxCustomerOrdersTake is the largest page of a customer's orders, and
// the page a request without take gets.
const MaxCustomerOrdersTake = 100

// CustomerOrdersTable is what the Admin API's Customer.orders serves:
// Vendure's order fields that are columns here (its totals are computed
// from the lines, so they neither filter nor sort), newest first unless
// asked.
var CustomerOrdersTable = listquery.MustTable(listquery.Table{
	Noun: "orders",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "o.id", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "o.created_at", Sort: true},
		{Name: "updatedAt", Type: listquery.Date, Column: "o.updated_at", Sort: true},
		{Name: "orderPlacedAt", Type: listquery.Date, Column: "o.order_placed_at", Sort: true},
		{Name: "code", Type: listquery.String, Column: "o.code", Sort: true},
		{Name: "state", Type: listquery.String, Column: "o.state", Sort: true},
		{Name: "active", Type: listquery.Boolean, Column: "o.active"},
		{Name: "currencyCode", Type: listquery.String, Column: "o.currency_code"},
	},
	MaxTake:     MaxCustomerOrdersTake,
	DefaultSort: []listquery.Sort{{Field: "createdAt", Desc: true}},
	TieBreak:    "o.id",
	Nested:      true,
})

// CustomerOrders returns a page of a customer's orders, as Vendure's
// OrderService.findByCustomerId: its own (its carts included) and the
// placed guest orders linked to its account (order_history.go), on the
// caller's channel, or every channel on the default one
// (access.ChannelScope), each with its customer and its lines; and how
// many match in all. The caller has found the customer in its scope.
func (s *Service) CustomerOrders(ctx context.Context, by access.Caller, customerID entity.ID, opts listquery.Options) ([]*entity.Order, int, error) {
	q, err := CustomerOrdersTable.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	var orders []*entity.Order
	sel := s.db.NewSelect().Model(&orders).Relation("Customer").
		Where("(o.customer_id = ? OR o.account_customer_id = ?)", customerID, customerID)
	sel = entity.ChannelScope(sel.QueryBuilder(), by.ChannelID, "o.channel_id = ?").Unwrap().(*bun.SelectQuery)
	n, err := q.Apply(sel).ScanAndCount(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("list orders of customer: %w", listquery.QueryError(err))
	}
	if len(orders) == 0 {
		return orders, int(n), nil
	}
	ids := make([]entity.ID, len(orders))
	byID := make(map[entity.ID]*entity.Order, len(orders))
	for i, o := range orders {
		ids[i], byID[o.ID] = o.ID, o
		o.Lines = []*entity.OrderLine{}
	}
	var lines []*entity.OrderLine
	if err := s.db.NewSelect().Model(&lines).Relation("ProductVariant").
		Where("ol.order_id IN (?)", bun.List(ids)).Order("ol.id").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("load order lines: %w", err)
	}
	for _, l := range lines {
		o := byID[l.OrderID]
		o.Lines = append(o.Lines, l)
	}
	return orders, int(n), nil
}
