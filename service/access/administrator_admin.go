package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// The Admin API's administrator operations (Vendure's
// administrator.api.graphql), with Vendure's rules:
//   - a caller sees an administrator only if it could grant every role the
//     administrator holds (canSee of each role); one it cannot see is not
//     found, for reading and for every change;
//   - on a channel other than the default one, a caller sees only the
//     administrators holding a role on that channel (Vendure does not scope
//     administrators by channel: here a channel's administrators see that
//     channel's, as with sessions);
//   - a caller grants only roles it can see ("Active user does not have
//     sufficient permissions", outcome.ErrInvalidInput), also through
//     assignRoleToAdministrator, which Vendure does not check;
//   - the sole SuperAdmin (the one live administrator holding the
//     SuperAdmin role) is not deleted and keeps that role;
//   - email addresses (the users' login identifiers) are unique among live
//     administrators, compared without case;
//   - a password change ends every session of the administrator but the
//     caller's own, and the active administrator changes its password or
//     email address only with its current password.
//
// Each change takes the administrators' lock (one writer at a time on
// PostgreSQL; SQLite has one anyway), so two concurrent requests cannot
// both take an email address or both delete one of the last two
// SuperAdmins, and writes its audit entry in its transaction.

// MaxAdministratorListTake is the largest page of administrators, and the
// page a request without take gets.
const MaxAdministratorListTake = 100

// MaxIDs bounds the ids one request names: the roleIds of an
// administrator and the ids of deleteAdministrators, deleteChannels and
// deleteRoles.
const MaxIDs = 100

// administratorLockKey is the PostgreSQL advisory lock every administrator
// change holds until its transaction ends.
const administratorLockKey int64 = 0x61646d696e6973 // "adminis"

// AdministratorListTable is what the administrators list serves: Vendure's
// AdministratorFilterParameter and AdministratorSortParameter fields, with
// their types' operators, in _and and _or groups; id order unless asked.
var AdministratorListTable = listquery.MustTable(listquery.Table{
	Noun: "administrators",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "adm.id", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "adm.created_at", Sort: true},
		{Name: "updatedAt", Type: listquery.Date, Column: "adm.updated_at", Sort: true},
		{Name: "firstName", Type: listquery.String, Column: "adm.first_name", Sort: true},
		{Name: "lastName", Type: listquery.String, Column: "adm.last_name", Sort: true},
		{Name: "emailAddress", Type: listquery.String, Column: "adm.email_address", Sort: true},
	},
	MaxTake:     MaxAdministratorListTake,
	DefaultSort: []listquery.Sort{{Field: "id"}},
	TieBreak:    "adm.id",
	Nested:      true,
})

// AdministratorDetail is an administrator with its user and the user's
// roles, as the Admin API shows it.
type AdministratorDetail struct {
	entity.Administrator
	User *UserDetail
}

// UserDetail is a user with its roles, each with its channels, in id
// order.
type UserDetail struct {
	entity.User
	Roles []*entity.Role
}

// AdministratorChange is Vendure's UpdateAdministratorInput: nil fields
// keep their value; RoleIDs, when not nil, replace the roles.
type AdministratorChange struct {
	ID           entity.ID
	FirstName    *string
	LastName     *string
	EmailAddress *string
	Password     *string
	RoleIDs      []entity.ID
}

// ActiveAdministratorChange is Vendure's UpdateActiveAdministratorInput
// plus CurrentPassword, which a new password or email address needs.
type ActiveAdministratorChange struct {
	FirstName       *string
	LastName        *string
	EmailAddress    *string
	Password        *string
	CurrentPassword *string
}

