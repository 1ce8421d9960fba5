package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// Role codes created at first start.
const (
	SuperAdminRoleCode = "__super_admin_role__"
	CustomerRoleCode   = "__customer_role__"
)

// Role grants permissions on the channels it is attached to.
type Role struct {
	bun.BaseModel `bun:"table:role,alias:r"`

	ID          ID         `bun:"id,pk,autoincrement"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`
	Code        string     `bun:"code,notnull"`
	Description string     `bun:"description,notnull"`
	Permissions StringList `bun:"permissions,notnull,type:text"`

	// Channels are the channels the role is attached to (role_channel), by
	// id, when loaded: the role service fills them where it returns a role
	// with its channels.
	Channels []*Channel `bun:"-"`
}

// RoleChannel attaches a role to a channel.
type RoleChannel struct {
	bun.BaseModel `bun:"table:role_channel,alias:rc"`

	RoleID    ID `bun:"role_id,pk"`
	ChannelID ID `bun:"channel_id,pk"`
}
