package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// The security notices reach the account's address once the change
// commits: a password change (updateCustomerPassword, resetPassword) and
// an e-mail address change (the previous address); a refused change sends
// nothing.
func TestSecurityNotices(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, false)
		const email = "notice@example.com"
		uid := ab.createCustomer(t, email, "first-pw", true)

		require.ErrorAs(t, ab.accounts.UpdateCustomerPassword(ab.ctx, uid, 0, "wrong-pw", "second-pw"), new(*outcome.InvalidCredentialsError))
		require.Empty(t, ab.sink.noticesTo(email), "a refused change sends nothing")
		require.NoError(t, ab.accounts.UpdateCustomerPassword(ab.ctx, uid, 0, "first-pw", "second-pw"))
		require.Equal(t, []notify.Type{notify.PasswordChanged}, ab.sink.noticesTo(email))

		require.NoError(t, ab.accounts.RequestPasswordReset(ab.ctx, email))
		_, err := ab.accounts.ResetPassword(ab.ctx, ab.sink.last(t, entity.TokenPasswordReset, email), "third-pw", ab.loginRequest())
		require.NoError(t, err)
		require.Equal(t, []notify.Type{notify.PasswordChanged, notify.PasswordChanged}, ab.sink.noticesTo(email))

		var customerID entity.ID
		require.NoError(t, ab.db.NewSelect().Model((*entity.Customer)(nil)).Column("id").Where("user_id = ?", uid).Scan(ab.ctx, &customerID))
		admin := access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: b.defaultChannel.ID}
		same, moved := "NOTICE@example.com", "moved@example.com"
		_, err = ab.accounts.UpdateCustomerAs(ab.ctx, admin, account.CustomerChange{ID: customerID, EmailAddress: &same})
		require.NoError(t, err)
		require.Len(t, ab.sink.noticesTo(email), 2, "a change of case alone is the same mailbox")
		_, err = ab.accounts.UpdateCustomerAs(ab.ctx, admin, account.CustomerChange{ID: customerID, EmailAddress: &moved})
		require.NoError(t, err)
		require.Equal(t, []notify.Type{notify.PasswordChanged, notify.PasswordChanged, notify.EmailAddressChanged}, ab.sink.noticesTo(email))
		require.Empty(t, ab.sink.noticesTo(moved), "the previous address is told, not the new one")
	})
}

// With NotifyNewSignIn, a customer's login with its password on the Shop
// API queues the new-sign-in notice, with the client's address and user
// agent; a failed login, an administrator's login and the login of a
// password reset do not.
func TestNewSignInNotice(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		sink := &tokenSink{}
		notifier := account.SendAfterCommit{Sender: sink}
		authn, err := account.NewAuthService(account.AuthConfig{
			DB: b.db, Sessions: b.sessions, Hasher: b.hasher, NowFunc: b.clock.Now, Notifier: notifier, NotifyNewSignIn: true,
		})
		require.NoError(t, err)
		accounts, err := account.New(account.Config{DB: b.db, Auth: authn, Hasher: b.hasher, Notifier: notifier, NowFunc: b.clock.Now})
		require.NoError(t, err)
		const email = "signin@example.com"
		b.createCustomer(t, email, "signin-pw", true)
		login := func(api auth.APIType, user, pw string) error {
			ctx := clientinfo.With(b.ctx, clientinfo.Info{Address: "198.51.100.9", UserAgent: "Browser/2.0"})
			_, err := authn.Authenticate(ctx, account.LoginRequest{
				API: api, Method: account.NativeStrategyName, Native: &account.Credentials{Username: user, Password: pw},
				ChannelID: b.defaultChannel.ID,
			})
			return err
		}
		require.Error(t, login(auth.ShopAPI, email, "wrong-pw"))
		require.NoError(t, login(auth.AdminAPI, superadminLogin, superadminPassword))
		require.Empty(t, sink.notices)

		require.NoError(t, login(auth.ShopAPI, "SignIn@Example.com", "signin-pw"))
		require.Equal(t, []notify.Type{notify.NewSignIn}, sink.noticesTo(email), "to the account's address as stored")
		m := sink.notices[0]
		require.Equal(t, "198.51.100.9", m.ClientAddress)
		require.Equal(t, "Browser/2.0", m.UserAgent)
		require.True(t, m.OccurredAt.Equal(b.clock.Now()))
		require.NotEmpty(t, m.ID)

		require.NoError(t, accounts.RequestPasswordReset(b.ctx, email))
		_, err = accounts.ResetPassword(b.ctx, sink.last(t, entity.TokenPasswordReset, email), "new-signin-pw", account.LoginRequest{API: auth.ShopAPI, ChannelID: b.defaultChannel.ID})
		require.NoError(t, err)
		require.Equal(t, []notify.Type{notify.NewSignIn, notify.PasswordChanged}, sink.noticesTo(email), "the reset's own login is no sign-in notice")
	})
}

