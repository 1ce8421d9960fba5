package access

import (
	"context"
	"fmt"

	"github.com/shopsession/sessionserver/entity"
)

// CustomerOnChannel is entity.ChannelScope's condition for the customer table
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