// ListAdministratorsAs returns a page of the live administrators the
// caller may see, as opts ask (checked against AdministratorListTable; a
// refusal is a *listquery.Error), and how many of them match in all.
func (s *UserService) ListAdministratorsAs(ctx context.Context, by Caller, opts listquery.Options) ([]*AdministratorDetail, int, error) {
	q, err := AdministratorListTable.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	v, err := viewOf(ctx, s.db, by)
	if err != nil {
		return nil, 0, err
	}
	var admins []*entity.Administrator
	n, err := q.Apply(v.where(s.db.NewSelect().Model(&admins))).ScanAndCount(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("list administrators: %w", listquery.QueryError(err))
	}
	out, err := details(ctx, s.db, admins)
	return out, int(n), err
}

// FindAdministratorAs returns a live administrator the caller may see, or
// *outcome.EntityNotFoundError.
func (s *UserService) FindAdministratorAs(ctx context.Context, by Caller, id entity.ID) (*AdministratorDetail, error) {
	adm, err := findVisible(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	return detail(ctx, s.db, adm)
}

// ActiveAdministratorDetail returns the live administrator of a user with
// its user and roles, or outcome.ErrNotFound.
func (s *UserService) ActiveAdministratorDetail(ctx context.Context, userID entity.ID) (*AdministratorDetail, error) {
	adm, err := s.ActiveAdministrator(ctx, userID)
	if err != nil {
		return nil, err
	}
	return detail(ctx, s.db, adm)
}

// CreateAdministratorAs creates an administrator for a caller, with roles
// the caller can see.
func (s *UserService) CreateAdministratorAs(ctx context.Context, by Caller, in NewAdministrator) (*AdministratorDetail, error) {
	email := auth.NormalizeIdentifier(in.EmailAddress)
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	if err := checkPassword(in.Password); err != nil {
		return nil, err
	}
	if err := checkIDs("input.roleIds", len(in.RoleIDs)); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var adm *entity.Administrator
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := lockAdministrators(ctx, t); err != nil {
			return err
		}
		roles, err := grantable(ctx, t, by, in.RoleIDs)
		if err != nil {
			return err
		}
		if err := emailFree(ctx, t, email, 0); err != nil {
			return err
		}
		now := s.now().UTC()
		user, err := CreateUser(ctx, t, now, email, true, &hash, roles)
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
		return audit.Record(ctx, t, now, by.Actor, audit.Entry{
			Action: audit.Created, EntityType: audit.Administrator, EntityID: audit.IDOf(adm.ID),
			Detail: "roleIds: " + joinIDs(roles),
		})
	})
	if err != nil {
		return nil, err
	}
	return detail(ctx, s.db, adm)
}

// UpdateAdministratorAs applies a change to an administrator the caller
// may see (else *outcome.EntityNotFoundError). New roles must be ones the
// caller can see, and the sole SuperAdmin keeps the SuperAdmin role. The
// administrator's sessions see new roles and a new email address on their
// next request; a new password ends all of them but the caller's own.
func (s *UserService) UpdateAdministratorAs(ctx context.Context, by Caller, c AdministratorChange) (*AdministratorDetail, error) {
	c.Password = nonEmpty(c.Password)
	hash, err := s.checkChange(ctx, c)
	if err != nil {
		return nil, err
	}
	var adm *entity.Administrator
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := lockAdministrators(ctx, t); err != nil {
			return err
		}
		if adm, err = findVisible(ctx, t, by, c.ID); err != nil {
			return err
		}
		return s.change(ctx, t, by, adm, c, hash)
	})
	if err != nil {
		return nil, err
	}
	return detail(ctx, s.db, adm)
}

