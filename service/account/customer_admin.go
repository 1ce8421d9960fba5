package account

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
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// The Admin API's customer administration (Vendure's CustomerService
// create, update, softDelete and the customers list), and the erasure of
// a customer's personal data. Each ...As method acts for an
// access.Caller, whose permission @allow has checked:
//   - channel scoping (access.ChannelScope): on the default channel every
//     customer, on another only that channel's (customer_channel); a
//     customer out of scope is not found;
//   - an e-mail address is another customer's when a live registered
//     customer has it anywhere (the unique index), or any live customer,
//     guest or registered, on the request's channel (Vendure's check):
//     *outcome.EmailAddressConflictError;
//   - every change writes its audit entry in its transaction, naming the
//     fields changed, never their values;
//   - a customer's sessions hear of a change through the session owner:
//     a new e-mail address (the login identifier the cached sessions
//     carry) evicts them, a deletion or an erasure ends them.

// MaxCustomerListTake is the largest page of customers, and the page a
// request without take gets; deleteCustomers takes at most as many ids.
const MaxCustomerListTake = 100

// CustomerListTable is what the customers list serves: Vendure's fields
// (but postalCode: there are no addresses) with the operators of their
// type, in _and and _or groups, sorted by any of them, in id order unless
// asked.
var CustomerListTable = listquery.MustTable(listquery.Table{
	Noun: "customers",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "cu.id", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "cu.created_at", Sort: true},
		{Name: "updatedAt", Type: listquery.Date, Column: "cu.updated_at", Sort: true},
		{Name: "title", Type: listquery.String, Column: "cu.title", Sort: true},
		{Name: "firstName", Type: listquery.String, Column: "cu.first_name", Sort: true},
		{Name: "lastName", Type: listquery.String, Column: "cu.last_name", Sort: true},
		{Name: "phoneNumber", Type: listquery.String, Column: "cu.phone_number", Sort: true},
		{Name: "emailAddress", Type: listquery.String, Column: "cu.email_address", Sort: true},
	},
	MaxTake:     MaxCustomerListTake,
	DefaultSort: []listquery.Sort{{Field: "id"}},
	TieBreak:    "cu.id",
	Nested:      true,
})

// ListCustomersAs returns a page of the live customers in the caller's
// scope, guests included, as opts ask (a refusal is a *listquery.Error),
// and how many match in all.
func (s *Service) ListCustomersAs(ctx context.Context, by access.Caller, opts listquery.Options) ([]*entity.Customer, int, error) {
	q, err := CustomerListTable.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	var rows []*entity.Customer
	sel := s.db.NewSelect().Model(&rows).Where("cu.deleted_at IS NULL")
	sel = entity.ChannelScope(sel.QueryBuilder(), by.ChannelID, access.CustomerOnChannel).Unwrap().(*bun.SelectQuery)
	n, err := q.Apply(sel).ScanAndCount(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("list customers: %w", listquery.QueryError(err))
	}
	return rows, int(n), nil
}

// FindCustomerAs returns a live customer in the caller's scope, else
// *outcome.EntityNotFoundError.
func (s *Service) FindCustomerAs(ctx context.Context, by access.Caller, id entity.ID) (*entity.Customer, error) {
	return findScoped(ctx, s.db, by, id, true, false)
}

// NewCustomerInput is createCustomer's input.
type NewCustomerInput struct {
	Title, FirstName, LastName, PhoneNumber, EmailAddress string
	// Password is "" for none.
	Password string
}

