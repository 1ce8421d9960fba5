package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// UserService manages users with their administrator or customer profiles.
// It owns every write to the user, customer and administrator tables and
// their join tables.
type UserService struct {
	db       *bun.DB
	now      func() time.Time
	hasher   password.Hasher
	sessions *session.Service
}

// UserConfig configures a UserService.
type UserConfig struct {
	// DB is the database. Required.
	DB *bun.DB
	// Sessions deletes and evicts the sessions of a user whose roles change
	// or who is deleted, in the same transaction. Required.
	Sessions *session.Service
	// Hasher hashes the passwords of new users. Required.
	Hasher password.Hasher
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
}

// NewUserService returns a UserService, or an error naming every missing
// required field.
func NewUserService(cfg UserConfig) (*UserService, error) {
	if err := setup.Required("user service",
		setup.Field{Name: "DB", Unset: cfg.DB == nil},
		setup.Field{Name: "Sessions", Unset: cfg.Sessions == nil},
		setup.Field{Name: "Hasher", Unset: cfg.Hasher == nil},
	); err != nil {
		return nil, err
	}
	return &UserService{db: cfg.DB, now: setup.Now(cfg.NowFunc), hasher: cfg.Hasher, sessions: cfg.Sessions}, nil
}

// NewAdministrator describes an administrator to create.
type NewAdministrator struct {
	EmailAddress string // the login identifier
	Password     string
	FirstName    string
	LastName     string
	RoleIDs      []entity.ID
}

// CreateAdministrator creates a verified user with a native password and an
// administrator profile holding the given roles.
func (s *UserService) CreateAdministrator(ctx context.Context, in NewAdministrator) (*entity.Administrator, error) {
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var adm *entity.Administrator
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		now := s.now().UTC()
		user, err := CreateUser(ctx, t, now, auth.NormalizeIdentifier(in.EmailAddress), true, &hash, in.RoleIDs)
		if err != nil {
			return err
		}
		adm = &entity.Administrator{
			CreatedAt: now, UpdatedAt: now, FirstName: in.FirstName, LastName: in.LastName,
			EmailAddress: user.Identifier, UserID: user.ID,
		}
		if _, err := t.NewInsert().Model(adm).Exec(ctx); err != nil {
			return fmt.Errorf("create administrator: %w", err)
		}
		return nil
	})
	return adm, err
}

// NewCustomer describes a registered customer to create.
type NewCustomer struct {
	EmailAddress string
	Password     string // empty: no native password yet
	FirstName    string
	LastName     string
	Verified     bool
	ChannelIDs   []entity.ID // channels the customer is visible on
}

// CreateCustomer creates a user with the Customer role and a customer
// profile on the given channels.
func (s *UserService) CreateCustomer(ctx context.Context, in NewCustomer) (*entity.Customer, error) {
	var hash *string
	if in.Password != "" {
		h, err := s.hasher.Hash(ctx, in.Password)
		if err != nil {
			return nil, err
		}
		hash = &h
	}
	var cust *entity.Customer
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		now := s.now().UTC()
		var role entity.Role
		if err := t.NewSelect().Model(&role).Where("code = ?", entity.CustomerRoleCode).Scan(ctx); err != nil {
			return fmt.Errorf("find customer role: %w", err)
		}
		user, err := CreateUser(ctx, t, now, auth.NormalizeIdentifier(in.EmailAddress), in.Verified, hash, []entity.ID{role.ID})
		if err != nil {
			return err
		}
		uid := user.ID
		cust = &entity.Customer{
			CreatedAt: now, UpdatedAt: now, FirstName: in.FirstName, LastName: in.LastName,
			EmailAddress: user.Identifier, UserID: &uid,
		}
		if _, err := t.NewInsert().Model(cust).Exec(ctx); err != nil {
			return fmt.Errorf("create customer: %w", err)
		}
		for _, ch := range in.ChannelIDs {
			if err := addToChannel(ctx, t, "id", cust.ID, ch); err != nil {
				return err
			}
		}
		return nil
	})
	return cust, err
}

// AddUserToChannel makes the customer profile of a user visible on a
// channel, on db (the caller's transaction, or the database): a session
// calls it (session.Config.AssignCustomerFunc) when a logged-in user enters
// a channel, as Vendure's AuthGuard does, or a login starts a session on
// one, and a verification on its channel. A user without a live customer
// profile (an administrator) is left alone.
func AddUserToChannel(ctx context.Context, db bun.IDB, userID, channelID entity.ID) error {
	return addToChannel(ctx, db, "user_id", userID, channelID)
}

// AddCustomerToChannel makes a customer (registered or guest, by its id)
// visible on a channel, on db (the caller's transaction).
func AddCustomerToChannel(ctx context.Context, db bun.IDB, customerID, channelID entity.ID) error {
	return addToChannel(ctx, db, "id", customerID, channelID)
}