// UpdateActiveAdministratorAs applies a change to the caller's own
// administrator (userID is the caller's user; a user without a live
// administrator is outcome.ErrForbidden). A new password or a different
// email address needs the current password (outcome.ErrInvalidInput
// without it or with a wrong one); a new password ends every other
// session of the administrator and keeps the caller's. An empty password
// is no new password, and the email address it has is no change (the
// Admin UI's profile form sends both with every save).
func (s *UserService) UpdateActiveAdministratorAs(ctx context.Context, by Caller, userID entity.ID, c ActiveAdministratorChange) (*AdministratorDetail, error) {
	c.Password = nonEmpty(c.Password)
	change := AdministratorChange{FirstName: c.FirstName, LastName: c.LastName, EmailAddress: c.EmailAddress, Password: c.Password}
	newEmail := func(adm *entity.Administrator) bool {
		return c.EmailAddress != nil && auth.NormalizeIdentifier(*c.EmailAddress) != auth.NormalizeIdentifier(adm.EmailAddress)
	}
	guarded := c.Password != nil
	if !guarded && c.EmailAddress != nil {
		current := new(entity.Administrator)
		if err := s.db.NewSelect().Model(current).Where("adm.user_id = ? AND adm.deleted_at IS NULL", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, outcome.ErrForbidden
			}
			return nil, fmt.Errorf("find administrator: %w", err)
		}
		guarded = newEmail(current)
	}
	if guarded && c.CurrentPassword == nil {
		return nil, errNoCurrentPassword
	}
	hash, err := s.checkChange(ctx, change)
	if err != nil {
		return nil, err
	}
	var checked string
	if guarded {
		if checked, err = s.checkCurrentPassword(ctx, userID, *c.CurrentPassword); err != nil {
			return nil, err
		}
	}
	var adm *entity.Administrator
	err = session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := lockAdministrators(ctx, t); err != nil {
			return err
		}
		adm = new(entity.Administrator)
		if err := t.NewSelect().Model(adm).Where("adm.user_id = ? AND adm.deleted_at IS NULL", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return outcome.ErrForbidden
			}
			return fmt.Errorf("find administrator: %w", err)
		}
		if !guarded && newEmail(adm) {
			// Its address changed since it was read.
			return errNoCurrentPassword
		}
		if checked != "" {
			// The password checked must still be the one stored: of two
			// changes with the same current password, the second is
			// refused.
			now, err := nativeHash(ctx, t, userID)
			if err != nil {
				return err
			}
			if now != checked {
				return errWrongCurrentPassword
			}
		}
		change.ID = adm.ID
		return s.change(ctx, t, by, adm, change, hash)
	})
	if err != nil {
		return nil, err
	}
	return detail(ctx, s.db, adm)
}

// DeleteAdministratorAs soft-deletes an administrator the caller may see
// (else *outcome.EntityNotFoundError) and ends its sessions; the sole
// SuperAdmin is refused (outcome.ErrInvalidInput).
func (s *UserService) DeleteAdministratorAs(ctx context.Context, by Caller, id entity.ID) error {
	return s.DeleteAdministratorsAs(ctx, by, []entity.ID{id})
}

// DeleteAdministratorsAs deletes administrators as DeleteAdministratorAs
// does, in one transaction: all of them or, at the first refusal, none (as
// Vendure's deleteAdministrators, which runs in one transaction). A
// repeated id is deleted once.
func (s *UserService) DeleteAdministratorsAs(ctx context.Context, by Caller, ids []entity.ID) error {
	if err := checkIDs("ids", len(ids)); err != nil {
		return err
	}
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := lockAdministrators(ctx, t); err != nil {
			return err
		}
		v, err := viewOf(ctx, t, by)
		if err != nil {
			return err
		}
		var done []entity.ID
		for _, id := range ids {
			if slices.Contains(done, id) {
				continue
			}
			adm, err := v.find(ctx, t, id)
			if err != nil {
				return err
			}
			sole, err := soleSuperAdmin(ctx, t, adm.ID)
			if err != nil {
				return err
			}
			if sole {
				return fmt.Errorf("%w: The sole SuperAdmin cannot be deleted", outcome.ErrInvalidInput)
			}
			if err := s.softDelete(ctx, t, adm.UserID); err != nil {
				return err
			}
			if err := audit.Record(ctx, t, s.now(), by.Actor, audit.Entry{
				Action: audit.Deleted, EntityType: audit.Administrator, EntityID: audit.IDOf(adm.ID),
			}); err != nil {
				return err
			}
			done = append(done, id)
		}
		return nil
	})
}

