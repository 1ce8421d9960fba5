package access

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
)

// ChannelScope is the channel scoping of the Admin API's customer
// administration, in one place: on the default channel an administrator
// reaches every customer and every order; on another channel only what
// belongs to it. onChannel is the condition that a row belongs to the
// channel, with one placeholder for its id (a customer: its
// customer_channel row; an order: its channel_id). The request's channel
// is compared with the default channel in the statement, so the rule
// needs no channel snapshot.
func ChannelScope(q bun.QueryBuilder, channelID entity.ID, onChannel string) bun.QueryBuilder {
	return q.Where("(EXISTS (SELECT 1 FROM channel AS scope_channel WHERE scope_channel.id = ? AND scope_channel.code = ?) OR "+onChannel+")",
		channelID, entity.DefaultChannelCode, channelID)
}

// CustomerOnChannel is ChannelScope's condition for the customer table
// under its alias cu: the customer has a customer_channel row for the
// channel.
const CustomerOnChannel = "cu.id IN (SELECT customer_channel.customer_id FROM customer_channel WHERE customer_channel.channel_id = ?)"

// RolesOfUserAs returns the roles of a user that the caller may see (the
// rule of FindAs: it holds every permission of the role on every channel
// of the role), with their channels, in id order. A role above the caller
// is left out, so a user's roles show no channel the caller has no part
// in.
func (s *RoleService) RolesOfUserAs(ctx context.Context, by Caller, userID entity.ID) ([]*entity.Role, error) {
	var roles []*entity.Role
	if err := s.db.NewSelect().Model(&roles).
		Where("r.id IN (SELECT user_role.role_id FROM user_role WHERE user_role.user_id = ?)", userID).
		OrderExpr("r.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find roles of user: %w", err)
	}
	out := make([]*entity.Role, 0, len(roles))
	for _, r := range roles {
		loaded, err := loadRole(ctx, s.db, r.ID, false)
		if err != nil {
			return nil, err
		}
		if canSee(by, loaded) {
			out = append(out, loaded)
		}
	}
	return out, nil
}
