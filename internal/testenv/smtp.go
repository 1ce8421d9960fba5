package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPServer is an SMTP server on loopback (github.com/emersion/go-smtp)
// that keeps every mail it accepts for the test to wait for (NextMail).
type SMTPServer struct {
	// Host and Port are where it listens: 127.0.0.1 and a free port.
	Host string
	Port int

	mails chan ReceivedMail
	users map[string]string

	mu sync.Mutex
	// rejects is how many DATA commands are still to be refused (451).
	rejects int
}

// ReceivedMail is one mail as the server received it.
type ReceivedMail struct {
	From string
	To   []string
	// Data is the message, headers and body, as sent.
	Data []byte
	// TLS reports whether the connection was encrypted (STARTTLS, or
	// TLS from the first byte).
	TLS bool
	// User is the SMTP AUTH user, "" without authentication.
	User string
}

// SMTPOptions configure NewSMTPServer.
type SMTPOptions struct {
	// TLS, when set, offers STARTTLS with this configuration.
	TLS *tls.Config
	// ImplicitTLS speaks TLS (with TLS) from the first byte instead, as
	// an smtps:// server does.
	ImplicitTLS bool
	// Users, when set, are the only user/password pairs AUTH PLAIN
	// accepts, and mail is refused without authentication.
	Users map[string]string
}

// NewSMTPServer starts an SMTP server on 127.0.0.1, stopped when the test
// ends.
func NewSMTPServer(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtp server: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s := &SMTPServer{Host: "127.0.0.1", Port: addr.Port, mails: make(chan ReceivedMail, 64), users: opts.Users}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{server: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = opts.TLS
	srv.ReadTimeout, srv.WriteTimeout = ClientTimeout, ClientTimeout
	srv.MaxMessageBytes = 1 << 20
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// RejectNext makes the server refuse the next n mails with a transient
// error (451) at DATA.
func (s *SMTPServer) RejectNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = n
}

// NextMail returns the oldest mail not yet returned, waiting for one if
// none came yet; it fails the test if none comes within a minute (a guard
// against a broken test, not a timing assertion).
func (s *SMTPServer) NextMail(t testing.TB) ReceivedMail {
	t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(time.Minute):
		t.Fatalf("smtp server: no mail within a minute")
		return ReceivedMail{}
	}
}

// Pending returns the mails received and not yet returned by NextMail,
// without waiting.
func (s *SMTPServer) Pending() []ReceivedMail {
	var out []ReceivedMail
	for {
		select {
		case m := <-s.mails:
			out = append(out, m)
		default:
			return out
		}
	}
}

type smtpSession struct {
	server *SMTPServer
	conn   *smtp.Conn
	mail   ReceivedMail
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) AuthMechanisms() []string {
	if s.server.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if want, ok := s.server.users[username]; !ok || want != password {
			return errors.New("invalid credentials")
		}
		s.mail.User = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.users != nil && s.mail.User == "" {
		return smtp.ErrAuthRequired
	}
	s.mail.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	reject := s.server.rejects > 0
	if reject {
		s.server.rejects--
	}
	s.server.mu.Unlock()
	if reject {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m := s.mail
	m.Data = data
	_, m.TLS = s.conn.TLSConnectionState()
	if _, ok := s.conn.Conn().(*tls.Conn); ok {
		m.TLS = true
	}
	s.server.mails <- m
	return nil
}

func (s *smtpSession) Reset() { s.mail = ReceivedMail{User: s.mail.User} }

func (s *smtpSession) Logout() error { return nil }

// SelfSignedTLS returns a server configuration with a new self-signed
// certificate for 127.0.0.1 and localhost, and the pool that trusts it.
func SelfSignedTLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("self-signed certificate: %v", err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("self-signed certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("self-signed certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}

// ParsedMail is a received mail's parts, decoded.
type ParsedMail struct {
	Header  mail.Header
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts ("" when
	// absent).
	Text string
	HTML string
}

// ParseMail decodes a mail as a mail client would: its headers, and its
// text and HTML parts (multipart/alternative or a single part; quoted
// printable or base64 transfer encodings).
func ParseMail(t testing.TB, data []byte) ParsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("parse mail subject: %v", err)
	}
	out := ParsedMail{Header: msg.Header, Subject: subject}
	var walk func(contentType, encoding string, body io.Reader)
	walk = func(contentType, encoding string, body io.Reader) {
		mediaType, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("parse mail content type %q: %v", contentType, err)
		}
		if strings.HasPrefix(mediaType, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("parse mail part: %v", err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		switch strings.ToLower(encoding) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = newBase64Reader(body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("read mail part: %v", err)
		}
		switch mediaType {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out
}

// newBase64Reader decodes a base64 body broken into lines.
func newBase64Reader(r io.Reader) io.Reader {
	b, err := io.ReadAll(r)
	if err != nil {
		return errReader{err}
	}
	return base64.NewDecoder(base64.StdEncoding, strings.NewReader(strings.Join(strings.Fields(string(b)), "")))
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