// AssignRoleAs gives an administrator the caller may see one more role,
// one the caller can see; its sessions have it from their next request.
func (s *UserService) AssignRoleAs(ctx context.Context, by Caller, administratorID, roleID entity.ID) (*AdministratorDetail, error) {
	var adm *entity.Administrator
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := lockAdministrators(ctx, t); err != nil {
			return err
		}
		var err error
		if adm, err = findVisible(ctx, t, by, administratorID); err != nil {
			return err
		}
		if _, err := grantable(ctx, t, by, []entity.ID{roleID}); err != nil {
			return err
		}
		if _, err := t.NewInsert().Model(&entity.UserRole{UserID: adm.UserID, RoleID: roleID}).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("assign role: %w", err)
		}
		if err := touch(ctx, t, adm, s.now().UTC()); err != nil {
			return err
		}
		if err := s.sessions.EvictUserOnCommit(ctx, t, adm.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, t, s.now(), by.Actor, audit.Entry{
			Action: audit.Updated, EntityType: audit.Administrator, EntityID: audit.IDOf(adm.ID),
			Detail: "assigned roleId: " + roleID.String(),
		})
	})
	if err != nil {
		return nil, err
	}
	return detail(ctx, s.db, adm)
}

// checkChange checks a change's values before any work and returns the
// hash of its new password ("" without one).
func (s *UserService) checkChange(ctx context.Context, c AdministratorChange) (string, error) {
	if c.EmailAddress != nil {
		if err := checkEmail(auth.NormalizeIdentifier(*c.EmailAddress)); err != nil {
			return "", err
		}
	}
	if c.RoleIDs != nil {
		if err := checkIDs("input.roleIds", len(c.RoleIDs)); err != nil {
			return "", err
		}
	}
	if c.Password == nil {
		return "", nil
	}
	if err := checkPassword(*c.Password); err != nil {
		return "", err
	}
	return s.hasher.Hash(ctx, *c.Password)
}

// change applies c to adm in t (hash is the new password's) and records
// it; the caller's rights over adm have been checked.
func (s *UserService) change(ctx context.Context, t *session.Tx, by Caller, adm *entity.Administrator, c AdministratorChange, hash string) error {
	var (
		fields []string
		roles  []entity.ID
		err    error
	)
	if c.RoleIDs != nil {
		if roles, err = grantable(ctx, t, by, c.RoleIDs); err != nil {
			return err
		}
	}
	now := s.now().UTC()
	if c.FirstName != nil {
		adm.FirstName, fields = *c.FirstName, append(fields, "firstName")
	}
	if c.LastName != nil {
		adm.LastName, fields = *c.LastName, append(fields, "lastName")
	}
	if c.EmailAddress != nil {
		email := auth.NormalizeIdentifier(*c.EmailAddress)
		if err := emailFree(ctx, t, email, adm.ID); err != nil {
			return err
		}
		if err := setIdentifier(ctx, t, adm.UserID, email, now); err != nil {
			return err
		}
		adm.EmailAddress, fields = email, append(fields, "emailAddress")
		// The cached sessions carry the identifier: they are read afresh.
		if err := s.sessions.EvictUserOnCommit(ctx, t, adm.UserID); err != nil {
			return err
		}
	}
	if c.Password != nil {
		if err := setNativePassword(ctx, t, adm.UserID, adm.EmailAddress, hash, now); err != nil {
			return err
		}
		fields = append(fields, "password")
		if err := s.sessions.DeleteByUserExcept(ctx, t, adm.UserID, by.SessionID); err != nil {
			return err
		}
	}
	if c.RoleIDs != nil {
		if err := keepsSuperAdmin(ctx, t, adm.ID, roles); err != nil {
			return err
		}
		if err := s.setRoles(ctx, t, adm.UserID, roles); err != nil {
			return err
		}
	}
	adm.UpdatedAt = now
	if _, err := t.NewUpdate().Model(adm).WherePK().Column("first_name", "last_name", "email_address", "updated_at").Exec(ctx); err != nil {
		return fmt.Errorf("update administrator: %w", err)
	}
	var detail []string
	if len(fields) > 0 {
		detail = append(detail, "fields: "+strings.Join(fields, ", "))
	}
	if c.RoleIDs != nil {
		detail = append(detail, "roleIds: "+joinIDs(roles))
	}
	return audit.Record(ctx, t, now, by.Actor, audit.Entry{
		Action: audit.Updated, EntityType: audit.Administrator, EntityID: audit.IDOf(adm.ID), Detail: strings.Join(detail, "; "),
	})
}

