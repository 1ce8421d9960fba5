package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NotifyConfig is Config.Notify: how the messages of the account flows
// (verification and password reset tokens, and the security notices)
// reach customers. Each is delivered by a River job, retried with backoff
// (docs/notifications.md):
//
//	NOTIFIER               log | smtp | webhook        Notifier        default: inferred, see Kind
//	SMTP_URL               smtp[s]://[user:pass@]host[:port][?tls=none]   SMTPURL
//	MAIL_FROM              the sender of the mails     MailFrom
//	MAIL_TEMPLATES_DIR     mail templates replacing the defaults           MailTemplatesDir
//	VERIFY_URL             storefront link with {token}                    VerifyURL
//	PASSWORD_RESET_URL     storefront link with {token}                    PasswordResetURL
//	NOTIFY_WEBHOOK_URL     receives each message as a signed JSON POST     WebhookURL
//	NOTIFY_WEBHOOK_SECRET  signs the webhook's requests                    WebhookSecret
//	NOTIFY_NEW_SIGN_IN     the new-sign-in notice                          NewSignIn      default off
//	NOTIFY_MAX_ATTEMPTS    attempts per message                            MaxAttempts    default 10
//	NOTIFY_RETRY_DELAY     wait after the first failure, doubling          RetryDelay     default 30s
//	NOTIFY_TIMEOUT         bound on one delivery attempt                   Timeout        default 30s
type NotifyConfig struct {
	// Notifier is how messages are delivered: "log" (written to the log;
	// tokens only outside production), "smtp" (mailed through SMTPURL) or
	// "webhook" (POSTed to WebhookURL). Empty means inferred (Kind). With
	// APP_ENV=production the log is refused unless it is named here. Read
	// from NOTIFIER; empty is the same as unset.
	//
	// Defaults to "" (inferred).
	Notifier string

	// SMTPURL is the mail server: smtp://[user:password@]host[:port],
	// which must offer STARTTLS (port 587 by default), smtps://… for TLS
	// from the first byte (port 465), or smtp://…?tls=none for a relay
	// without TLS on the same host or network (port 25). The user and
	// password are URL-encoded. Read from SMTP_URL; its password never
	// appears in a message or a log.
	//
	// Defaults to "" (no SMTP).
	SMTPURL string

	// MailFrom is the sender of the mails, an address with an optional
	// name ("Shop <no-reply@shop.example.com>"). Required with the smtp
	// notifier. Read from MAIL_FROM.
	//
	// Defaults to "".
	MailFrom string

	// MailTemplatesDir holds mail templates that replace the embedded
	// defaults, file for file (<type>.txt, <type>.html; see
	// docs/notifications.md). Read from MAIL_TEMPLATES_DIR.
	//
	// Defaults to "" (the embedded templates).
	MailTemplatesDir string

	// VerifyURL is the storefront page that verifies an account: an
	// absolute http(s) URL in which {token} stands for the URL-escaped
	// verification token, such as https://shop.example.com/verify?token={token}.
	// Empty sends the token without a link. Read from VERIFY_URL.
	//
	// Defaults to "".
	VerifyURL string

	// PasswordResetURL is VerifyURL for the password reset token. Read
	// from PASSWORD_RESET_URL.
	//
	// Defaults to "".
	PasswordResetURL string

	// WebhookURL receives each message as a JSON POST signed with
	// WebhookSecret (Standard Webhooks headers). An absolute http(s) URL;
	// use https unless the receiver is on the same host or network. Read
	// from NOTIFY_WEBHOOK_URL.
	//
	// Defaults to "" (no webhook).
	WebhookURL string

	// WebhookSecret signs the webhook's requests (HMAC-SHA256): at least
	// 16 bytes, or a Standard Webhooks secret ("whsec_" and base64).
	// Required with the webhook notifier. Read from NOTIFY_WEBHOOK_SECRET;
	// it never appears in a message or a log.
	//
	// Defaults to "".
	WebhookSecret string

	// NewSignIn sends a customer the new-sign-in notice after each login
	// with its password on the Shop API. Read from NOTIFY_NEW_SIGN_IN.
	//
	// Defaults to false.
	NewSignIn bool

	// MaxAttempts is how many times a message's delivery is tried before
	// its job is FAILED; at least 1. Read from NOTIFY_MAX_ATTEMPTS. Zero
	// means the default of the job runner.
	//
	// Defaults to 10, jobs.DefaultNotifyMaxAttempts.
	MaxAttempts int

	// RetryDelay is the wait after a delivery's first failed attempt; it
	// doubles after each further one, up to an hour. Must be positive. Read
	// from NOTIFY_RETRY_DELAY; a bare number is seconds. Zero means the
	// default of the job runner.
	//
	// Defaults to 30s, jobs.DefaultNotifyRetryDelay.
	RetryDelay time.Duration

	// Timeout bounds one delivery attempt: the SMTP dialogue, or the
	// webhook's request until its answer. Must be positive. Read from
	// NOTIFY_TIMEOUT; a bare number is seconds. Zero means the default of
	// notify.
	//
	// Defaults to 30s, notify.DefaultTimeout.
	Timeout time.Duration
}

