package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// Defaults of Vendure's authOptions.verificationTokenDuration ('7d') and of
// the password reset token's lifetime (Vendure uses the verification
// duration for both; a reset token is a password, so it lives shorter).
const (
	DefaultVerificationTokenDuration  = 7 * 24 * time.Hour
	DefaultPasswordResetTokenDuration = time.Hour
)

// Config configures an Service.
type Config struct {
	// DB is the database. Required.
	DB *bun.DB
	// Auth logs a customer in after a verification or a password reset,
	// and lends its dummy hash for timing. Required.
	Auth *AuthService
	// Hasher hashes and checks passwords. Required.
	Hasher password.Hasher
	// Notifier queues the messages of the account flows (tokens, and the
	// notices of password and e-mail address changes). Defaults to
	// SendAfterCommit to a notify.Log on Logger that shows tokens
	// (development only).
	Notifier Notifier
	// Logger logs failed deliveries. Defaults to discarding them.
	Logger *slog.Logger
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
	// RequireVerification makes new accounts unverified until their
	// verification token is used. Defaults to false here; the server
	// passes the configured value (true by default).
	RequireVerification bool
	// VerificationTokenDuration is how long a verification token is
	// valid. Defaults to DefaultVerificationTokenDuration (7 days).
	VerificationTokenDuration time.Duration
	// PasswordResetTokenDuration is how long a password reset token is
	// valid. Defaults to DefaultPasswordResetTokenDuration (1 hour).
	PasswordResetTokenDuration time.Duration
}

// Service runs the Shop API's customer account flows: registration,
// verification, profile and password changes, password reset (Vendure's
// CustomerService and UserService, for customers with the native
// strategy). No flow tells a caller whether an address is registered.
//
// Its flows are throttled by the AuthService's Throttle (registrations,
// mail requests and unknown tokens per client address, mails per e-mail
// address): a refused call gets *outcome.TooManyRequestsError before any lookup,
// hash or mail.
type Service struct {
	db                  *bun.DB
	auth                *AuthService
	hasher              password.Hasher
	notifier            Notifier
	log                 *slog.Logger
	now                 func() time.Time
	requireVerification bool
	verificationTTL     time.Duration
	resetTTL            time.Duration
}

