// Package notify renders and delivers the messages the server sends to
// customers: the one-time tokens of their accounts (verification, password
// reset) and security notices (password changed, e-mail address changed,
// new sign-in). A Sender delivers one Message: by e-mail (SMTP), to a
// webhook, or to the log. Queueing and retrying are not its business: the
// account service queues each message in the transaction that writes what
// it tells of, and a River job (package jobs) hands it to a Sender,
// retrying with backoff while the Sender fails.
//
// It is a leaf of the application: it imports entity (for the user id a
// message carries) and auth (to mask addresses in the log) only.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopsession/sessionserver/entity"
)

// Type is what a message tells its recipient.
type Type string

// The types of message. The token types carry a one-time token (and a
// link to the storefront page that uses it); the others are notices.
const (
	// Verification carries the token that verifies a new account
	// (verifyCustomerAccount).
	Verification Type = "verification"
	// PasswordReset carries the token that sets a new password
	// (resetPassword).
	PasswordReset Type = "password-reset"
	// PasswordChanged tells that the account's password was changed
	// (updateCustomerPassword, resetPassword).
	PasswordChanged Type = "password-changed"
	// EmailAddressChanged tells the previous address that the account's
	// e-mail address was changed (the Admin API's updateCustomer).
	EmailAddressChanged Type = "email-address-changed"
	// NewSignIn tells that someone logged in to the account with its
	// password (login on the Shop API), when NOTIFY_NEW_SIGN_IN is on.
	NewSignIn Type = "new-sign-in"
)

// Types are every Type, in the order the documentation lists them.
var Types = []Type{Verification, PasswordReset, PasswordChanged, EmailAddressChanged, NewSignIn}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// HasToken reports whether a message of type t carries a one-time token.
func (t Type) HasToken() bool { return t == Verification || t == PasswordReset }

// Message is one message to one customer. The fields the webhook sends
// and the templates see are documented in docs/notifications.md.
type Message struct {
	// ID identifies the message; it stays the same on every attempt to
	// deliver it (the webhook's webhook-id, the mail's Message-ID), so a
	// receiver can drop a repeat.
	ID string
	// Type is what the message tells.
	Type Type
	// EmailAddress is the recipient: the account's address (for
	// EmailAddressChanged, its previous one).
	EmailAddress string
	// Token is the one-time token of a token type, "" otherwise.
	Token string
	// Link is the storefront link that uses Token (VERIFY_URL or
	// PASSWORD_RESET_URL with the token in it), "" when none is
	// configured or the type has no token. WithLinks fills it in.
	Link string
	// OccurredAt is when what the message tells happened.
	OccurredAt time.Time
	// ClientAddress and UserAgent describe the client of a NewSignIn, as
	// the session records them; "" when unknown or for other types.
	ClientAddress string
	UserAgent     string

	// UserID is the account's user. Not sent.
	UserID entity.ID
	// DeliveryID names the issuance of Token (the customer_token row's
	// delivery_id), so that a queued delivery can give that issuance a
	// fresh token when it sends instead of storing this one. Not sent.
	DeliveryID string
}

// Sender delivers messages. Send delivers one, or returns an error that
// names no secret (the token, a password): the caller logs it, and River
// stores it with the job. A Sender is safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// NewID returns a new message id: "msg_" and 32 random hex digits.
func NewID() string { return "msg_" + randomHex(16) }

// NewDeliveryID returns a new delivery id: 32 random hex digits.
func NewDeliveryID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// TokenPlaceholder is what a link template holds where the token goes.
const TokenPlaceholder = "{token}"

// Links are the storefront pages that use the tokens: URL templates in
// which TokenPlaceholder stands for the token, such as
// https://shop.example.com/verify?token={token}. An empty template means
// no link: the message carries the token alone.
type Links struct {
	Verify        string
	PasswordReset string
}

// For returns the link of a message of type t with token: the template
// with every TokenPlaceholder replaced by the URL-escaped token; "" when t
// has no token or no template.
func (l Links) For(t Type, token string) string {
	tpl := ""
	switch t {
	case Verification:
		tpl = l.Verify
	case PasswordReset:
		tpl = l.PasswordReset
	}
	if tpl == "" || token == "" {
		return ""
	}
	return strings.ReplaceAll(tpl, TokenPlaceholder, url.QueryEscape(token))
}

// WithLinks returns a Sender that fills in the Link of each token message
// from links before s sends it.
func WithLinks(s Sender, links Links) Sender {
	return SenderFunc(func(ctx context.Context, m Message) error {
		if m.Link == "" {
			m.Link = links.For(m.Type, m.Token)
		}
		return s.Send(ctx, m)
	})
}
