package account

import (
	"context"
	"log/slog"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/service/internal/setup"
)

// Notifier delivers the one-time tokens of customer accounts to their
// owners, typically by e-mail (Vendure publishes AccountRegistrationEvent
// and PasswordResetEvent for its EmailPlugin). Service calls it after
// the token is committed; an error is logged, never shown to the client.
//
// A Notifier must return quickly: it runs only for addresses that have an
// account, so a slow one (an SMTP round trip) would tell a caller by the
// response time whether an address is registered. One that sends e-mail
// should queue the message and return.
type Notifier interface {
	// VerificationToken delivers the token that verifies a new account
	// (verifyCustomerAccount).
	VerificationToken(ctx context.Context, emailAddress, token string) error
	// PasswordResetToken delivers the token that sets a new password
	// (resetPassword).
	PasswordResetToken(ctx context.Context, emailAddress, token string) error
}

// LogNotifier is the default Notifier: it writes each token to the log at
// INFO, so a developer can finish a registration or a reset by hand. The
// address is masked as in the login failure log (MaskIdentifier). Anyone
// who reads the log can use the tokens: replace it in production.
type LogNotifier struct {
	Logger *slog.Logger
}

// VerificationToken logs a verification token.
func (n LogNotifier) VerificationToken(ctx context.Context, emailAddress, token string) error {
	n.log(ctx, "customer verification token", emailAddress, token)
	return nil
}

// PasswordResetToken logs a password reset token.
func (n LogNotifier) PasswordResetToken(ctx context.Context, emailAddress, token string) error {
	n.log(ctx, "customer password reset token", emailAddress, token)
	return nil
}

func (n LogNotifier) log(ctx context.Context, msg, emailAddress, token string) {
	setup.Logger(n.Logger).InfoContext(ctx, msg, "emailAddress", auth.MaskIdentifier(emailAddress), "token", token)
}
