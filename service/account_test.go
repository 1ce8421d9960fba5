package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// tokenSink is a notify.Sender that keeps the tokens and the notices, or
// fails when err is set. newAccountBundle hands it to the service through
// account.SendAfterCommit.
type tokenSink struct {
	mu       sync.Mutex
	sent     map[string][]string // kind/email -> tokens
	notices  []notify.Message
	messages []notify.Message // all, tokens included
	err      error
}

// sinkKinds maps the token messages to the kinds the tests name.
var sinkKinds = map[notify.Type]string{notify.Verification: entity.TokenVerification, notify.PasswordReset: entity.TokenPasswordReset}

func (n *tokenSink) Send(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.messages = append(n.messages, m)
	if kind, ok := sinkKinds[m.Type]; ok {
		if n.sent == nil {
			n.sent = map[string][]string{}
		}
		n.sent[kind+"/"+m.EmailAddress] = append(n.sent[kind+"/"+m.EmailAddress], m.Token)
	} else {
		n.notices = append(n.notices, m)
	}
	return n.err
}

// lastMessage returns the last message of a type sent to an address.
func (n *tokenSink) lastMessage(t *testing.T, typ notify.Type, email string) notify.Message {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.messages) - 1; i >= 0; i-- {
		if m := n.messages[i]; m.Type == typ && m.EmailAddress == email {
			return m
		}
	}
	t.Fatalf("no %s message to %s", typ, email)
	return notify.Message{}
}

// noticesTo returns the types of the notices sent to an address, in order.
func (n *tokenSink) noticesTo(email string) []notify.Type {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []notify.Type
	for _, m := range n.notices {
		if m.EmailAddress == email {
			out = append(out, m.Type)
		}
	}
	return out
}

func (n *tokenSink) tokens(kind, email string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.sent[kind+"/"+email]...)
}

func (n *tokenSink) last(t *testing.T, kind, email string) string {
	t.Helper()
	ts := n.tokens(kind, email)
	require.NotEmpty(t, ts, "no %s token for %s", kind, email)
	return ts[len(ts)-1]
}

// countingHasher counts the hashes and checks of the hasher it wraps.
type countingHasher struct {
	password.Hasher
	hashes, checks atomic.Int32
}

func (h *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(ctx, pw)
}

func (h *countingHasher) Check(ctx context.Context, hash, pw string) (bool, error) {
	h.checks.Add(1)
	return h.Hasher.Check(ctx, hash, pw)
}

type accountBundle struct {
	*testBundle
	accounts *account.Service
	sink     *tokenSink
	hasher   *countingHasher
	logs     *bytes.Buffer
}

func newAccountBundle(t *testing.T, b *testBundle, requireVerification bool) *accountBundle {
	t.Helper()
	ab := &accountBundle{testBundle: b, sink: &tokenSink{}, hasher: &countingHasher{Hasher: b.hasher}, logs: &bytes.Buffer{}}
	var err error
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: ab.logs}, nil))
	ab.accounts, err = account.New(account.Config{
		DB: b.db, Auth: b.auth, Hasher: ab.hasher, Notifier: account.SendAfterCommit{Sender: ab.sink, Logger: logger}, NowFunc: b.clock.Now,
		Logger: logger, RequireVerification: requireVerification,
	})
	require.NoError(t, err)
	return ab
}

// lockedWriter serialises writes from concurrent requests.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (ab *accountBundle) register(t *testing.T, email, pw string) {
	t.Helper()
	require.NoError(t, ab.accounts.RegisterCustomerAccount(ab.ctx, account.Registration{
		EmailAddress: email, FirstName: "Reg", LastName: "Istered", Title: "Ms.", PhoneNumber: "555", Password: pw,
		ChannelID: ab.defaultChannel.ID,
	}))
}

func (ab *accountBundle) loginRequest() account.LoginRequest {
	return account.LoginRequest{API: auth.ShopAPI, ChannelID: ab.defaultChannel.ID}
}