// Values of NotifyConfig.Notifier.
const (
	NotifierLog     = "log"
	NotifierSMTP    = "smtp"
	NotifierWebhook = "webhook"
)

// Kind is the notifier in use: Notifier when set, otherwise "smtp" when
// only SMTPURL is set, "webhook" when only WebhookURL is, and "log" when
// neither is (both set without Notifier is an error of Validate, and Kind
// says "log").
func (n NotifyConfig) Kind() string {
	if n.Notifier != "" {
		return n.Notifier
	}
	switch {
	case n.SMTPURL != "" && n.WebhookURL == "":
		return NotifierSMTP
	case n.WebhookURL != "" && n.SMTPURL == "":
		return NotifierWebhook
	}
	return NotifierLog
}

// minWebhookSecret is the shortest NOTIFY_WEBHOOK_SECRET accepted.
const minWebhookSecret = 16

// Hints of the notification settings.
const (
	notifierHint    = "use log, smtp or webhook"
	smtpHint        = "use smtp://[user:password@]host[:port] (STARTTLS), smtps://… (TLS) or smtp://host[:port]?tls=none for a relay without TLS"
	mailFromHint    = `use an address, optionally with a name, such as "Shop <no-reply@shop.example.com>"`
	linkHint        = "use an absolute http(s) URL with {token} where the token goes, such as https://shop.example.com/verify?token={token}"
	webhookHint     = "use an absolute http(s) URL such as https://hooks.example.com/shop"
	attemptsHint    = "use 1 or more"
	smtpDefaultPort = 587
)

// SMTPURL is a parsed SMTP_URL.
type SMTPURL struct {
	Host string
	Port int
	// Username and Password are "" for no authentication.
	Username string
	Password string
	// Security is "starttls" (smtp://, required), "tls" (smtps://) or
	// "none" (smtp://…?tls=none), the values notify.SMTPConfig takes.
	Security string
}

// ParseSMTPURL reads an SMTP_URL (see NotifyConfig.SMTPURL). Its errors
// never contain the password.
func ParseSMTPURL(raw string) (SMTPURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPURL{}, errors.New("is not a URL")
	}
	var out SMTPURL
	switch u.Scheme {
	case "smtp":
		out.Security, out.Port = "starttls", smtpDefaultPort
	case "smtps":
		out.Security, out.Port = "tls", 465
	default:
		return SMTPURL{}, errors.New("is not an smtp:// or smtps:// URL")
	}
	if out.Host = u.Hostname(); out.Host == "" {
		return SMTPURL{}, errors.New("has no host")
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.Opaque != "" {
		return SMTPURL{}, errors.New("has a path or a fragment (give scheme, credentials, host and port only)")
	}
	q := u.Query()
	for key, values := range q {
		if key != "tls" {
			return SMTPURL{}, fmt.Errorf("has an unknown parameter %q (only tls=none is accepted)", key)
		}
		if len(values) != 1 || values[0] != "none" || u.Scheme != "smtp" {
			return SMTPURL{}, errors.New("has a tls parameter other than tls=none on smtp:// (smtp:// requires STARTTLS unless tls=none; smtps:// is TLS)")
		}
		out.Security, out.Port = "none", 25
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPURL{}, fmt.Errorf("has port %q (%s)", p, portHint)
		}
		out.Port = n
	}
	if u.User != nil {
		out.Username = u.User.Username()
		out.Password, _ = u.User.Password()
		if out.Username == "" && out.Password != "" {
			return SMTPURL{}, errors.New("has a password without a user")
		}
	}
	return out, nil
}

// readNotify reads NOTIFIER and the settings of NotifyConfig.
func (r *envReader) readNotify(c *Config) {
	n := &c.Notify
	r.word("NOTIFIER", &n.Notifier)
	if v, ok := r.lookup("SMTP_URL"); ok {
		n.SMTPURL = strings.TrimSpace(v)
	}
	r.string("MAIL_FROM", &n.MailFrom)
	r.string("MAIL_TEMPLATES_DIR", &n.MailTemplatesDir)
	if v, ok := r.lookup("VERIFY_URL"); ok {
		n.VerifyURL = strings.TrimSpace(v)
	}
	if v, ok := r.lookup("PASSWORD_RESET_URL"); ok {
		n.PasswordResetURL = strings.TrimSpace(v)
	}
	if v, ok := r.lookup("NOTIFY_WEBHOOK_URL"); ok {
		n.WebhookURL = strings.TrimSpace(v)
	}
	r.string("NOTIFY_WEBHOOK_SECRET", &n.WebhookSecret)
	r.bool("NOTIFY_NEW_SIGN_IN", &n.NewSignIn)
	r.int("NOTIFY_MAX_ATTEMPTS", attemptsHint, &n.MaxAttempts)
	r.duration("NOTIFY_RETRY_DELAY", time.Second, &n.RetryDelay)
	r.duration("NOTIFY_TIMEOUT", time.Second, &n.Timeout)
}