// CreateCustomerAs creates a customer with a user on the caller's
// channel, as Vendure's CustomerService.create: with a password the user
// is verified and logs in at once; without one it is unverified and gets
// a verification token, as a registration does (verified at once when
// the server does not require verification). A guest customer with the
// address on another channel stays a customer of its own: Vendure makes it
// the new customer and puts it on the caller's channel, which would hand
// its data and orders to an administrator of a channel it never shopped
// on.
func (s *Service) CreateCustomerAs(ctx context.Context, by access.Caller, in NewCustomerInput) (*entity.Customer, error) {
	email := auth.NormalizeIdentifier(in.EmailAddress)
	if err := CheckFields([]Field{
		{"emailAddress", email}, {"title", in.Title}, {"firstName", in.FirstName}, {"lastName", in.LastName}, {"phoneNumber", in.PhoneNumber},
	}); err != nil {
		return nil, err
	}
	var hash *string
	if in.Password != "" {
		if password.Validate(in.Password) != nil {
			return nil, fmt.Errorf("%w: password must be between %d and %d bytes long", outcome.ErrInvalidInput, password.MinLength, password.MaxLength)
		}
		h, err := s.hasher.Hash(ctx, in.Password)
		if err != nil {
			return nil, err
		}
		hash = &h
	}
	verified := hash != nil || !s.requireVerification
	var id entity.ID
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := emailTaken(ctx, t, by, email, 0, true); err != nil {
			return err
		}
		now := s.now().UTC()
		var roleID entity.ID
		if err := t.NewSelect().Model((*entity.Role)(nil)).Column("id").Where("code = ?", entity.CustomerRoleCode).Scan(ctx, &roleID); err != nil {
			return fmt.Errorf("find customer role: %w", err)
		}
		user, err := access.CreateUser(ctx, t, now, email, verified, hash, []entity.ID{roleID})
		if err != nil {
			return err
		}
		uid := user.ID
		c := &entity.Customer{
			CreatedAt: now, UpdatedAt: now, Title: optional(in.Title), FirstName: in.FirstName, LastName: in.LastName,
			PhoneNumber: optional(in.PhoneNumber), EmailAddress: email, UserID: &uid,
		}
		if _, err := t.NewInsert().Model(c).Exec(ctx); err != nil {
			return fmt.Errorf("create customer: %w", err)
		}
		id = c.ID
		if err := access.AddCustomerToChannel(ctx, t, id, by.ChannelID); err != nil {
			return err
		}
		if !verified {
			acct := &account{UserID: user.ID, Identifier: email}
			if err := s.issueToken(ctx, t, acct, entity.TokenVerification, pendingPassword{set: true}); err != nil {
				return err
			}
		}
		detail := "without a password"
		if hash != nil {
			detail = "with a password"
		}
		return audit.Record(ctx, t, now, by.Actor, audit.Entry{Action: audit.Created, EntityType: audit.Customer, EntityID: audit.IDOf(id), Detail: detail})
	})
	if database.IsUniqueViolation(err) {
		// A concurrent creation or registration of the address committed
		// first.
		return nil, &outcome.EmailAddressConflictError{}
	}
	if err != nil {
		return nil, err
	}
	return findScoped(ctx, s.db, by, id, true, false)
}

// CustomerChange is updateCustomer's input: nil fields keep their value.
type CustomerChange struct {
	ID                                                    entity.ID
	Title, FirstName, LastName, PhoneNumber, EmailAddress *string
}

// UpdateCustomerAs changes a live customer in the caller's scope (else
// *outcome.EntityNotFoundError) and returns it. A new e-mail address
// becomes its user's identifier (and its native login's), the user's
// cached sessions are evicted when the change commits, so their next
// request, on any instance, reads the new identifier, and the previous
// address of a registered customer gets the email-address-changed notice
// (Notifier).
func (s *Service) UpdateCustomerAs(ctx context.Context, by access.Caller, c CustomerChange) (*entity.Customer, error) {
	if c.EmailAddress != nil {
		email := auth.NormalizeIdentifier(*c.EmailAddress)
		c.EmailAddress = &email
	}
	type column struct {
		field, name string
		value       *string
	}
	columns := []column{
		{"title", "title", c.Title}, {"firstName", "first_name", c.FirstName}, {"lastName", "last_name", c.LastName},
		{"phoneNumber", "phone_number", c.PhoneNumber}, {"emailAddress", "email_address", c.EmailAddress},
	}
	var fields []Field
	for _, col := range columns {
		if col.value != nil {
			fields = append(fields, Field{col.field, *col.value})
		}
	}
	if err := CheckFields(fields); err != nil {
		return nil, err
	}
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		cust, err := findScoped(ctx, t, by, c.ID, true, true)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if c.EmailAddress != nil && *c.EmailAddress != cust.EmailAddress {
			if err := emailTaken(ctx, t, by, *c.EmailAddress, cust.ID, cust.UserID != nil); err != nil {
				return err
			}
			if cust.UserID != nil {
				if err := s.changeIdentifier(ctx, t, now, *cust.UserID, *c.EmailAddress); err != nil {
					return err
				}
				if err := s.notifyEmailChanged(ctx, t, now, *cust.UserID, cust.EmailAddress, *c.EmailAddress); err != nil {
					return err
				}
			}
		}
		q := t.NewUpdate().Model((*entity.Customer)(nil)).Set("updated_at = ?", now).Where("id = ?", cust.ID)
		var changed []string
		for _, col := range columns {
			if col.value != nil {
				q = q.Set("? = ?", bun.Ident(col.name), *col.value)
				changed = append(changed, col.field)
			}
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("update customer: %w", err)
		}
		return audit.Record(ctx, t, now, by.Actor, audit.Entry{
			Action: audit.Updated, EntityType: audit.Customer, EntityID: audit.IDOf(cust.ID),
			Detail: "fields: " + strings.Join(changed, ", "),
		})
	})
	if database.IsUniqueViolation(err) {
		return nil, &outcome.EmailAddressConflictError{}
	}
	if err != nil {
		return nil, err
	}
	return findScoped(ctx, s.db, by, c.ID, true, false)
}