func (ab *accountBundle) count(t *testing.T, model any, where string, args ...any) int {
	t.Helper()
	n, err := ab.db.NewSelect().Model(model).Where(where, args...).Count(ab.ctx)
	require.NoError(t, err)
	return int(n)
}

func TestNewAccountServiceRequiresFields(t *testing.T) {
	t.Parallel()
	_, err := account.New(account.Config{})
	require.EqualError(t, err, "account service: DB is required\naccount service: Auth is required\naccount service: Hasher is required")
}

// A registration stores an unverified user, its customer on the channel,
// and only the hash of the verification token, which expires after
// VerificationTokenDuration (7 days by default).
func TestRegisterStoresHashedExpiringToken(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		ab.register(t, "  New.Customer@Example.COM ", "secret-pw")
		const email = "new.customer@example.com"
		token := ab.sink.last(t, entity.TokenVerification, email)

		var c entity.Customer
		require.NoError(t, ab.db.NewSelect().Model(&c).Where("email_address = ?", email).Scan(ab.ctx))
		require.Equal(t, "Ms.", *c.Title)
		require.Equal(t, "555", *c.PhoneNumber)
		require.False(t, ab.userRow(t, *c.UserID).Verified)
		require.Equal(t, 1, ab.count(t, (*entity.CustomerChannel)(nil), "customer_id = ? AND channel_id = ?", c.ID, ab.defaultChannel.ID))

		var row entity.CustomerToken
		require.NoError(t, ab.db.NewSelect().Model(&row).Where("user_id = ?", *c.UserID).Scan(ab.ctx))
		require.Equal(t, entity.TokenVerification, row.Kind)
		require.Equal(t, session.HashToken(token), row.TokenHash)
		requireTimeEqual(t, ab.clock.Now().Add(7*24*time.Hour), row.Expires)

		// One instant before expiry the token works; the check is on the
		// service's clock.
		ab.clock.Advance(7*24*time.Hour - time.Microsecond)
		cs, err := ab.accounts.VerifyCustomerAccount(ab.ctx, token, "", ab.loginRequest())
		require.NoError(t, err)
		require.Equal(t, *c.UserID, cs.User.ID)
		require.True(t, ab.userRow(t, *c.UserID).Verified)
		require.Zero(t, ab.count(t, (*entity.CustomerToken)(nil), "user_id = ?", *c.UserID), "used up")
	})
}

func TestVerificationTokenExpiresAtItsInstant(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		ab.register(t, "late@example.com", "late-pw")
		ab.clock.Advance(7 * 24 * time.Hour)
		_, err := ab.accounts.VerifyCustomerAccount(ab.ctx, ab.sink.last(t, entity.TokenVerification, "late@example.com"), "", ab.loginRequest())
		require.ErrorAs(t, err, new(*outcome.VerificationTokenExpiredError))
		require.Equal(t, 1, ab.count(t, (*entity.CustomerToken)(nil), "kind = ?", entity.TokenVerification), "an expired token stays, and stays expired")
	})
}

// Twenty registrations of one address at once (in several spellings) make
// one user and one customer, and every caller gets nil.
func TestConcurrentRegistrationsOfOneAddress(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() {
				email := "race@example.com"
				if i%2 == 1 {
					email = "Race@Example.com"
				}
				errs[i] = ab.accounts.RegisterCustomerAccount(ab.ctx, account.Registration{
					EmailAddress: email, Password: fmt.Sprintf("password-%d", i), ChannelID: ab.defaultChannel.ID,
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 1, ab.count(t, (*entity.Customer)(nil), "lower(email_address) = ?", "race@example.com"))
		require.Equal(t, 1, ab.count(t, (*entity.User)(nil), "identifier = ?", "race@example.com"))
		require.Equal(t, 1, ab.count(t, (*entity.CustomerToken)(nil), "kind = ?", entity.TokenVerification))
	})
}

