package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// The account attacks that work before the victim has an account, written
// as the attacker runs them: each step is the document a storefront (or a
// script) sends.

// Pre-hijacking: the attacker registers the victim's address with the
// attacker's password and never verifies. The victim registers with their
// own password and verifies from their own mailbox: the victim's password
// works, the attacker's never did and never will, and the attacker's token
// is void.
func TestPreHijackedRegistration(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		const victim = "victim@example.com"
		attacker, owner := e.shop(testenv.Bearer), e.shop(testenv.Bearer)

		require.True(t, do(t, attacker, registerMutation, register(victim, "attacker-pw")).Success)
		attackerToken := e.tokens.last(t, entity.TokenVerification, victim)
		require.Equal(t, "NOT_VERIFIED_ERROR", decodeLogin(t, attacker.Do(loginMutation, creds(victim, "attacker-pw"))).Login.ErrorCode,
			"before anyone verifies, the password of the pending registration is told apart from a wrong one only as Vendure does")

		require.True(t, do(t, owner, registerMutation, register(victim, "victim-pw")).Success)
		ownerToken := e.tokens.last(t, entity.TokenVerification, victim)
		require.NotEqual(t, attackerToken, ownerToken)
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, attacker.Do(loginMutation, creds(victim, "attacker-pw"))).Login.ErrorCode,
			"the newer registration replaced the attacker's password")
		requireError(t, do(t, attacker, verifyMutation, map[string]any{"token": attackerToken}),
			"VERIFICATION_TOKEN_INVALID_ERROR", "Verification token not recognized")

		require.Equal(t, "CurrentUser", do(t, owner, verifyMutation, map[string]any{"token": ownerToken}).Typename)
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, attacker.Do(loginMutation, creds(victim, "attacker-pw"))).Login.ErrorCode)
		other := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, other.Do(loginMutation, creds(victim, "victim-pw"))).Login.Typename)

		// Registering again once verified changes nothing.
		require.True(t, do(t, attacker, registerMutation, register(victim, "attacker-pw-2")).Success)
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, attacker.Do(loginMutation, creds(victim, "attacker-pw-2"))).Login.ErrorCode)
		require.Equal(t, "CurrentUser", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(victim, "victim-pw"))).Login.Typename)
	})
}

// The same attack against an owner who registers without a password and
// chooses it at verification: the attacker's password is gone, and the
// owner's is accepted (not PASSWORD_ALREADY_SET_ERROR).
func TestPreHijackedRegistrationPasswordAtVerification(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		const victim = "late-chooser@example.com"
		attacker, owner := e.shop(testenv.Bearer), e.shop(testenv.Bearer)
		require.True(t, do(t, attacker, registerMutation, register(victim, "attacker-pw")).Success)
		require.True(t, do(t, owner, registerMutation, register(victim, "")).Success)
		token := e.tokens.last(t, entity.TokenVerification, victim)
		requireError(t, do(t, owner, verifyMutation, map[string]any{"token": token}),
			"MISSING_PASSWORD_ERROR", "A password must be provided.")
		require.Equal(t, "CurrentUser", do(t, owner, verifyMutation, map[string]any{"token": token, "password": "victim-pw"}).Typename)
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, attacker.Do(loginMutation, creds(victim, "attacker-pw"))).Login.ErrorCode)
		require.Equal(t, "CurrentUser", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(victim, "victim-pw"))).Login.Typename)

		// The profile is the owner's registration's, not the attacker's.
		var c entity.Customer
		require.NoError(t, e.db.NewSelect().Model(&c).Where("lower(email_address) = ? AND user_id IS NOT NULL", victim).Scan(context.Background()))
		require.Equal(t, "Hayden", c.FirstName)
	})
}

// A reset token requested before a password change stops working with it,
// and so does a verification token: the tokens follow the account.
func TestPasswordChangeVoidsOutstandingTokens(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		const email = "changer@example.com"
		newCustomer(t, e, email)
		shop := e.shop(testenv.Bearer)
		require.True(t, do(t, shop, requestResetMutation, map[string]any{"emailAddress": email}).Success)
		stolen := e.tokens.last(t, entity.TokenPasswordReset, email)

		shopLogin(t, shop, email)
		require.True(t, do(t, shop, updatePasswordMutation, map[string]any{"currentPassword": "test", "newPassword": "changed-pw"}).Success)
		requireError(t, do(t, e.shop(testenv.Bearer), resetMutation, map[string]any{"token": stolen, "password": "attacker-pw"}),
			"PASSWORD_RESET_TOKEN_INVALID_ERROR", "Password reset token not recognized")

		// Two reset tokens cannot both be live (one per kind), and a reset
		// voids whatever else the account holds.
		require.True(t, do(t, shop, requestResetMutation, map[string]any{"emailAddress": email}).Success)
		first := e.tokens.last(t, entity.TokenPasswordReset, email)
		require.Equal(t, "CurrentUser", do(t, e.shop(testenv.Bearer), resetMutation, map[string]any{"token": first, "password": "reset-pw"}).Typename)
		n, err := e.db.NewSelect().Model((*entity.CustomerToken)(nil)).Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "no token outlives a password change")
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(email, "changed-pw"))).Login.ErrorCode)
		require.Equal(t, "CurrentUser", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(email, "reset-pw"))).Login.Typename)
	})
}

