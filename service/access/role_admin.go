package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// The Admin API's role operations, with Vendure's rules against escalation:
//   - a caller sees a role only if it holds every permission of the role
//     on every channel of the role; a role it cannot see is not found;
//   - a role is put on a channel only by a caller that holds
//     CreateAdministrator there (else outcome.ErrForbidden);
//   - a caller grants only permissions it holds itself, on every channel
//     the role is on (else "Active user does not have sufficient
//     permissions", outcome.ErrInvalidInput);
//   - SuperAdmin, Owner and Public are not assignable, and the SuperAdmin
//     and Customer roles cannot be changed or deleted.
//
// Vendure checks the granted permissions when the permissions change only;
// here a change of the role's channels is checked too, so a role cannot
// carry permissions to a channel where its editor lacks them.

// FindAs returns a role with its channels if the caller may see it,
// otherwise, or if there is none, outcome.ErrNotFound.
func (s *RoleService) FindAs(ctx context.Context, by Caller, id entity.ID) (*entity.Role, error) {
	role, err := loadRole(ctx, s.db, id, false)
	if err != nil {
		return nil, err
	}
	if !canSee(by, role) {
		return nil, outcome.ErrNotFound
	}
	return role, nil
}

// CreateAs creates a role for a caller: on the channels in.ChannelIDs
// names, or on the caller's channel when it is nil (an empty list is no
// channel). It returns the role with its channels.
func (s *RoleService) CreateAs(ctx context.Context, by Caller, in NewRole) (*entity.Role, error) {
	if err := assignable(in.Permissions); err != nil {
		return nil, err
	}
	perms, err := rolePermissions(in.Permissions)
	if err != nil {
		return nil, err
	}
	var id entity.ID
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		ids := in.ChannelIDs
		if ids == nil {
			ids = []entity.ID{by.ChannelID}
		}
		targets, err := permittedChannels(ctx, t, by, ids)
		if err != nil {
			return err
		}
		if err := sufficient(by, targets, perms); err != nil {
			return err
		}
		in.ChannelIDs = targets
		role, err := createRole(ctx, t, s.now().UTC(), in)
		if err != nil {
			return err
		}
		id = role.ID
		if err := s.record(ctx, t, by, audit.Created, id, roleDetail(role.Code, role.Permissions, targets)); err != nil {
			return err
		}
		return s.changedOnCommit(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return loadRole(ctx, s.db, id, false)
}

// RoleChange is a change to a role, as Vendure's UpdateRoleInput: nil
// fields keep their value.
type RoleChange struct {
	ID          entity.ID
	Code        *string
	Description *string
	// Permissions replace the role's (Authenticated is always kept).
	Permissions []auth.Permission
	// ChannelIDs replace the role's channels.
	ChannelIDs []entity.ID
}

// UpdateAs applies a change to a role for a caller, and returns the role
// with its channels.
func (s *RoleService) UpdateAs(ctx context.Context, by Caller, c RoleChange) (*entity.Role, error) {
	if c.Permissions != nil {
		if err := assignable(c.Permissions); err != nil {
			return nil, err
		}
	}
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		role, err := loadRole(ctx, t, c.ID, true)
		if err != nil {
			return err
		}
		if !canSee(by, role) {
			return roleNotFound(c.ID)
		}
		if err := builtIn(role.Code, false); err != nil {
			return err
		}
		channels := channelIDs(role.Channels)
		if c.ChannelIDs != nil {
			if channels, err = permittedChannels(ctx, t, by, c.ChannelIDs); err != nil {
				return err
			}
		}
		perms := role.Permissions
		if c.Permissions != nil {
			if perms, err = rolePermissions(c.Permissions); err != nil {
				return err
			}
		}
		if c.Permissions != nil || c.ChannelIDs != nil {
			if err := sufficient(by, channels, perms); err != nil {
				return err
			}
		}
		set(&role.Code, c.Code)
		set(&role.Description, c.Description)
		role.Permissions = perms
		role.UpdatedAt = s.now().UTC()
		if _, err := t.NewUpdate().Model(role).WherePK().Column("code", "description", "permissions", "updated_at").Exec(ctx); err != nil {
			if database.IsUniqueViolation(err) {
				return duplicateRole(role.Code)
			}
			return fmt.Errorf("update role: %w", err)
		}
		if c.ChannelIDs != nil {
			if err := setRoleChannels(ctx, t, role.ID, channels); err != nil {
				return err
			}
		}
		var detail []string
		if c.Code != nil {
			detail = append(detail, "code: "+role.Code)
		}
		if c.Description != nil {
			detail = append(detail, "description")
		}
		if c.Permissions != nil {
			detail = append(detail, "permissions: "+strings.Join(role.Permissions, ","))
		}
		if c.ChannelIDs != nil {
			detail = append(detail, "channelIds: "+joinIDs(channels))
		}
		if err := s.record(ctx, t, by, audit.Updated, role.ID, strings.Join(detail, "; ")); err != nil {
			return err
		}
		return s.changedOnCommit(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return loadRole(ctx, s.db, c.ID, false)
}

// DeleteAs deletes a role the caller may see (else
// *outcome.EntityNotFoundError); the SuperAdmin and Customer roles are
// refused (*outcome.CannotModifyRoleError).
func (s *RoleService) DeleteAs(ctx context.Context, by Caller, id entity.ID) error {
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		return s.deleteAs(ctx, t, by, id)
	})
}

