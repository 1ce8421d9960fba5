package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// RoleService creates, changes and deletes roles. Every change bumps the
// access version in its transaction, and every committed change runs the
// access-change hook, which clears the session cache.
type RoleService struct {
	db      *bun.DB
	now     func() time.Time
	changed AccessChangeFunc
}

// RoleConfig configures a RoleService.
type RoleConfig struct {
	// DB is the database. Required.
	DB *bun.DB
	// AccessChangeFunc runs after every committed role change (app.New
	// passes session.Service.ClearCache). Defaults to doing nothing.
	AccessChangeFunc AccessChangeFunc
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
}

// NewRoleService returns a RoleService, or an error naming every missing
// required field.
func NewRoleService(cfg RoleConfig) (*RoleService, error) {
	if err := setup.Required("role service", setup.Field{Name: "DB", Unset: cfg.DB == nil}); err != nil {
		return nil, err
	}
	if cfg.AccessChangeFunc == nil {
		cfg.AccessChangeFunc = func(context.Context) {}
	}
	return &RoleService{db: cfg.DB, now: setup.Now(cfg.NowFunc), changed: cfg.AccessChangeFunc}, nil
}

// NewRole describes a role to create.
type NewRole struct {
	Code        string
	Description string
	Permissions []auth.Permission
	ChannelIDs  []entity.ID
}

// Create creates a role on the given channels. Authenticated is always
// prepended to its permissions, as Vendure does.
func (s *RoleService) Create(ctx context.Context, in NewRole) (*entity.Role, error) {
	var role *entity.Role
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		var err error
		role, err = createRole(ctx, t, s.now().UTC(), in)
		if err != nil {
			return err
		}
		return s.changedOnCommit(ctx, t)
	})
	return role, err
}

// UpdatePermissions replaces a role's permissions (Authenticated is kept).
func (s *RoleService) UpdatePermissions(ctx context.Context, roleID entity.ID, perms []auth.Permission) error {
	list, err := rolePermissions(perms)
	if err != nil {
		return err
	}
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := refuseBuiltIn(ctx, t, roleID, false); err != nil {
			return err
		}
		res, err := t.NewUpdate().Model((*entity.Role)(nil)).
			Set("permissions = ?", list).Set("updated_at = ?", s.now().UTC()).
			Where("id = ?", roleID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return outcome.ErrNotFound
		}
		return s.changedOnCommit(ctx, t)
	})
}

// Delete deletes a role. Built-in roles cannot be deleted
// (*outcome.CannotModifyRoleError); an unknown id is outcome.ErrNotFound.
func (s *RoleService) Delete(ctx context.Context, roleID entity.ID) error {
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := refuseBuiltIn(ctx, t, roleID, true); err != nil {
			return err
		}
		return s.deleteRole(ctx, t, roleID)
	})
}

// deleteRole deletes a role in t; its channels and its users' assignments
// go with it (ON DELETE CASCADE).
func (s *RoleService) deleteRole(ctx context.Context, t *session.Tx, roleID entity.ID) error {
	if _, err := t.NewDelete().Model((*entity.Role)(nil)).Where("id = ?", roleID).Exec(ctx); err != nil {
		return fmt.Errorf("delete role: %w", err)
	}
	return s.changedOnCommit(ctx, t)
}

// roleChange is the key of a transaction's role change (session.Tx.Once).
type roleChange struct{}

// changedOnCommit records a role change in t (the access version every
// instance's sync reads: with a cache that is not shared, each clears its
// own) and runs the access-change hook after commit, once per transaction
// however many roles it changes.
func (s *RoleService) changedOnCommit(ctx context.Context, t *session.Tx) error {
	if !t.Once(roleChange{}) {
		return nil
	}
	if err := bumpAccessVersion(ctx, t); err != nil {
		return err
	}
	t.OnCommit(s.changed)
	return nil
}

// notAssignable refuses a permission no role may hold, with Vendure's
// message.
func notAssignable(p auth.Permission) error {
	return fmt.Errorf("%w: The permission %q may not be assigned", outcome.ErrInvalidInput, p)
}

// duplicateRole refuses a role code another role has (the unique
// constraint said so, which also holds between concurrent writes).
func duplicateRole(code string) error {
	return fmt.Errorf("%w: a Role with the code %q %w", outcome.ErrInvalidInput, code, outcome.ErrDuplicate)
}

// rolePermissions validates perms and prepends Authenticated, de-duplicated.
func rolePermissions(perms []auth.Permission) (entity.StringList, error) {
	out := entity.StringList{string(auth.Authenticated)}
	seen := map[auth.Permission]bool{auth.Authenticated: true}
	for _, p := range perms {
		if !p.IsValid() || p == auth.Owner || p == auth.Public {
			return nil, notAssignable(p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, string(p))
		}
	}
	return out, nil
}

func createRole(ctx context.Context, db bun.IDB, now time.Time, in NewRole) (*entity.Role, error) {
	list, err := rolePermissions(in.Permissions)
	if err != nil {
		return nil, err
	}
	role := &entity.Role{CreatedAt: now, UpdatedAt: now, Code: in.Code, Description: in.Description, Permissions: list}
	if _, err := db.NewInsert().Model(role).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err) {
			return nil, duplicateRole(role.Code)
		}
		return nil, fmt.Errorf("create role: %w", err)
	}
	for _, chID := range in.ChannelIDs {
		if _, err := db.NewInsert().Model(&entity.RoleChannel{RoleID: role.ID, ChannelID: chID}).Exec(ctx); err != nil {
			return nil, fmt.Errorf("attach role to channel: %w", err)
		}
	}
	return role, nil
}

// refuseBuiltIn returns outcome.ErrNotFound for an unknown role and
// *outcome.CannotModifyRoleError for the SuperAdmin and Customer roles.
func refuseBuiltIn(ctx context.Context, db bun.IDB, roleID entity.ID, deletion bool) error {
	var code string
	err := db.NewSelect().Model((*entity.Role)(nil)).Column("code").Where("id = ?", roleID).Scan(ctx, &code)
	if errors.Is(err, sql.ErrNoRows) {
		return outcome.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("find role: %w", err)
	}
	return builtIn(code, deletion)
}

// builtIn returns *outcome.CannotModifyRoleError for the code of the
// SuperAdmin or Customer role.
func builtIn(code string, deletion bool) error {
	if code == entity.SuperAdminRoleCode || code == entity.CustomerRoleCode {
		return &outcome.CannotModifyRoleError{RoleCode: code, Deletion: deletion}
	}
	return nil
}