// The refusals of a new password or email address of the active
// administrator without its current password.
var (
	errNoCurrentPassword    = fmt.Errorf("%w: currentPassword is required to change the password or the email address", outcome.ErrInvalidInput)
	errWrongCurrentPassword = fmt.Errorf("%w: currentPassword does not match the password of the active administrator", outcome.ErrInvalidInput)
)

// checkCurrentPassword checks the active administrator's current password
// and returns the stored hash it matched. A wrong one, or a user without a
// password, is outcome.ErrInvalidInput.
func (s *UserService) checkCurrentPassword(ctx context.Context, userID entity.ID, current string) (string, error) {
	if len(current) > password.MaxLength {
		// No stored password is longer: refused without a hash or a read.
		return "", errWrongCurrentPassword
	}
	stored, err := nativeHash(ctx, s.db, userID)
	if err != nil {
		return "", err
	}
	ok, err := s.hasher.Check(ctx, stored, current)
	if err != nil {
		return "", fmt.Errorf("check password: %w", err)
	}
	if !ok || stored == "" {
		return "", errWrongCurrentPassword
	}
	return stored, nil
}

// nativeHash returns a user's native password hash ("" without one).
func nativeHash(ctx context.Context, db bun.IDB, userID entity.ID) (string, error) {
	var hashes []*string
	if err := db.NewSelect().Model((*entity.AuthenticationMethod)(nil)).Column("password_hash").
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Limit(1).Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("find password: %w", err)
	}
	if len(hashes) == 0 || hashes[0] == nil {
		return "", nil
	}
	return *hashes[0], nil
}

// setIdentifier changes a user's login identifier, on the user and its
// native authentication method.
func setIdentifier(ctx context.Context, db bun.IDB, userID entity.ID, identifier string, now time.Time) error {
	if _, err := db.NewUpdate().Model((*entity.User)(nil)).Set("identifier = ?", identifier).Set("updated_at = ?", now).
		Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("update user identifier: %w", err)
	}
	if _, err := db.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).Set("identifier = ?", identifier).Set("updated_at = ?", now).
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Exec(ctx); err != nil {
		return fmt.Errorf("update authentication identifier: %w", err)
	}
	return nil
}

// setNativePassword sets a user's native password hash, creating the
// native authentication method if the user has none.
func setNativePassword(ctx context.Context, db bun.IDB, userID entity.ID, identifier, hash string, now time.Time) error {
	res, err := db.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).Set("password_hash = ?", hash).Set("updated_at = ?", now).
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	method := &entity.AuthenticationMethod{
		CreatedAt: now, UpdatedAt: now, UserID: userID, Type: entity.AuthMethodNative,
		Identifier: &identifier, PasswordHash: &hash,
	}
	if _, err := db.NewInsert().Model(method).Exec(ctx); err != nil {
		return fmt.Errorf("create authentication method: %w", err)
	}
	return nil
}

// touch sets an administrator's updated_at.
func touch(ctx context.Context, db bun.IDB, adm *entity.Administrator, now time.Time) error {
	adm.UpdatedAt = now
	if _, err := db.NewUpdate().Model(adm).WherePK().Column("updated_at").Exec(ctx); err != nil {
		return fmt.Errorf("update administrator: %w", err)
	}
	return nil
}