// Two verifications with one token at once: one logs in, the other finds
// the token gone.
func TestConcurrentVerificationsUseTheTokenOnce(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		ab.register(t, "once@example.com", "")
		token := ab.sink.last(t, entity.TokenVerification, "once@example.com")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = ab.accounts.VerifyCustomerAccount(ab.ctx, token, fmt.Sprintf("chosen-%d", i), ab.loginRequest())
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			require.ErrorAs(t, err, new(*outcome.VerificationTokenInvalidError))
		}
		require.Equal(t, 1, ok)
	})
}

// Whether the address is taken or not, a registration with a password
// costs one hash and answers nil; a taken, verified address gets no token
// and keeps its password.
func TestRegisterTakenAddressCostsTheSame(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		userID := ab.createCustomer(t, "known@example.com", "known-pw", true)
		ab.register(t, "fresh@example.com", "fresh-pw")
		require.EqualValues(t, 1, ab.hasher.hashes.Load())
		ab.register(t, "KNOWN@example.com", "other-pw")
		require.EqualValues(t, 2, ab.hasher.hashes.Load(), "the taken address hashed the password too")
		require.Empty(t, ab.sink.tokens(entity.TokenVerification, "known@example.com"))
		_, err := ab.authenticate(auth.ShopAPI, "known@example.com", "known-pw", nil)
		require.NoError(t, err)
		require.Equal(t, 1, ab.count(t, (*entity.Customer)(nil), "user_id = ?", userID))
	})
}

// The unique address is a customer's: an administrator with the address,
// a deleted customer with it, or a guest customer with it do not stop a
// registration; the guest customer becomes the account's profile.
func TestRegisterBesideAdministratorDeletedAndGuest(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		ab.createAdmin(t, "shared@example.com", "admin-pw", ab.superRoleID)
		gone := ab.createCustomer(t, "shared@example.com", "old-pw", true)
		require.NoError(t, ab.users.SoftDelete(ab.ctx, gone))
		now := ab.clock.Now()
		guest := &entity.Customer{CreatedAt: now, UpdatedAt: now, FirstName: "Guest", LastName: "Buyer", EmailAddress: "Shared@Example.com"}
		_, err := ab.db.NewInsert().Model(guest).Exec(ab.ctx)
		require.NoError(t, err)

		ab.register(t, "shared@example.com", "customer-pw")
		_, err = ab.accounts.VerifyCustomerAccount(ab.ctx, ab.sink.last(t, entity.TokenVerification, "shared@example.com"), "", ab.loginRequest())
		require.NoError(t, err)

		var c entity.Customer
		require.NoError(t, ab.db.NewSelect().Model(&c).Where("id = ?", guest.ID).Scan(ab.ctx))
		require.NotNil(t, c.UserID, "the guest customer was adopted")
		require.Equal(t, "Reg", c.FirstName)
		require.Equal(t, "shared@example.com", c.EmailAddress)
		_, err = ab.authenticate(auth.ShopAPI, "shared@example.com", "customer-pw", nil)
		require.NoError(t, err)
		_, err = ab.authenticate(auth.AdminAPI, "shared@example.com", "admin-pw", nil)
		require.NoError(t, err, "the administrator is untouched")
	})
}

// A notifier failure is logged and changes nothing for the caller.
func TestNotifierFailureIsOnlyLogged(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		ab.sink.err = errors.New("smtp: connection refused")
		ab.register(t, "unlucky@example.com", "unlucky-pw")
		require.NoError(t, ab.accounts.RequestPasswordReset(ab.ctx, "unlucky@example.com"))
		require.Equal(t, 2, strings.Count(ab.logs.String(), `msg="notification delivery failed"`))
		require.Contains(t, ab.logs.String(), "emailAddress=u***@example.com")
	})
}