// changeIdentifier gives a user, and its native login, a new identifier
// (Vendure's changeUserAndNativeIdentifier), and evicts the user's cached
// sessions when t commits: each carries the identifier, and is read
// afresh from its row on its next request.
func (s *Service) changeIdentifier(ctx context.Context, t *session.Tx, now time.Time, userID entity.ID, identifier string) error {
	if _, err := t.NewUpdate().Model((*entity.User)(nil)).Set("identifier = ?", identifier).Set("updated_at = ?", now).
		Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("change identifier: %w", err)
	}
	if _, err := t.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).Set("identifier = ?", identifier).Set("updated_at = ?", now).
		Where("user_id = ? AND type = ?", userID, entity.AuthMethodNative).Exec(ctx); err != nil {
		return fmt.Errorf("change login identifier: %w", err)
	}
	return s.auth.sessions.EvictUserOnCommit(ctx, t, userID)
}

// notifyEmailChanged queues, in t, the notice that an account's e-mail
// address changed to its previous address: the owner learns of it from the
// mailbox that no longer reaches the account, the one an attacker who
// took the account cannot read. A change of case alone (the same mailbox)
// sends nothing.
func (s *Service) notifyEmailChanged(ctx context.Context, t *session.Tx, now time.Time, userID entity.ID, previous, next string) error {
	if previous == "" || strings.EqualFold(previous, next) {
		return nil
	}
	if err := s.notifier.Notify(ctx, t, newMessage(now, notify.EmailAddressChanged, previous, userID)); err != nil {
		return fmt.Errorf("queue email-address-changed message: %w", err)
	}
	return nil
}