// New returns an Service, or an error naming every
// missing required field.
func New(cfg Config) (*Service, error) {
	if err := setup.Required("account service",
		setup.Field{Name: "DB", Unset: cfg.DB == nil},
		setup.Field{Name: "Auth", Unset: cfg.Auth == nil},
		setup.Field{Name: "Hasher", Unset: cfg.Hasher == nil},
	); err != nil {
		return nil, err
	}
	s := &Service{
		db: cfg.DB, auth: cfg.Auth, hasher: cfg.Hasher, notifier: cfg.Notifier,
		log: setup.Logger(cfg.Logger), now: setup.Now(cfg.NowFunc),
		requireVerification: cfg.RequireVerification,
		verificationTTL:     orDefault(cfg.VerificationTokenDuration, DefaultVerificationTokenDuration),
		resetTTL:            orDefault(cfg.PasswordResetTokenDuration, DefaultPasswordResetTokenDuration),
	}
	if s.notifier == nil {
		s.notifier = SendAfterCommit{Sender: notify.Log{Logger: s.log, ShowTokens: true}, Logger: s.log}
	}
	return s, nil
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Registration is the input of RegisterCustomerAccount.
type Registration struct {
	EmailAddress string
	Title        string
	FirstName    string
	LastName     string
	PhoneNumber  string
	// Password is "" when the customer chooses it at verification.
	Password string
	// ChannelID is the channel the customer registers on.
	ChannelID entity.ID
}

// RegisterCustomerAccount creates an unverified customer with a user (or a
// verified one without RequireVerification) and sends its verification
// token. Expected failures are *outcome.MissingPasswordError (no password while
// verification is off) and *outcome.PasswordValidationError.
//
// While verification is required, the password belongs to the
// registration, not to the account: its hash is stored with the
// verification token, and the token that verifies sets it. An address that
// is registered but not verified is registered again: the newest
// registration's password, profile and token replace the older ones (the
// older token stops working), so whoever registered the address first
// without its mailbox cannot keep a password on it. A verified account is
// left alone. Either way the answer is nil and the password is hashed
// whenever one is given, so it takes as long for every address. Two
// registrations of one address at once create one customer (a unique
// index; the loser answers nil too). A guest customer with the address,
// from a guest checkout, becomes the account's profile (adoptGuestCustomer).
func (s *Service) RegisterCustomerAccount(ctx context.Context, in Registration) error {
	if err := s.auth.throttle.TakeRegistration(ctx); err != nil {
		return err
	}
	email := auth.NormalizeIdentifier(in.EmailAddress)
	if err := CheckFields([]Field{
		{"emailAddress", email}, {"title", in.Title}, {"firstName", in.FirstName}, {"lastName", in.LastName}, {"phoneNumber", in.PhoneNumber},
	}); err != nil {
		return err
	}
	if email == "" {
		return fmt.Errorf("%w: emailAddress must not be empty", outcome.ErrInvalidInput)
	}
	if in.Password == "" && !s.requireVerification {
		return &outcome.MissingPasswordError{}
	}
	var hash *string
	if in.Password != "" {
		if err := validatePassword(in.Password); err != nil {
			return err
		}
		h, err := s.hasher.Hash(ctx, in.Password)
		if err != nil {
			return err
		}
		hash = &h
	}
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		acct, err := findAccount(ctx, t, email)
		if err != nil {
			return err
		}
		if acct != nil {
			if acct.Verified {
				return nil
			}
			if err := s.reregister(ctx, t, acct, in); err != nil {
				return err
			}
			return s.issueToken(ctx, t, acct, entity.TokenVerification, pendingPassword{set: true, hash: hash})
		}
		accountHash := hash
		if s.requireVerification {
			// Set by the verification, from the token.
			accountHash = nil
		}
		acct, err = s.createAccount(ctx, t, email, in, accountHash)
		if err != nil || acct.Verified {
			return err
		}
		return s.issueToken(ctx, t, acct, entity.TokenVerification, pendingPassword{set: true, hash: hash})
	})
	if database.IsUniqueViolation(err) {
		// A concurrent registration of the address committed first.
		return nil
	}
	return err
}

// RefreshCustomerVerification sends a new verification token to an
// unverified account, replacing the previous one. Any other address is
// silently ignored.
func (s *Service) RefreshCustomerVerification(ctx context.Context, emailAddress string) error {
	if err := s.auth.throttle.TakeMailRequest(ctx); err != nil {
		return err
	}
	return s.sendToken(ctx, emailAddress, entity.TokenVerification)
}

// RequestPasswordReset sends a password reset token to the account of an
// address, replacing the previous one. Any other address is silently
// ignored.
func (s *Service) RequestPasswordReset(ctx context.Context, emailAddress string) error {
	if err := s.auth.throttle.TakeMailRequest(ctx); err != nil {
		return err
	}
	return s.sendToken(ctx, emailAddress, entity.TokenPasswordReset)
}

func (s *Service) sendToken(ctx context.Context, emailAddress, kind string) error {
	email := auth.NormalizeIdentifier(emailAddress)
	if email == "" || utf8.RuneCountInString(email) > MaxFieldLength {
		return nil
	}
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		acct, err := findAccount(ctx, t, email)
		if err != nil || acct == nil || (kind == entity.TokenVerification && acct.Verified) {
			return err
		}
		return s.issueToken(ctx, t, acct, kind, pendingPassword{})
	})
}

// CustomerUpdate holds the fields updateCustomer changes; nil leaves one as
// it is.
type CustomerUpdate struct {
	Title       *string
	FirstName   *string
	LastName    *string
	PhoneNumber *string
}

