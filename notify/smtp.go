package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultTimeout bounds one delivery attempt: the SMTP dialogue from
// connecting to QUIT, or the webhook's request and answer.
const DefaultTimeout = 30 * time.Second

// How an SMTP connection is secured.
const (
	// SMTPStartTLS: plain connect, then STARTTLS, required: a server that
	// does not offer it is an error (smtp://, the default).
	SMTPStartTLS = "starttls"
	// SMTPTLS: TLS from the first byte (smtps://).
	SMTPTLS = "tls"
	// SMTPNoTLS: no TLS at all, for a relay on the same host or network
	// (smtp://…?tls=none).
	SMTPNoTLS = "none"
)

// SMTPConfig configures an SMTP sender.
type SMTPConfig struct {
	// Host and Port are the server's. Required.
	Host string
	Port int
	// Username and Password authenticate (SMTP AUTH, the strongest
	// mechanism both sides have); "" for none.
	Username string
	Password string
	// Security is SMTPStartTLS, SMTPTLS or SMTPNoTLS. Defaults to
	// SMTPStartTLS.
	Security string
	// RootCAs verify the server's certificate. Defaults to the system's
	// (which SSL_CERT_FILE and SSL_CERT_DIR extend).
	RootCAs *x509.CertPool
	// From is the sender, as MAIL_FROM: an address, optionally with a
	// name ("Shop <no-reply@shop.example.com>"). Required.
	From string
	// Templates render the mails. Required.
	Templates *Templates
	// Timeout bounds one delivery. Defaults to DefaultTimeout.
	Timeout time.Duration
}

// SMTP sends each message as one mail, on a connection of its own.
type SMTP struct {
	cfg    SMTPConfig
	domain string // the From address's domain, for Message-IDs
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns an SMTP sender, or an error naming what is missing.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	var errs []error
	if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
		errs = append(errs, errors.New("smtp: a host and a port are required"))
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		errs = append(errs, fmt.Errorf("smtp: the sender %q is not an address: %w", cfg.From, err))
	}
	if cfg.Templates == nil {
		errs = append(errs, errors.New("smtp: templates are required"))
	}
	switch cfg.Security {
	case "":
		cfg.Security = SMTPStartTLS
	case SMTPStartTLS, SMTPTLS, SMTPNoTLS:
	default:
		errs = append(errs, fmt.Errorf("smtp: unknown security %q", cfg.Security))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &SMTP{cfg: cfg, domain: domain}, nil
}

// Send renders m and sends it. The error names the server (host and
// port), never the credentials or the token.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	rendered, err := s.cfg.Templates.Render(m)
	if err != nil {
		return fmt.Errorf("render %s mail: %w", m.Type, err)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail sender: %w", err)
	}
	if err := msg.To(m.EmailAddress); err != nil {
		// Retrying cannot fix the address.
		return &PermanentError{Err: fmt.Errorf("mail recipient: %w", err)}
	}
	msg.Subject(rendered.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	}
	if !m.OccurredAt.IsZero() {
		msg.SetDateWithValue(m.OccurredAt)
	}
	msg.SetBodyString(gomail.TypeTextPlain, rendered.Text)
	if rendered.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, rendered.HTML)
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	client, err := gomail.NewClient(s.cfg.Host, s.options(ctx)...)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr(), err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr(), err)
	}
	return nil
}

func (s *SMTP) addr() string { return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) }

// options are the go-mail client's options for one delivery under ctx.
func (s *SMTP) options(ctx context.Context) []gomail.Option {
	timeout := s.cfg.Timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: s.cfg.RootCAs}),
	}
	switch s.cfg.Security {
	case SMTPTLS:
		opts = append(opts, gomail.WithSSL())
	case SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return opts
}

// PermanentError is a delivery failure that retrying cannot fix (a
// recipient address the mail cannot carry); the job gives up at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