// DeleteCustomersAs soft-deletes live customers in the caller's scope, all
// or none (an id out of scope is *outcome.EntityNotFoundError and deletes
// nothing): each customer and its user get deleted_at, the user's tokens
// go, and its sessions end through the session owner, so its token is
// refused from the next request on and it cannot log in. An id given
// twice is deleted once. At most MaxCustomerListTake ids.
func (s *Service) DeleteCustomersAs(ctx context.Context, by access.Caller, ids []entity.ID) error {
	if len(ids) > MaxCustomerListTake {
		return fmt.Errorf("%w: at most %d customers can be deleted at once", outcome.ErrInvalidInput, MaxCustomerListTake)
	}
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		now := s.now().UTC()
		for i, id := range ids {
			if slices.Contains(ids[:i], id) {
				continue // deleted above
			}
			cust, err := findScoped(ctx, t, by, id, true, true)
			if err != nil {
				return err
			}
			if err := s.softDelete(ctx, t, now, cust); err != nil {
				return err
			}
			if err := audit.Record(ctx, t, now, by.Actor, audit.Entry{Action: audit.Deleted, EntityType: audit.Customer, EntityID: audit.IDOf(id)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// softDelete marks a customer deleted and, when it has a live user, the
// user (access.SoftDeleteUser: its tokens removed, its sessions ended), in
// t.
func (s *Service) softDelete(ctx context.Context, t *session.Tx, now time.Time, cust *entity.Customer) error {
	if _, err := t.NewUpdate().Model((*entity.Customer)(nil)).Set("deleted_at = ?", now).Set("updated_at = ?", now).
		Where("id = ? AND deleted_at IS NULL", cust.ID).Exec(ctx); err != nil {
		return fmt.Errorf("delete customer: %w", err)
	}
	if cust.UserID == nil {
		return nil
	}
	err := access.SoftDeleteUser(ctx, t, s.auth.sessions, now, *cust.UserID)
	if errors.Is(err, outcome.ErrNotFound) {
		return nil // deleted before (an erasure of a deleted customer)
	}
	return err
}

// EraseCustomerAs erases a customer in the caller's scope, live or
// deleted before (else *outcome.EntityNotFoundError): it is deleted as
// DeleteCustomersAs does, and its personal data is overwritten: names and
// phone number emptied, the e-mail address and the user's identifier
// replaced by placeholders that name no one ("erased-<id>@invalid"), the
// user's authentication methods (and password hash) and tokens removed.
// The guest customers of the orders linked to its account (guest
// checkouts with its address, order.account_customer_id) are erased the
// same way. Orders stay, holding no personal data of their own. The audit
// entry says how many customers were erased.
func (s *Service) EraseCustomerAs(ctx context.Context, by access.Caller, id entity.ID) error {
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		cust, err := findScoped(ctx, t, by, id, false, true)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := s.softDelete(ctx, t, now, cust); err != nil {
			return err
		}
		ids := []entity.ID{cust.ID}
		var guests []entity.ID
		if err := t.NewSelect().Model((*entity.Customer)(nil)).Column("id").
			Where(`user_id IS NULL AND id IN (SELECT customer_id FROM "order" WHERE account_customer_id = ?)`, cust.ID).
			Scan(ctx, &guests); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find linked guest customers: %w", err)
		}
		ids = append(ids, guests...)
		for _, cid := range ids {
			if _, err := t.NewUpdate().Model((*entity.Customer)(nil)).
				Set("title = NULL").Set("first_name = ''").Set("last_name = ''").Set("phone_number = NULL").
				Set("email_address = ?", erasedAddress("customer", cid)).
				Set("deleted_at = COALESCE(deleted_at, ?)", now).Set("updated_at = ?", now).
				Where("id = ?", cid).Exec(ctx); err != nil {
				return fmt.Errorf("erase customer: %w", err)
			}
		}
		if cust.UserID != nil {
			uid := *cust.UserID
			if _, err := t.NewUpdate().Model((*entity.User)(nil)).Set("identifier = ?", erasedAddress("user", uid)).
				Set("last_login = NULL").Set("updated_at = ?", now).Where("id = ?", uid).Exec(ctx); err != nil {
				return fmt.Errorf("erase user: %w", err)
			}
			if _, err := t.NewDelete().Model((*entity.AuthenticationMethod)(nil)).Where("user_id = ?", uid).Exec(ctx); err != nil {
				return fmt.Errorf("erase authentication methods: %w", err)
			}
		}
		return audit.Record(ctx, t, now, by.Actor, audit.Entry{
			Action: audit.Erased, EntityType: audit.Customer, EntityID: audit.IDOf(cust.ID),
			Detail: fmt.Sprintf("personal data of %d customers erased", len(ids)),
		})
	})
}

// optional is a nullable column's value: NULL for "" (not given).
func optional(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// erasedAddress is the placeholder an erased e-mail address or identifier
// becomes: unique per row (of kind) and in the reserved .invalid domain,
// so it names no one and reaches no mailbox.
func erasedAddress(kind string, id entity.ID) string {
	return fmt.Sprintf("erased-%s-%s@invalid", kind, id)
}

// findScoped reads a customer (live only when live is set) in the
// caller's scope, locking its row until t ends when lock is set
// (PostgreSQL; SQLite has one writer), else *outcome.EntityNotFoundError.
func findScoped(ctx context.Context, db bun.IDB, by access.Caller, id entity.ID, live, lock bool) (*entity.Customer, error) {
	c := new(entity.Customer)
	q := db.NewSelect().Model(c).Where("cu.id = ?", id)
	if live {
		q = q.Where("cu.deleted_at IS NULL")
	}
	q = entity.ChannelScope(q.QueryBuilder(), by.ChannelID, access.CustomerOnChannel).Unwrap().(*bun.SelectQuery)
	if lock && db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE OF cu")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &outcome.EntityNotFoundError{Entity: "Customer", ID: id.String()}
		}
		return nil, fmt.Errorf("find customer: %w", err)
	}
	return c, nil
}

// emailTaken refuses, with *outcome.EmailAddressConflictError, an address
// that a live customer other than self (0: none) has: a registered one
// anywhere when registered is set (the address is to be a login), or any
// one on the caller's channel (Vendure's check), compared in lower case as
// the unique index does.
func emailTaken(ctx context.Context, db bun.IDB, by access.Caller, email string, self entity.ID, registered bool) error {
	q := db.NewSelect().Model((*entity.Customer)(nil)).
		Where("cu.deleted_at IS NULL AND cu.id <> ? AND lower(cu.email_address) = ?", self, strings.ToLower(email))
	if registered {
		q = q.Where("(cu.user_id IS NOT NULL OR "+access.CustomerOnChannel+")", by.ChannelID)
	} else {
		q = q.Where(access.CustomerOnChannel, by.ChannelID)
	}
	taken, err := q.Exists(ctx)
	if err != nil {
		return fmt.Errorf("find customer by address: %w", err)
	}
	if taken {
		return &outcome.EmailAddressConflictError{}
	}
	return nil
}