// UpdateCustomer changes the customer profile of a user and returns it. A
// user without a live customer profile (0: nobody is logged in) gets
// outcome.ErrForbidden.
func (s *Service) UpdateCustomer(ctx context.Context, userID entity.ID, in CustomerUpdate) (*entity.Customer, error) {
	q := s.db.NewUpdate().Model((*entity.Customer)(nil)).Set("updated_at = ?", s.now().UTC()).
		Where("user_id = ? AND deleted_at IS NULL", userID)
	var fields []Field
	for _, f := range []struct {
		name, column string
		value        *string
	}{
		{"title", "title", in.Title}, {"firstName", "first_name", in.FirstName},
		{"lastName", "last_name", in.LastName}, {"phoneNumber", "phone_number", in.PhoneNumber},
	} {
		if f.value != nil {
			fields = append(fields, Field{f.name, *f.value})
			q = q.Set("? = ?", bun.Ident(f.column), *f.value)
		}
	}
	if err := CheckFields(fields); err != nil {
		return nil, err
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update customer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, outcome.ErrForbidden
	}
	c := new(entity.Customer)
	if err := s.db.NewSelect().Model(c).Where("user_id = ? AND deleted_at IS NULL", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	return c, nil
}

// CustomerUser returns the live user of a customer: nil for a guest
// customer, outcome.ErrNotFound when the user is deleted.
func (s *Service) CustomerUser(ctx context.Context, c *entity.Customer) (*entity.User, error) {
	if c == nil || c.UserID == nil {
		return nil, nil
	}
	u := new(entity.User)
	err := s.db.NewSelect().Model(u).Where("id = ? AND deleted_at IS NULL", *c.UserID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// account is a live customer user, as the account flows find it.
type account struct {
	UserID     entity.ID `bun:"user_id"`
	Identifier string    `bun:"identifier"`
	Verified   bool      `bun:"verified"`
}

// findAccount returns the live customer user registered with an address
// (compared in lower case, as the unique index does), or nil.
func findAccount(ctx context.Context, db bun.IDB, email string) (*account, error) {
	var rows []account
	err := db.NewRaw(`SELECT u.id AS user_id, u.identifier, u.verified
FROM customer AS c
JOIN "user" AS u ON u.id = c.user_id AND u.deleted_at IS NULL
WHERE c.deleted_at IS NULL AND lower(c.email_address) = ?
LIMIT 1`, strings.ToLower(email)).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find account: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// reregister gives an unverified account the profile of a new registration
// and takes away any password stored on the account itself (by an earlier
// build, or an administrator): until the address is verified, the only
// password that can become the account's is the newest registration's,
// kept with its token.
func (s *Service) reregister(ctx context.Context, t *session.Tx, acct *account, in Registration) error {
	now := s.now().UTC()
	if _, err := t.NewUpdate().Model((*entity.AuthenticationMethod)(nil)).
		Set("password_hash = NULL").Set("updated_at = ?", now).
		Where("user_id = ? AND type = ?", acct.UserID, entity.AuthMethodNative).Exec(ctx); err != nil {
		return fmt.Errorf("clear unverified password: %w", err)
	}
	if _, err := t.NewUpdate().Model((*entity.Customer)(nil)).
		Set("title = ?", in.Title).Set("first_name = ?", in.FirstName).Set("last_name = ?", in.LastName).
		Set("phone_number = ?", in.PhoneNumber).Set("updated_at = ?", now).
		Where("user_id = ? AND deleted_at IS NULL", acct.UserID).Exec(ctx); err != nil {
		return fmt.Errorf("update unverified customer: %w", err)
	}
	return nil
}

// createAccount creates the user, its native authentication method (hash
// nil: no password yet) and its customer profile on the registration's
// channel. A guest customer with the address becomes that profile.
func (s *Service) createAccount(ctx context.Context, t *session.Tx, email string, in Registration, hash *string) (*account, error) {
	now := s.now().UTC()
	var roleID entity.ID
	if err := t.NewSelect().Model((*entity.Role)(nil)).Column("id").Where("code = ?", entity.CustomerRoleCode).Scan(ctx, &roleID); err != nil {
		return nil, fmt.Errorf("find customer role: %w", err)
	}
	user, err := access.CreateUser(ctx, t, now, email, !s.requireVerification, hash, []entity.ID{roleID})
	if err != nil {
		return nil, err
	}
	customerID, err := s.adoptGuestCustomer(ctx, t, now, user.ID, email, in)
	if err != nil {
		return nil, err
	}
	if customerID == 0 {
		uid := user.ID
		c := &entity.Customer{
			CreatedAt: now, UpdatedAt: now, Title: &in.Title, FirstName: in.FirstName, LastName: in.LastName,
			PhoneNumber: &in.PhoneNumber, EmailAddress: email, UserID: &uid,
		}
		if _, err := t.NewInsert().Model(c).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create customer: %w", err)
		}
		customerID = c.ID
	}
	if err := access.AddCustomerToChannel(ctx, t, customerID, in.ChannelID); err != nil {
		return nil, err
	}
	return &account{UserID: user.ID, Identifier: email, Verified: user.Verified}, nil
}

// adoptGuestCustomer gives the oldest live guest customer with the address
// to the new user, with the registration's non-empty fields, and returns
// its id (0: there is none, or a concurrent registration took it). The
// orders of every other guest customer with the address join it, and
// those customers are retired, so the account holds the address's whole
// guest history.
//
// An order that was a guest's cart becomes the account's: every session
// that holds one of them loses it here, in t, through the session owner,
// as a login takes the cart from the guest session it merges. Otherwise
// whoever named the address at a guest checkout (anyone can) would keep a
// session on an order that is now the account's.
func (s *Service) adoptGuestCustomer(ctx context.Context, t *session.Tx, now time.Time, userID entity.ID, email string, in Registration) (entity.ID, error) {
	var ids []entity.ID
	if err := t.NewSelect().Model((*entity.Customer)(nil)).Column("id").
		Where("deleted_at IS NULL AND user_id IS NULL AND lower(email_address) = ?", strings.ToLower(email)).
		Order("id").Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find guest customer: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	q := t.NewUpdate().Model((*entity.Customer)(nil)).
		Set("user_id = ?", userID).Set("email_address = ?", email).Set("updated_at = ?", now).
		Where("id = ? AND user_id IS NULL", ids[0])
	for _, f := range []Field{{"title", in.Title}, {"first_name", in.FirstName}, {"last_name", in.LastName}, {"phone_number", in.PhoneNumber}} {
		if f.Value != "" {
			q = q.Set("? = ?", bun.Ident(f.Name), f.Value)
		}
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("adopt guest customer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	if others := ids[1:]; len(others) > 0 {
		if _, err := t.NewUpdate().Model((*entity.Order)(nil)).Set("customer_id = ?", ids[0]).Set("updated_at = ?", now).
			Where("customer_id IN (?)", bun.List(others)).Exec(ctx); err != nil {
			return 0, fmt.Errorf("adopt guest orders: %w", err)
		}
		if _, err := t.NewUpdate().Model((*entity.Customer)(nil)).Set("deleted_at = ?", now).Set("updated_at = ?", now).
			Where("id IN (?) AND user_id IS NULL", bun.List(others)).Exec(ctx); err != nil {
			return 0, fmt.Errorf("retire guest customers: %w", err)
		}
	}
	var carts []entity.ID
	if err := t.NewSelect().Model((*entity.Order)(nil)).Column("id").
		Where("customer_id = ? AND active = TRUE", ids[0]).Scan(ctx, &carts); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find adopted carts: %w", err)
	}
	if err := s.auth.sessions.ReleaseOrders(ctx, t, carts...); err != nil {
		return 0, err
	}
	return ids[0], nil
}

// validatePassword applies the password rules (service/password: 4 to 72
// bytes, bcrypt's limit) to a new password.
func validatePassword(pw string) error {
	if password.Validate(pw) != nil {
		return &outcome.PasswordValidationError{ValidationErrorMessage: fmt.Sprintf(
			"Password must be between %d and %d bytes long", password.MinLength, password.MaxLength)}
	}
	return nil
}