// addToChannel is the one insert into customer_channel: the live customer
// whose column (id or user_id) is id joins the channel.
// customer_channel's primary key (customer_id, channel_id) is the unique
// constraint; ON CONFLICT DO NOTHING, on both dialects, makes an existing
// assignment, even one inserted concurrently, a no-op instead of Vendure's
// duplicate-key error (vendure#834).
func addToChannel(ctx context.Context, db bun.IDB, column string, id, channelID entity.ID) error {
	if _, err := db.NewRaw(`INSERT INTO customer_channel (customer_id, channel_id)
SELECT id, ? FROM customer WHERE ? = ? AND deleted_at IS NULL
ON CONFLICT DO NOTHING`, channelID, bun.Ident(column), id).Exec(ctx); err != nil {
		return fmt.Errorf("add customer to channel: %w", err)
	}
	return nil
}

// CreateUser inserts a user with its native authentication method and
// roles, on db (the caller's transaction).
func CreateUser(ctx context.Context, db bun.IDB, now time.Time, identifier string, verified bool, hash *string, roleIDs []entity.ID) (*entity.User, error) {
	if identifier == "" {
		return nil, errors.New("create user: identifier is required")
	}
	user := &entity.User{CreatedAt: now, UpdatedAt: now, Identifier: identifier, Verified: verified}
	if _, err := db.NewInsert().Model(user).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	method := &entity.AuthenticationMethod{
		CreatedAt: now, UpdatedAt: now, UserID: user.ID, Type: entity.AuthMethodNative,
		Identifier: &identifier, PasswordHash: hash,
	}
	if _, err := db.NewInsert().Model(method).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create authentication method: %w", err)
	}
	for _, r := range roleIDs {
		if _, err := db.NewInsert().Model(&entity.UserRole{UserID: user.ID, RoleID: r}).Exec(ctx); err != nil {
			return nil, fmt.Errorf("assign role: %w", err)
		}
	}
	return user, nil
}

// SetRoles replaces a user's roles. The user's cached sessions are evicted so
// the new permissions apply on their next request (Vendure leaves them stale
// until the cache TTL).
func (s *UserService) SetRoles(ctx context.Context, userID entity.ID, roleIDs []entity.ID) error {
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		return s.setRoles(ctx, t, userID, roleIDs)
	})
}

// setRoles replaces a user's roles in t and evicts its cached sessions
// after commit.
func (s *UserService) setRoles(ctx context.Context, t *session.Tx, userID entity.ID, roleIDs []entity.ID) error {
	if _, err := t.NewDelete().Model((*entity.UserRole)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("clear roles: %w", err)
	}
	for _, r := range roleIDs {
		if _, err := t.NewInsert().Model(&entity.UserRole{UserID: userID, RoleID: r}).Exec(ctx); err != nil {
			return fmt.Errorf("assign role: %w", err)
		}
	}
	return s.sessions.EvictUserOnCommit(ctx, t, userID)
}

// SoftDelete marks a user (and their administrator or customer profile)
// deleted and deletes every session of the user.
func (s *UserService) SoftDelete(ctx context.Context, userID entity.ID) error {
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		return s.softDelete(ctx, t, userID)
	})
}

// softDelete is SoftDeleteUser with the service's sessions and clock.
func (s *UserService) softDelete(ctx context.Context, t *session.Tx, userID entity.ID) error {
	return SoftDeleteUser(ctx, t, s.sessions, s.now().UTC(), userID)
}

// SoftDeleteUser is the one deletion of a user, an administrator's or a
// customer's: in t it marks the user and its administrator and customer
// profiles deleted at now, removes its one-time tokens (verification,
// password reset) and ends its sessions through the session owner
// (revoked after commit). outcome.ErrNotFound when there is no live user
// with that id.
func SoftDeleteUser(ctx context.Context, t *session.Tx, sessions *session.Service, now time.Time, userID entity.ID) error {
	res, err := t.NewUpdate().Model((*entity.User)(nil)).Set("deleted_at = ?", now).Set("updated_at = ?", now).
		Where("id = ? AND deleted_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return outcome.ErrNotFound
	}
	for _, m := range []any{(*entity.Administrator)(nil), (*entity.Customer)(nil)} {
		if _, err := t.NewUpdate().Model(m).Set("deleted_at = ?", now).Set("updated_at = ?", now).
			Where("user_id = ? AND deleted_at IS NULL", userID).Exec(ctx); err != nil {
			return fmt.Errorf("delete profile: %w", err)
		}
	}
	if _, err := t.NewDelete().Model((*entity.CustomerToken)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("delete one-time tokens: %w", err)
	}
	return sessions.DeleteByUser(ctx, t, userID, session.RevokeUserDeleted)
}

// ActiveCustomer returns the non-deleted customer of a user, or outcome.ErrNotFound.
func (s *UserService) ActiveCustomer(ctx context.Context, userID entity.ID) (*entity.Customer, error) {
	c := new(entity.Customer)
	err := s.db.NewSelect().Model(c).Where("user_id = ? AND deleted_at IS NULL", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	return c, nil
}

// ActiveAdministrator returns the non-deleted administrator of a user, or outcome.ErrNotFound.
func (s *UserService) ActiveAdministrator(ctx context.Context, userID entity.ID) (*entity.Administrator, error) {
	a := new(entity.Administrator)
	err := s.db.NewSelect().Model(a).Where("user_id = ? AND deleted_at IS NULL", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find administrator: %w", err)
	}
	return a, nil
}
