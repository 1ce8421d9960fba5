package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// User is a login identity. An administrator and a customer with the same
// e-mail address are two different users.
type User struct {
	bun.BaseModel `bun:"table:user,alias:u"`

	ID         ID         `bun:"id,pk,autoincrement"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	UpdatedAt  time.Time  `bun:"updated_at,notnull"`
	DeletedAt  *time.Time `bun:"deleted_at"`
	Identifier string     `bun:"identifier,notnull"`
	Verified   bool       `bun:"verified,notnull"`
	LastLogin  *time.Time `bun:"last_login"`
}

// UserRole assigns a role to a user.
type UserRole struct {
	bun.BaseModel `bun:"table:user_role,alias:ur"`

	UserID ID `bun:"user_id,pk"`
	RoleID ID `bun:"role_id,pk"`
}

// Authentication method types.
const (
	AuthMethodNative   = "native"
	AuthMethodExternal = "external"
)

// AuthenticationMethod is one way a user can authenticate. The native method
// holds the bcrypt hash of the password.
type AuthenticationMethod struct {
	bun.BaseModel `bun:"table:authentication_method,alias:am"`

	ID                 ID        `bun:"id,pk,autoincrement"`
	CreatedAt          time.Time `bun:"created_at,notnull"`
	UpdatedAt          time.Time `bun:"updated_at,notnull"`
	UserID             ID        `bun:"user_id,notnull"`
	Type               string    `bun:"type,notnull"`
	Identifier         *string   `bun:"identifier"`
	PasswordHash       *string   `bun:"password_hash"`
	Strategy           *string   `bun:"strategy"`
	ExternalIdentifier *string   `bun:"external_identifier"`
}

// Administrator is the admin-side profile of a user.
type Administrator struct {
	bun.BaseModel `bun:"table:administrator,alias:adm"`

	ID           ID         `bun:"id,pk,autoincrement"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	UpdatedAt    time.Time  `bun:"updated_at,notnull"`
	DeletedAt    *time.Time `bun:"deleted_at"`
	FirstName    string     `bun:"first_name,notnull"`
	LastName     string     `bun:"last_name,notnull"`
	EmailAddress string     `bun:"email_address,notnull"`
	UserID       ID         `bun:"user_id,notnull"`
}

// Customer is the shop-side profile of a user (or of a guest, with no user).
type Customer struct {
	bun.BaseModel `bun:"table:customer,alias:cu"`

	ID           ID         `bun:"id,pk,autoincrement"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	UpdatedAt    time.Time  `bun:"updated_at,notnull"`
	DeletedAt    *time.Time `bun:"deleted_at"`
	Title        *string    `bun:"title"`
	FirstName    string     `bun:"first_name,notnull"`
	LastName     string     `bun:"last_name,notnull"`
	PhoneNumber  *string    `bun:"phone_number"`
	EmailAddress string     `bun:"email_address,notnull"`
	UserID       *ID        `bun:"user_id"`
}

// CustomerChannel makes a customer visible on a channel.
type CustomerChannel struct {
	bun.BaseModel `bun:"table:customer_channel,alias:cc"`

	CustomerID ID `bun:"customer_id,pk"`
	ChannelID  ID `bun:"channel_id,pk"`
}

// Kinds of CustomerToken.
const (
	TokenVerification  = "verification"
	TokenPasswordReset = "password_reset"
)

// CustomerToken is a one-time token of a customer user: the e-mail
// verification token or the password reset token (at most one of each per
// user). Only its SHA-256 is stored.
type CustomerToken struct {
	bun.BaseModel `bun:"table:customer_token,alias:ct"`

	ID        ID        `bun:"id,pk,autoincrement"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UserID    ID        `bun:"user_id,notnull"`
	Kind      string    `bun:"kind,notnull"`
	TokenHash string    `bun:"token_hash,notnull"`
	Expires   time.Time `bun:"expires,notnull"`
	// PasswordHash is the password chosen at the registration a
	// verification token was sent for: the token that verifies sets it.
	// Nil for a registration without a password and for other kinds.
	PasswordHash *string `bun:"password_hash"`
	// DeliveryID names this issuance of the token for its queued delivery,
	// which gives it a fresh token when it sends (account.Service's
	// RenewDeliveryToken). Nil for tokens issued before the column.
	DeliveryID *string `bun:"delivery_id"`
}

// IsCreateCustomerResult makes a Customer a member of the Admin API's
// CreateCustomerResult union.
func (*Customer) IsCreateCustomerResult() {}

// IsUpdateCustomerResult makes a Customer a member of the Admin API's
// UpdateCustomerResult union.
func (*Customer) IsUpdateCustomerResult() {}