// A cart planted through a guest customer: the attacker's guest session
// fills a cart and names the victim's address at checkout. The victim
// registers (the guest customer becomes the account's profile, its cart
// the account's). From then on the planting session can neither read nor
// change nor pay that order, by any operation, before or after the
// victim's verification, password reset, logout and new login; and the
// victim's cart is what it was.
func TestPlantedCartAfterAdoption(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 2)
		const victim = "planted@example.com"
		attacker := e.shop(testenv.Bearer)
		planted := orderField(t, attacker.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 2}), "addItemToOrder")
		sc := orderField(t, attacker.Do(setCustomerMutation, map[string]any{"input": map[string]any{
			"firstName": "Vic", "lastName": "Tim", "emailAddress": victim,
		}}), "setCustomerForOrder")
		require.Equal(t, "Order", sc.Typename)

		owner := e.shop(testenv.Bearer)
		require.True(t, do(t, owner, registerMutation, register(victim, "victim-pw")).Success)
		holders, err := e.db.NewSelect().Model((*entity.Session)(nil)).Where("active_order_id = ?", planted.ID).Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, holders, "the registration took the cart from the session that planted it")

		// The victim's cart, read through their account from now on.
		attack := func(stage string) {
			t.Helper()
			if o := orderField(t, attacker.Do(activeOrderQuery, nil), "activeOrder"); o != nil {
				require.NotEqual(t, planted.ID, o.ID, "%s: activeOrder", stage)
			}
			r := attacker.Do(orderByIDQuery, map[string]any{"id": planted.ID})
			require.Nil(t, orderField(t, r, "order"), "%s: order(id)", stage)
			r = attacker.Do(orderByCodeQuery, map[string]any{"code": planted.Code})
			require.Equal(t, "FORBIDDEN", r.ErrorCode(), "%s: orderByCode", stage)
			r = attacker.Do(adjustLineMutation, map[string]any{"orderLineId": planted.Lines[0].ID, "quantity": 7})
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%s: adjustOrderLine on the victim's line", stage)
			r = attacker.Do(removeLineMutation, map[string]any{"orderLineId": planted.Lines[0].ID})
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode(), "%s: removeOrderLine on the victim's line", stage)
			// The planting session may have a cart of its own by now: every
			// operation works on that one, never on the victim's.
			notVictims := func(o *orderJSON, op string) {
				t.Helper()
				if o != nil {
					require.NotEqual(t, planted.ID, o.ID, "%s: %s", stage, op)
				}
			}
			notVictims(orderField(t, attacker.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"}), "transitionOrderToState"), "transitionOrderToState")
			pay := orderField(t, attacker.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
			require.Contains(t, []string{"NO_ACTIVE_ORDER_ERROR", "ORDER_PAYMENT_STATE_ERROR"}, pay.ErrorCode, "%s: addPaymentToOrder", stage)
			set := orderField(t, attacker.Do(setCustomerMutation, map[string]any{"input": map[string]any{
				"firstName": "Eve", "lastName": "Il", "emailAddress": "eve@example.com",
			}}), "setCustomerForOrder")
			notVictims(set, "setCustomerForOrder")
			removeAll := orderField(t, attacker.Do(removeAllMutation, nil), "removeAllOrderLines")
			require.NotEqual(t, planted.ID, removeAll.ID, "%s: removeAllOrderLines works on a cart of its own", stage)
			added := orderField(t, attacker.Do(addItemMutation, map[string]any{"productVariantId": v[1], "quantity": 1}), "addItemToOrder")
			require.NotEqual(t, planted.ID, added.ID, "%s: addItemToOrder starts a cart of its own", stage)
			require.Equal(t, []string{"SKU-2×1"}, added.variants())
			_ = orderField(t, attacker.Do(removeAllMutation, nil), "removeAllOrderLines")
		}
		victimCart := func(c *testenv.Client) {
			t.Helper()
			o := orderField(t, c.Do(activeOrderQuery, nil), "activeOrder")
			require.NotNil(t, o)
			require.Equal(t, planted.ID, o.ID)
			require.Equal(t, []string{"SKU-1×2"}, o.variants(), "the victim's cart is untouched")
			require.Equal(t, "AddingItems", o.State)
		}

		attack("after registration")
		require.Equal(t, "CurrentUser", do(t, owner, verifyMutation, map[string]any{"token": e.tokens.last(t, entity.TokenVerification, victim)}).Typename)
		attack("after verification")
		victimCart(owner)

		// A session left pointing at the order (a stale pointer of any
		// origin) reaches nothing either: the check is on every access.
		cs, err := e.app.Sessions.GetSessionFromToken(context.Background(), attacker.Token)
		require.NoError(t, err)
		var id entity.ID
		require.NoError(t, id.UnmarshalGQL(planted.ID))
		_, err = e.app.Sessions.SetActiveOrder(context.Background(), cs, id)
		require.NoError(t, err)
		attack("with a stale pointer")

		require.True(t, do(t, owner, requestResetMutation, map[string]any{"emailAddress": victim}).Success)
		require.Equal(t, "CurrentUser", do(t, owner, resetMutation, map[string]any{
			"token": e.tokens.last(t, entity.TokenPasswordReset, victim), "password": "victim-pw-2",
		}).Typename)
		attack("after a password reset")
		require.True(t, do(t, owner, logoutMutation, nil).Success)
		again := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, again.Do(loginMutation, creds(victim, "victim-pw-2"))).Login.Typename)
		attack("after logout and a new login")
		victimCart(again)

		// The attacker logging in to an account of their own with the
		// planting session takes nothing of the victim's.
		newCustomer(t, e, "eve@example.com")
		_, err = e.app.Sessions.SetActiveOrder(context.Background(), cs, id)
		require.NoError(t, err)
		shopLogin(t, attacker, "eve@example.com")
		if o := orderField(t, attacker.Do(activeOrderQuery, nil), "activeOrder"); o != nil {
			require.NotEqual(t, planted.ID, o.ID)
		}
		victimCart(again)
	})
}

