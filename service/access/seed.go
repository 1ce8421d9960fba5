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
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// SeedConfig is what the first start needs.
type SeedConfig struct {
	DefaultChannelToken  string // empty: random on creation, kept afterwards
	SuperadminIdentifier string
	SuperadminPassword   string
}

// Seed makes sure, in t, that the default channel (with its default
// zone), the SuperAdmin and Customer roles and the superadmin administrator
// exist, and returns the default channel. It is idempotent: on later starts
// it only brings the SuperAdmin role up to every assignable permission and
// on every channel, and the default channel's token in line with a
// configured one. Package seed runs it with the catalogue's samples.
func Seed(ctx context.Context, t *session.Tx, hasher password.Hasher, now time.Time, cfg SeedConfig) (*entity.Channel, error) {
	ch, err := ensureDefaultChannel(ctx, t, now, cfg.DefaultChannelToken)
	if err != nil {
		return nil, err
	}
	if err := ensureDefaultZone(ctx, t, now, ch); err != nil {
		return nil, err
	}
	superRole, err := ensureRole(ctx, t, now, entity.SuperAdminRoleCode, "SuperAdmin", auth.Assignable(), true)
	if err != nil {
		return nil, err
	}
	custRole, err := ensureRole(ctx, t, now, entity.CustomerRoleCode, "Customer", []auth.Permission{auth.Authenticated}, false)
	if err != nil {
		return nil, err
	}
	// The SuperAdmin role is on every channel; the Customer role at least on the default one.
	if _, err := t.NewRaw(`INSERT INTO role_channel (role_id, channel_id) SELECT ?, id FROM channel WHERE true ON CONFLICT DO NOTHING`, superRole.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("attach superadmin role: %w", err)
	}
	if _, err := t.NewInsert().Model(&entity.RoleChannel{RoleID: custRole.ID, ChannelID: ch.ID}).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("attach customer role: %w", err)
	}
	return ch, ensureSuperadmin(ctx, t, now, hasher, cfg, superRole.ID)
}

func ensureDefaultChannel(ctx context.Context, db bun.IDB, now time.Time, token string) (*entity.Channel, error) {
	ch := new(entity.Channel)
	err := db.NewSelect().Model(ch).Where("code = ?", entity.DefaultChannelCode).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return createChannel(ctx, db, now, NewChannel{Code: entity.DefaultChannelCode, Token: token})
	}
	if err != nil {
		return nil, fmt.Errorf("find default channel: %w", err)
	}
	if token != "" && ch.Token != token {
		ch.Token, ch.UpdatedAt = token, now
		if _, err := db.NewUpdate().Model(ch).Column("token", "updated_at").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update default channel token: %w", err)
		}
	}
	return ch, nil
}

func ensureRole(ctx context.Context, db bun.IDB, now time.Time, code, description string, perms []auth.Permission, syncPerms bool) (*entity.Role, error) {
	role := new(entity.Role)
	err := db.NewSelect().Model(role).Where("code = ?", code).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return createRole(ctx, db, now, NewRole{Code: code, Description: description, Permissions: perms})
	}
	if err != nil {
		return nil, fmt.Errorf("find role %s: %w", code, err)
	}
	if syncPerms {
		list, err := rolePermissions(perms)
		if err != nil {
			return nil, err
		}
		if _, err := db.NewUpdate().Model(role).Set("permissions = ?", list).WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update role %s: %w", code, err)
		}
	}
	return role, nil
}

func ensureSuperadmin(ctx context.Context, t *session.Tx, now time.Time, hasher password.Hasher, cfg SeedConfig, roleID entity.ID) error {
	identifier := auth.NormalizeIdentifier(cfg.SuperadminIdentifier)
	n, err := t.NewSelect().TableExpr(`"user" AS u`).
		Join("JOIN administrator AS adm ON adm.user_id = u.id").
		Where("u.identifier = ? AND u.deleted_at IS NULL", identifier).Count(ctx)
	if err != nil {
		return fmt.Errorf("find superadmin: %w", err)
	}
	if n > 0 {
		return nil
	}
	hash, err := hasher.Hash(ctx, cfg.SuperadminPassword)
	if err != nil {
		return fmt.Errorf("superadmin password: %w", err)
	}
	user, err := CreateUser(ctx, t, now, identifier, true, &hash, []entity.ID{roleID})
	if err != nil {
		return err
	}
	adm := &entity.Administrator{
		CreatedAt: now, UpdatedAt: now, FirstName: "Super", LastName: "Admin",
		EmailAddress: identifier, UserID: user.ID,
	}
	if _, err := t.NewInsert().Model(adm).Exec(ctx); err != nil {
		return fmt.Errorf("create superadmin: %w", err)
	}
	return nil
}

// SuperadminPasswordIs reports whether the superadmin Seed creates (the
// administrator of identifier) logs in with pw: its native password hash
// checks against it. It is false when that administrator, or its
// password, is gone. The server uses it at start to refuse production
// with the default password.
func SuperadminPasswordIs(ctx context.Context, db bun.IDB, hasher password.Hasher, identifier, pw string) (bool, error) {
	var rows []struct {
		PasswordHash *string `bun:"password_hash"`
	}
	err := db.NewRaw(`SELECT am.password_hash
FROM "user" AS u
JOIN administrator AS adm ON adm.user_id = u.id AND adm.deleted_at IS NULL
JOIN authentication_method AS am ON am.user_id = u.id AND am.type = ?
WHERE u.identifier = ? AND u.deleted_at IS NULL
LIMIT 1`, entity.AuthMethodNative, auth.NormalizeIdentifier(identifier)).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("find the superadmin's password: %w", err)
	}
	if len(rows) == 0 || rows[0].PasswordHash == nil || *rows[0].PasswordHash == "" {
		return false, nil
	}
	ok, err := hasher.Check(ctx, *rows[0].PasswordHash, pw)
	if err != nil {
		return false, fmt.Errorf("check the superadmin's password: %w", err)
	}
	return ok, nil
}