// failingNotifier refuses to queue: the write it belongs to rolls back.
type failingNotifier struct{}

func (failingNotifier) Notify(context.Context, *session.Tx, notify.Message) error {
	return errors.New("queue unavailable")
}

// A message that cannot be queued fails its transaction: the registration
// leaves no account and no token behind, so nothing is half done.
func TestQueueFailureRollsBack(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		accounts, err := account.New(account.Config{DB: b.db, Auth: b.auth, Hasher: b.hasher, Notifier: failingNotifier{}, NowFunc: b.clock.Now, RequireVerification: true})
		require.NoError(t, err)
		err = accounts.RegisterCustomerAccount(b.ctx, account.Registration{
			EmailAddress: "rolled.back@example.com", FirstName: "R", LastName: "B", Password: "rolled-pw", ChannelID: b.defaultChannel.ID,
		})
		require.ErrorContains(t, err, "queue unavailable")
		n, err := b.db.NewSelect().Model((*entity.Customer)(nil)).Where("email_address = ?", "rolled.back@example.com").Count(b.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = b.db.NewSelect().Model((*entity.CustomerToken)(nil)).Count(b.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// A queued delivery names the issuance of its token (DeliveryID), not the
// token: RenewDeliveryToken gives that issuance a fresh token, which
// works, while the one the request generated and every earlier renewal
// stop working. An issuance that was used, replaced or expired has
// nothing to renew.
func TestRenewDeliveryToken(t *testing.T) {
	eachDB(t, bundleOpts{RequireVerification: true}, func(t *testing.T, b *testBundle) {
		ab := newAccountBundle(t, b, true)
		const email = "renew@example.com"
		ab.register(t, email, "renew-pw")
		m := ab.sink.lastMessage(t, notify.Verification, email)
		require.NotEmpty(t, m.DeliveryID)
		uid := m.UserID

		first, ok, err := ab.accounts.RenewDeliveryToken(ab.ctx, uid, notify.Verification, m.DeliveryID)
		require.NoError(t, err)
		require.True(t, ok)
		second, ok, err := ab.accounts.RenewDeliveryToken(ab.ctx, uid, notify.Verification, m.DeliveryID)
		require.NoError(t, err)
		require.True(t, ok)
		require.NotEqual(t, first, second)
		for _, stale := range []string{m.Token, first} {
			_, err := ab.accounts.VerifyCustomerAccount(ab.ctx, stale, "", ab.loginRequest())
			require.ErrorAs(t, err, new(*outcome.VerificationTokenInvalidError))
		}
		for _, wrong := range []struct {
			typ notify.Type
			id  string
		}{{notify.PasswordReset, m.DeliveryID}, {notify.Verification, "other"}, {notify.PasswordChanged, m.DeliveryID}, {notify.Verification, ""}} {
			_, ok, err := ab.accounts.RenewDeliveryToken(ab.ctx, uid, wrong.typ, wrong.id)
			require.NoError(t, err)
			require.False(t, ok, "%v", wrong)
		}

		// A newer registration replaces the issuance: the old delivery has
		// nothing to send.
		ab.register(t, email, "renew-pw-2")
		_, ok, err = ab.accounts.RenewDeliveryToken(ab.ctx, uid, notify.Verification, m.DeliveryID)
		require.NoError(t, err)
		require.False(t, ok)
		newer := ab.sink.lastMessage(t, notify.Verification, email)
		token, ok, err := ab.accounts.RenewDeliveryToken(ab.ctx, uid, notify.Verification, newer.DeliveryID)
		require.NoError(t, err)
		require.True(t, ok)
		_, err = ab.accounts.VerifyCustomerAccount(ab.ctx, token, "", ab.loginRequest())
		require.NoError(t, err)
		_, ok, err = ab.accounts.RenewDeliveryToken(ab.ctx, uid, notify.Verification, newer.DeliveryID)
		require.NoError(t, err)
		require.False(t, ok, "used")

		require.NoError(t, ab.accounts.RequestPasswordReset(ab.ctx, email))
		reset := ab.sink.lastMessage(t, notify.PasswordReset, email)
		ab.clock.Advance(2 * time.Hour)
		_, ok, err = ab.accounts.RenewDeliveryToken(ab.ctx, uid, notify.PasswordReset, reset.DeliveryID)
		require.NoError(t, err)
		require.False(t, ok, "expired")
	})
}