// A registration nobody verifies expires: once its token has been expired
// for as long again as it lived, the clean-sessions job removes the
// account, its customer goes back to being a guest customer, and the
// address is free.
func TestUnverifiedRegistrationExpires(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		const victim = "expiring@example.com"
		attacker := e.shop(testenv.Bearer)
		require.True(t, do(t, attacker, registerMutation, register(victim, "attacker-pw")).Success)
		users := func() int {
			t.Helper()
			n, err := e.db.NewSelect().Model((*entity.User)(nil)).Where("identifier = ?", victim).Count(ctx)
			require.NoError(t, err)
			return int(n)
		}
		admin := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		clean := func() {
			t.Helper()
			r := admin.Do(`mutation { triggerCleanSessionsJob { `+jobFields+` } }`, nil)
			require.Empty(t, r.Errors)
			var trig struct{ TriggerCleanSessionsJob jobView }
			r.Decode(t, &trig)
			require.Equal(t, "COMPLETED", waitSettled(t, admin, trig.TriggerCleanSessionsJob.ID).State)
		}

		// Expired, but refreshCustomerVerification may still revive it.
		e.clock.Advance(8 * 24 * time.Hour)
		clean()
		require.Equal(t, 1, users())

		e.clock.Advance(7 * 24 * time.Hour)
		clean()
		require.Zero(t, users(), "the unverified registration expired")
		guests, err := e.db.NewSelect().Model((*entity.Customer)(nil)).Where("email_address = ? AND user_id IS NULL", victim).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, guests, "its profile is a guest customer again")

		owner := e.shop(testenv.Bearer)
		require.True(t, do(t, owner, registerMutation, register(victim, "victim-pw")).Success)
		require.Equal(t, "CurrentUser", do(t, owner, verifyMutation, map[string]any{"token": e.tokens.last(t, entity.TokenVerification, victim)}).Typename)
		require.Equal(t, "CurrentUser", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(victim, "victim-pw"))).Login.Typename)
	})
}

// Pre-hijacking through the mail cap: the attacker registers the victim's
// address until the address's mails run out, so that the victim's own
// registration sends nothing. The victim's registration still replaces the
// attacker's password and voids the links the attacker's registrations put
// in the victim's mailbox; a refresh once the cap allows it verifies the
// victim's password.
func TestPreHijackedRegistrationOverTheMailCap(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		const victim = "capped@example.com"
		attacker, owner := e.shop(testenv.Bearer), e.shop(testenv.Bearer)
		for range 3 {
			require.True(t, do(t, attacker, registerMutation, register(victim, "attacker-pw")).Success)
		}
		inMailbox := e.tokens.last(t, entity.TokenVerification, victim)
		sent := e.tokens.count()

		require.True(t, do(t, owner, registerMutation, register(victim, "victim-pw")).Success)
		require.Equal(t, sent, e.tokens.count(), "the address's mails ran out")
		requireError(t, do(t, owner, verifyMutation, map[string]any{"token": inMailbox}),
			"VERIFICATION_TOKEN_INVALID_ERROR", "Verification token not recognized")

		e.clock.Advance(time.Hour + time.Minute)
		require.True(t, do(t, owner, refreshVerificationMutation, map[string]any{"emailAddress": victim}).Success)
		require.Equal(t, sent+1, e.tokens.count())
		require.Equal(t, "CurrentUser", do(t, owner, verifyMutation, map[string]any{"token": e.tokens.last(t, entity.TokenVerification, victim)}).Typename)
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, attacker.Do(loginMutation, creds(victim, "attacker-pw"))).Login.ErrorCode)
		require.Equal(t, "CurrentUser", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(victim, "victim-pw"))).Login.Typename)
	})
}