// DeleteManyAs deletes roles as DeleteAs does, in one transaction (as
// Vendure's deleteRoles): every one or, at the first refusal, none. A
// repeated id is deleted once.
func (s *RoleService) DeleteManyAs(ctx context.Context, by Caller, ids []entity.ID) ([]error, error) {
	return deleteMany(ctx, s.db, ids, func(ctx context.Context, t *session.Tx, id entity.ID) error {
		return s.deleteAs(ctx, t, by, id)
	}, nil)
}

// deleteAs deletes a role for a caller in t.
func (s *RoleService) deleteAs(ctx context.Context, t *session.Tx, by Caller, id entity.ID) error {
	role, err := loadRole(ctx, t, id, true)
	if err != nil {
		return err
	}
	if !canSee(by, role) {
		return roleNotFound(id)
	}
	if err := builtIn(role.Code, true); err != nil {
		return err
	}
	if err := s.record(ctx, t, by, audit.Deleted, id, "code: "+role.Code); err != nil {
		return err
	}
	return s.deleteRole(ctx, t, id)
}

// canSee reports whether the caller holds every permission of the role on
// every channel of the role.
func canSee(by Caller, role *entity.Role) bool {
	perms := asPermissions(role.Permissions)
	for _, ch := range role.Channels {
		if !by.holdsAll(ch.ID, perms) {
			return false
		}
	}
	return true
}

// sufficient refuses permissions the caller does not hold on every one of
// the channels.
func sufficient(by Caller, channels []entity.ID, perms entity.StringList) error {
	list := asPermissions(perms)
	for _, ch := range channels {
		if !by.holdsAll(ch, list) {
			return fmt.Errorf("%w: Active user does not have sufficient permissions", outcome.ErrInvalidInput)
		}
	}
	return nil
}

// assignable refuses what no administrator may grant: SuperAdmin, Owner,
// Public and unknown names.
func assignable(perms []auth.Permission) error {
	for _, p := range perms {
		if p == auth.SuperAdmin || p == auth.Owner || p == auth.Public || !p.IsValid() {
			return notAssignable(p)
		}
	}
	return nil
}

// permittedChannels checks, in Vendure's order, that each id names a
// channel (else *outcome.EntityNotFoundError) on which the caller holds
// CreateAdministrator (else outcome.ErrForbidden), and returns the ids
// without repeats.
func permittedChannels(ctx context.Context, db bun.IDB, by Caller, ids []entity.ID) ([]entity.ID, error) {
	out := make([]entity.ID, 0, len(ids))
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		n, err := db.NewSelect().Model((*entity.Channel)(nil)).Where("id = ?", id).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("find channel: %w", err)
		}
		if n == 0 {
			return nil, &outcome.EntityNotFoundError{Entity: "Channel", ID: id.String()}
		}
		if !by.holdsAny(id, permCreateAdministrator) {
			return nil, outcome.ErrForbidden
		}
		out = append(out, id)
	}
	return out, nil
}

// setRoleChannels replaces a role's channels, in t.
func setRoleChannels(ctx context.Context, t *session.Tx, roleID entity.ID, channels []entity.ID) error {
	if _, err := t.NewDelete().Model((*entity.RoleChannel)(nil)).Where("role_id = ?", roleID).Exec(ctx); err != nil {
		return fmt.Errorf("detach role from channels: %w", err)
	}
	for _, ch := range channels {
		if _, err := t.NewInsert().Model(&entity.RoleChannel{RoleID: roleID, ChannelID: ch}).Exec(ctx); err != nil {
			return fmt.Errorf("attach role to channel: %w", err)
		}
	}
	return nil
}

// loadRole reads a role with its channels (by id), locking its row until
// the transaction db is ends when lock is set (PostgreSQL; SQLite has one
// writer), or *outcome.EntityNotFoundError.
func loadRole(ctx context.Context, db bun.IDB, id entity.ID, lock bool) (*entity.Role, error) {
	role := new(entity.Role)
	q := db.NewSelect().Model(role).Where("id = ?", id)
	if lock && db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, roleNotFound(id)
		}
		return nil, fmt.Errorf("find role: %w", err)
	}
	if err := db.NewSelect().Model(&role.Channels).
		Where("ch.id IN (SELECT channel_id FROM role_channel WHERE role_id = ?)", id).
		OrderExpr("ch.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find channels of role: %w", err)
	}
	return role, nil
}

func roleNotFound(id entity.ID) error {
	return &outcome.EntityNotFoundError{Entity: "Role", ID: id.String()}
}

// asPermissions returns a role's stored permission list as permissions.
func asPermissions(l entity.StringList) []auth.Permission {
	out := make([]auth.Permission, len(l))
	for i, p := range l {
		out[i] = auth.Permission(p)
	}
	return out
}

// channelIDs returns the ids of channels.
func channelIDs(channels []*entity.Channel) []entity.ID {
	out := make([]entity.ID, len(channels))
	for i, ch := range channels {
		out[i] = ch.ID
	}
	return out
}

// record writes the audit entry of a caller's change to a role, in t.
func (s *RoleService) record(ctx context.Context, t *session.Tx, by Caller, action audit.Action, id entity.ID, detail string) error {
	return audit.Record(ctx, t, s.now(), by.Actor, audit.Entry{
		Action: action, EntityType: audit.Role, EntityID: audit.IDOf(id), Detail: detail,
	})
}

// roleDetail is a created role's audit detail: its code, permissions and
// channels.
func roleDetail(code string, perms entity.StringList, channels []entity.ID) string {
	return "code: " + code + "; permissions: " + strings.Join(perms, ",") + "; channelIds: " + joinIDs(channels)
}