// lockAdministrators takes the administrators' lock until t ends (on
// PostgreSQL; SQLite has one writer).
func lockAdministrators(ctx context.Context, t *session.Tx) error {
	if t.Dialect().Name() != dialect.PG {
		return nil
	}
	if _, err := t.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", administratorLockKey); err != nil {
		return fmt.Errorf("lock administrators: %w", err)
	}
	return nil
}

// adminView is what of the administrator table (alias adm) a caller may
// see: live administrators, none holding a role the caller cannot see,
// and on a channel other than the default one only those holding a role
// on it.
type adminView struct {
	hidden  []entity.ID
	channel *entity.ID
}

// viewOf reads the roles and the request's channel and returns the
// caller's view.
func viewOf(ctx context.Context, db bun.IDB, by Caller) (adminView, error) {
	var v adminView
	var roles []*entity.Role
	if err := db.NewSelect().Model(&roles).Column("id", "permissions").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("find roles: %w", err)
	}
	var links []entity.RoleChannel
	if err := db.NewSelect().Model(&links).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("find channels of roles: %w", err)
	}
	byID := make(map[entity.ID]*entity.Role, len(roles))
	for _, r := range roles {
		byID[r.ID] = r
	}
	for _, l := range links {
		if r := byID[l.RoleID]; r != nil {
			r.Channels = append(r.Channels, &entity.Channel{ID: l.ChannelID})
		}
	}
	for _, r := range roles {
		if !canSee(by, r) {
			v.hidden = append(v.hidden, r.ID)
		}
	}
	onDefault, err := db.NewSelect().Model((*entity.Channel)(nil)).
		Where("id = ? AND code = ?", by.ChannelID, entity.DefaultChannelCode).Exists(ctx)
	if err != nil {
		return v, fmt.Errorf("find channel: %w", err)
	}
	if !onDefault {
		ch := by.ChannelID
		v.channel = &ch
	}
	return v, nil
}

// where adds the view's conditions to a query of the administrator table.
func (v adminView) where(q *bun.SelectQuery) *bun.SelectQuery {
	q = q.Where("adm.deleted_at IS NULL")
	if len(v.hidden) > 0 {
		q = q.Where("NOT EXISTS (SELECT 1 FROM user_role AS vur WHERE vur.user_id = adm.user_id AND vur.role_id IN (?))", bun.List(v.hidden))
	}
	if v.channel != nil {
		q = q.Where(`EXISTS (SELECT 1 FROM user_role AS cur JOIN role_channel AS crc ON crc.role_id = cur.role_id
WHERE cur.user_id = adm.user_id AND crc.channel_id = ?)`, *v.channel)
	}
	return q
}

// findVisible returns a live administrator the caller may see, or
// *outcome.EntityNotFoundError.
func findVisible(ctx context.Context, db bun.IDB, by Caller, id entity.ID) (*entity.Administrator, error) {
	v, err := viewOf(ctx, db, by)
	if err != nil {
		return nil, err
	}
	return v.find(ctx, db, id)
}

// find returns a live administrator in the view, or
// *outcome.EntityNotFoundError.
func (v adminView) find(ctx context.Context, db bun.IDB, id entity.ID) (*entity.Administrator, error) {
	adm := new(entity.Administrator)
	if err := v.where(db.NewSelect().Model(adm).Where("adm.id = ?", id)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &outcome.EntityNotFoundError{Entity: "Administrator", ID: id.String()}
		}
		return nil, fmt.Errorf("find administrator: %w", err)
	}
	return adm, nil
}

