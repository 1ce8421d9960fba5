package adminapi

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopsession/sessionserver/service/outcome"
)

// nestedCustomerOrders refuses Customer.orders selected inside another
// Customer.orders (customers → orders → customer → orders …): each
// level would run one query per item of the level above, so a page of
// customers could make a request run a page's square of queries. At the
// top, or under customers, it runs at most one query per customer of the
// page.
func nestedCustomerOrders(ctx context.Context) error {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return nil
	}
	for p := fc.Parent; p != nil; p = p.Parent {
		if p.Object == "Customer" && p.Field.Name == "orders" {
			return fmt.Errorf("%w: Customer.orders cannot be selected inside Customer.orders", outcome.ErrInvalidInput)
		}
	}
	return nil
}