// notifyProblems checks the notification settings; given is problems'.
func (c Config) notifyProblems(given func(name string, isZero bool) bool) []error {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, errors.New(name+": "+fmt.Sprintf(format, args...)))
	}
	n := c.Notify
	switch n.Notifier {
	case "", NotifierLog, NotifierSMTP, NotifierWebhook:
	default:
		fail("NOTIFIER", "%q is not a notifier (%s)", n.Notifier, notifierHint)
	}
	if n.Notifier == "" && n.SMTPURL != "" && n.WebhookURL != "" {
		fail("NOTIFIER", "is unset while both SMTP_URL and NOTIFY_WEBHOOK_URL are set (set NOTIFIER=smtp or NOTIFIER=webhook)")
	}
	kind := n.Kind()
	if c.Production() && kind == NotifierLog && n.Notifier == "" {
		fail("NOTIFIER", "APP_ENV=production needs a notifier that reaches customers: set SMTP_URL (with MAIL_FROM) or NOTIFY_WEBHOOK_URL (with NOTIFY_WEBHOOK_SECRET); NOTIFIER=log keeps the log notifier, which in production logs no token")
	}
	// A setting the notifier in use does not read is a mistake too: an
	// operator who set it expects it to act.
	unused := func(name, value, want string) {
		if value != "" && kind != want {
			fail(name, "is set but the notifier is %s (it is read by NOTIFIER=%s only)", kind, want)
		}
	}
	unused("SMTP_URL", n.SMTPURL, NotifierSMTP)
	unused("MAIL_FROM", n.MailFrom, NotifierSMTP)
	unused("MAIL_TEMPLATES_DIR", n.MailTemplatesDir, NotifierSMTP)
	unused("NOTIFY_WEBHOOK_URL", n.WebhookURL, NotifierWebhook)
	unused("NOTIFY_WEBHOOK_SECRET", n.WebhookSecret, NotifierWebhook)

	switch kind {
	case NotifierSMTP:
		if n.SMTPURL == "" {
			fail("SMTP_URL", "is empty but NOTIFIER is smtp (%s)", smtpHint)
		} else if _, err := ParseSMTPURL(n.SMTPURL); err != nil {
			fail("SMTP_URL", "%q %v (%s)", redact(n.SMTPURL), err, smtpHint)
		}
		if n.MailFrom == "" {
			fail("MAIL_FROM", "is empty but NOTIFIER is smtp (%s)", mailFromHint)
		} else if _, err := mail.ParseAddress(n.MailFrom); err != nil {
			fail("MAIL_FROM", "%q is not an address (%s)", n.MailFrom, mailFromHint)
		}
	case NotifierWebhook:
		if n.WebhookURL == "" {
			fail("NOTIFY_WEBHOOK_URL", "is empty but NOTIFIER is webhook (%s)", webhookHint)
		} else if !isHTTPURL(n.WebhookURL) {
			fail("NOTIFY_WEBHOOK_URL", "%q is not an http(s) URL (%s)", redact(n.WebhookURL), webhookHint)
		}
		switch {
		case n.WebhookSecret == "":
			fail("NOTIFY_WEBHOOK_SECRET", "is empty but NOTIFIER is webhook (use at least %d random bytes, or a whsec_ secret)", minWebhookSecret)
		case !strings.HasPrefix(n.WebhookSecret, "whsec_") && len(n.WebhookSecret) < minWebhookSecret:
			// A secret: its length is said, never its value.
			fail("NOTIFY_WEBHOOK_SECRET", "is %d bytes long (use at least %d random bytes, or a whsec_ secret)", len(n.WebhookSecret), minWebhookSecret)
		}
	}
	for _, link := range []struct{ name, value string }{{"VERIFY_URL", n.VerifyURL}, {"PASSWORD_RESET_URL", n.PasswordResetURL}} {
		if link.value != "" && (!isHTTPURL(link.value) || !strings.Contains(link.value, "{token}")) {
			fail(link.name, "%q is not a link template (%s)", redact(link.value), linkHint)
		}
	}
	if given("NOTIFY_MAX_ATTEMPTS", n.MaxAttempts == 0) && n.MaxAttempts < 1 {
		fail("NOTIFY_MAX_ATTEMPTS", "%d is too small (%s)", n.MaxAttempts, attemptsHint)
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"NOTIFY_RETRY_DELAY", n.RetryDelay}, {"NOTIFY_TIMEOUT", n.Timeout}} {
		if given(d.name, d.value == 0) && d.value <= 0 {
			fail(d.name, "%s is not positive (use a duration greater than zero, such as 30s)", FormatDuration(d.value))
		}
	}
	return errs
}

// isHTTPURL reports whether s is an absolute http or https URL with a
// host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != ""
}

// IsLoopbackHost reports whether host names this machine: localhost or a
// loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