// Password change: the rules first, then the current password (a user with
// no password costs a dummy check); nobody logged in is ErrForbidden.
func TestUpdateCustomerPassword(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, false)
		userID := ab.createCustomer(t, "changer@example.com", "current-pw", true)
		require.ErrorIs(t, ab.accounts.UpdateCustomerPassword(ab.ctx, 0, 0, "x", "new-pw"), outcome.ErrForbidden)
		require.ErrorIs(t, ab.accounts.UpdateCustomerPassword(ab.ctx, ab.superadminUserID, 0, superadminPassword, "new-pw"),
			outcome.ErrForbidden, "the Shop API changes customers' passwords only")
		require.ErrorAs(t, ab.accounts.UpdateCustomerPassword(ab.ctx, userID, 0, "current-pw", "abc"), new(*outcome.PasswordValidationError))
		require.ErrorAs(t, ab.accounts.UpdateCustomerPassword(ab.ctx, userID, 0, "wrong", "new-pw"), new(*outcome.InvalidCredentialsError))
		require.NoError(t, ab.accounts.UpdateCustomerPassword(ab.ctx, userID, 0, "current-pw", "new-pw"))
		_, err := ab.authenticate(auth.ShopAPI, "changer@example.com", "new-pw", nil)
		require.NoError(t, err)

		nopw := ab.createCustomer(t, "nopw@example.com", "", false)
		checks := ab.hasher.checks.Load()
		require.ErrorAs(t, ab.accounts.UpdateCustomerPassword(ab.ctx, nopw, 0, "", "new-pw"), new(*outcome.InvalidCredentialsError))
		require.Equal(t, checks+1, ab.hasher.checks.Load(), "one dummy check")
	})
}

// A reset verifies an unverified account, drops its verification token,
// and evicts its cached sessions so they carry the new state.
func TestResetPasswordVerifies(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		ab.register(t, "reset@example.com", "")
		require.NoError(t, ab.accounts.RequestPasswordReset(ab.ctx, "reset@example.com"))
		require.NoError(t, ab.accounts.RequestPasswordReset(ab.ctx, "nobody@example.com"))
		require.NoError(t, ab.accounts.RequestPasswordReset(ab.ctx, superadminLogin), "administrators are not reset here")
		require.Empty(t, ab.sink.tokens(entity.TokenPasswordReset, superadminLogin))

		cs, err := ab.accounts.ResetPassword(ab.ctx, ab.sink.last(t, entity.TokenPasswordReset, "reset@example.com"), "reset-pw", ab.loginRequest())
		require.NoError(t, err)
		require.True(t, ab.userRow(t, cs.User.ID).Verified)
		require.Zero(t, ab.count(t, (*entity.CustomerToken)(nil), "user_id = ?", cs.User.ID))
		_, err = ab.authenticate(auth.ShopAPI, "reset@example.com", "reset-pw", nil)
		require.NoError(t, err)
	})
}

// UpdateCustomer changes only the given fields of the caller's customer.
func TestUpdateCustomer(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, false)
		userID := ab.createCustomer(t, "profile@example.com", "pw-profile", true)
		_, err := ab.accounts.UpdateCustomer(ab.ctx, 0, account.CustomerUpdate{})
		require.ErrorIs(t, err, outcome.ErrForbidden)
		first, phone := "Pro", "+1 555 0100"
		ab.clock.Advance(time.Minute)
		c, err := ab.accounts.UpdateCustomer(ab.ctx, userID, account.CustomerUpdate{FirstName: &first, PhoneNumber: &phone})
		require.NoError(t, err)
		require.Equal(t, "Pro", c.FirstName)
		require.Equal(t, "Tomer", c.LastName)
		require.Equal(t, phone, *c.PhoneNumber)
		requireTimeEqual(t, ab.clock.Now(), c.UpdatedAt)
		long := strings.Repeat("x", 256)
		_, err = ab.accounts.UpdateCustomer(ab.ctx, userID, account.CustomerUpdate{LastName: &long})
		require.ErrorIs(t, err, outcome.ErrInvalidInput)
		require.EqualError(t, err, "invalid input: lastName must be at most 255 characters long")

		u, err := ab.accounts.CustomerUser(ab.ctx, c)
		require.NoError(t, err)
		require.Equal(t, userID, u.ID)
		u, err = ab.accounts.CustomerUser(ab.ctx, &entity.Customer{})
		require.NoError(t, err)
		require.Nil(t, u, "a guest customer has no user")
	})
}
