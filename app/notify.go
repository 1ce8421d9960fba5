package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/service/session"
)

// newSender builds the Sender of the configured notifier (NOTIFIER, or
// the one inferred from SMTP_URL and NOTIFY_WEBHOOK_URL), which fills in
// the storefront links (VERIFY_URL, PASSWORD_RESET_URL). config has
// validated the settings; the mail templates are parsed and tried here, so
// a broken MAIL_TEMPLATES_DIR stops the start.
func newSender(cfg config.Config, log *slog.Logger) (notify.Sender, error) {
	n := cfg.Notify
	var sender notify.Sender
	switch n.Kind() {
	case config.NotifierSMTP:
		u, err := config.ParseSMTPURL(n.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
		templates, err := notify.LoadTemplates(n.MailTemplatesDir)
		if err != nil {
			return nil, fmt.Errorf("MAIL_TEMPLATES_DIR: %w", err)
		}
		if sender, err = notify.NewSMTP(notify.SMTPConfig{
			Host: u.Host, Port: u.Port, Username: u.Username, Password: u.Password, Security: u.Security,
			From: n.MailFrom, Templates: templates, Timeout: n.Timeout,
		}); err != nil {
			return nil, err
		}
		log.Info("notifier: smtp", "host", u.Host, "port", u.Port, "tls", u.Security, "auth", u.Username != "")
		if u.Security == notify.SMTPNoTLS && !config.IsLoopbackHost(u.Host) {
			log.Warn("notifier: SMTP_URL has tls=none for a host that is not this machine: mails, and their tokens, cross the network unencrypted", "host", u.Host)
		}
	case config.NotifierWebhook:
		var err error
		if sender, err = notify.NewWebhook(notify.WebhookConfig{URL: n.WebhookURL, Secret: n.WebhookSecret, Timeout: n.Timeout}); err != nil {
			return nil, err
		}
		u, _ := url.Parse(n.WebhookURL) // validated by config
		log.Info("notifier: webhook", "host", u.Host)
		if u.Scheme == "http" && !config.IsLoopbackHost(u.Hostname()) {
			log.Warn("notifier: NOTIFY_WEBHOOK_URL is http:// for a host that is not this machine: tokens cross the network unencrypted", "host", u.Host)
		}
	default:
		// Tokens reach the log in development only (config refuses an
		// inferred log notifier in production).
		sender = notify.Log{Logger: log, ShowTokens: !cfg.Production()}
		log.Info("notifier: log", "tokens", !cfg.Production())
	}
	return notify.WithLinks(sender, notify.Links{Verify: n.VerifyURL, PasswordReset: n.PasswordResetURL}), nil
}

// jobNotifier is the server's account.Notifier: each message becomes a
// notify job inserted in the transaction that writes what it tells of
// (jobs.Runner.EnqueueNotificationTx), delivered by the configured Sender
// once that transaction commits.
type jobNotifier struct{ app *App }

func (n jobNotifier) Notify(ctx context.Context, t *session.Tx, m notify.Message) error {
	return n.app.Jobs.EnqueueNotificationTx(ctx, t.SQLTx(), m)
}