// grantable checks that each id names a role (else
// *outcome.EntityNotFoundError) that the caller can see (else Vendure's
// "Active user does not have sufficient permissions") and returns the ids
// without repeats.
func grantable(ctx context.Context, db bun.IDB, by Caller, ids []entity.ID) ([]entity.ID, error) {
	out := make([]entity.ID, 0, len(ids))
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		role, err := loadRole(ctx, db, id, false)
		if err != nil {
			return nil, err
		}
		if !canSee(by, role) {
			return nil, fmt.Errorf("%w: Active user does not have sufficient permissions", outcome.ErrInvalidInput)
		}
		out = append(out, id)
	}
	return out, nil
}

// superAdmins returns the id of the SuperAdmin role and the live
// administrators holding it.
func superAdmins(ctx context.Context, db bun.IDB) (entity.ID, []entity.ID, error) {
	var roleID entity.ID
	if err := db.NewSelect().Model((*entity.Role)(nil)).Column("id").Where("code = ?", entity.SuperAdminRoleCode).Scan(ctx, &roleID); err != nil {
		return 0, nil, fmt.Errorf("find superadmin role: %w", err)
	}
	var holders []entity.ID
	if err := db.NewSelect().Model((*entity.Administrator)(nil)).Column("adm.id").
		Join("JOIN user_role AS sur ON sur.user_id = adm.user_id").
		Where("sur.role_id = ? AND adm.deleted_at IS NULL", roleID).Scan(ctx, &holders); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("find superadmins: %w", err)
	}
	return roleID, holders, nil
}

// soleSuperAdmin reports whether an administrator is the one live
// administrator holding the SuperAdmin role.
func soleSuperAdmin(ctx context.Context, db bun.IDB, id entity.ID) (bool, error) {
	_, holders, err := superAdmins(ctx, db)
	if err != nil {
		return false, err
	}
	return len(holders) == 1 && holders[0] == id, nil
}

// keepsSuperAdmin refuses roles without the SuperAdmin role for the sole
// SuperAdmin, with Vendure's message.
func keepsSuperAdmin(ctx context.Context, db bun.IDB, id entity.ID, roles []entity.ID) error {
	roleID, holders, err := superAdmins(ctx, db)
	if err != nil {
		return err
	}
	if len(holders) == 1 && holders[0] == id && !slices.Contains(roles, roleID) {
		return fmt.Errorf("%w: Cannot remove the SuperAdmin role from the sole SuperAdmin", outcome.ErrInvalidInput)
	}
	return nil
}

// emailFree refuses an email address another live administrator (than
// except; 0 for none) logs in with, compared without case.
func emailFree(ctx context.Context, db bun.IDB, email string, except entity.ID) error {
	taken, err := db.NewSelect().Model((*entity.Administrator)(nil)).
		Join(`JOIN "user" AS eu ON eu.id = adm.user_id`).
		Where("adm.deleted_at IS NULL AND eu.deleted_at IS NULL AND adm.id <> ?", except).
		Where("LOWER(eu.identifier) = ?", strings.ToLower(email)).Exists(ctx)
	if err != nil {
		return fmt.Errorf("find email address: %w", err)
	}
	if taken {
		return fmt.Errorf("%w: An Administrator with this email address already exists", outcome.ErrInvalidInput)
	}
	return nil
}

// checkEmail refuses an empty email address (normalized).
func checkEmail(email string) error {
	if email == "" {
		return fmt.Errorf("%w: emailAddress must not be empty", outcome.ErrInvalidInput)
	}
	return nil
}

// checkPassword applies the password rules to a new password.
func checkPassword(pw string) error {
	if password.Validate(pw) != nil {
		return fmt.Errorf("%w: Password must be between %d and %d bytes long", outcome.ErrInvalidInput, password.MinLength, password.MaxLength)
	}
	return nil
}

// checkIDs refuses more ids than MaxIDs in one argument.
func checkIDs(arg string, n int) error {
	if n > MaxIDs {
		return fmt.Errorf("%w: %s may name at most %d ids, got %d", outcome.ErrInvalidInput, arg, MaxIDs, n)
	}
	return nil
}

// joinIDs is ids as "3,4", for audit details.
func joinIDs(ids []entity.ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.String()
	}
	return strings.Join(parts, ",")
}

// detail returns one administrator with its user and roles.
func detail(ctx context.Context, db bun.IDB, adm *entity.Administrator) (*AdministratorDetail, error) {
	out, err := details(ctx, db, []*entity.Administrator{adm})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// details returns administrators with their users and the users' roles
// (each with its channels), in a fixed number of queries.
func details(ctx context.Context, db bun.IDB, admins []*entity.Administrator) ([]*AdministratorDetail, error) {
	out := make([]*AdministratorDetail, len(admins))
	if len(admins) == 0 {
		return out, nil
	}
	userIDs := make([]entity.ID, len(admins))
	for i, a := range admins {
		userIDs[i] = a.UserID
	}
	var users []*entity.User
	if err := db.NewSelect().Model(&users).Where("id IN (?)", bun.List(userIDs)).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find users: %w", err)
	}
	var links []entity.UserRole
	if err := db.NewSelect().Model(&links).Where("user_id IN (?)", bun.List(userIDs)).Order("user_id", "role_id").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find roles of users: %w", err)
	}
	roles, err := rolesWithChannels(ctx, db, links)
	if err != nil {
		return nil, err
	}
	byUser := make(map[entity.ID]*UserDetail, len(users))
	for _, u := range users {
		byUser[u.ID] = &UserDetail{User: *u, Roles: []*entity.Role{}}
	}
	for _, l := range links {
		if u, r := byUser[l.UserID], roles[l.RoleID]; u != nil && r != nil {
			u.Roles = append(u.Roles, r)
		}
	}
	for i, a := range admins {
		u := byUser[a.UserID]
		if u == nil {
			return nil, fmt.Errorf("find user %s of administrator %s: %w", a.UserID, a.ID, sql.ErrNoRows)
		}
		out[i] = &AdministratorDetail{Administrator: *a, User: u}
	}
	return out, nil
}

// rolesWithChannels reads the roles the links name, each with its
// channels, by id.
func rolesWithChannels(ctx context.Context, db bun.IDB, links []entity.UserRole) (map[entity.ID]*entity.Role, error) {
	out := map[entity.ID]*entity.Role{}
	if len(links) == 0 {
		return out, nil
	}
	var ids []entity.ID
	for _, l := range links {
		if !slices.Contains(ids, l.RoleID) {
			ids = append(ids, l.RoleID)
		}
	}
	var roles []*entity.Role
	if err := db.NewSelect().Model(&roles).Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find roles: %w", err)
	}
	var rcs []entity.RoleChannel
	if err := db.NewSelect().Model(&rcs).Where("role_id IN (?)", bun.List(ids)).Order("role_id", "channel_id").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find channels of roles: %w", err)
	}
	var channels []*entity.Channel
	if len(rcs) > 0 {
		chIDs := make([]entity.ID, 0, len(rcs))
		for _, rc := range rcs {
			if !slices.Contains(chIDs, rc.ChannelID) {
				chIDs = append(chIDs, rc.ChannelID)
			}
		}
		if err := db.NewSelect().Model(&channels).Where("ch.id IN (?)", bun.List(chIDs)).Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find channels: %w", err)
		}
	}
	chByID := make(map[entity.ID]*entity.Channel, len(channels))
	for _, ch := range channels {
		chByID[ch.ID] = ch
	}
	for _, r := range roles {
		r.Channels = []*entity.Channel{}
		out[r.ID] = r
	}
	for _, rc := range rcs {
		if r, ch := out[rc.RoleID], chByID[rc.ChannelID]; r != nil && ch != nil {
			r.Channels = append(r.Channels, ch)
		}
	}
	return out, nil
}

// nonEmpty is p, or nil when it is empty: Vendure changes a password only
// when the input's is not empty.
func nonEmpty(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}
