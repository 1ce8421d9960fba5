package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/shopsession/sessionserver/service/clientinfo"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/throttle"
)

// The throttling rules live here, once: which flow is limited, by what
// key, counting what. The flows call the Throttle at their start (and
// after a failure, for the rules that count failures); a throttled call is
// refused with *outcome.TooManyRequestsError before any database lookup, password
// hash or mail.
//
// The client address a rule keys on is the request's (clientinfo.With,
// which the request-context middleware sets from the connection's peer or a
// trusted proxy's X-Forwarded-For). An IPv6 address counts by its /64
// prefix, the block one subscriber gets: counting single IPv6 addresses
// would give one client 2^64 budgets.

// Limits are the rates of every throttling rule; a rate with Limit 0 is off.
type Limits struct {
	// LoginFailures bounds the failed logins (wrong password, unknown user)
	// for one identifier from one client address. A stranger's failures
	// from their address do not lock the owner out from another.
	LoginFailures throttle.Rate
	// LoginFailuresPerIdentifier bounds the failed logins for one identifier
	// from all addresses together: a looser ceiling against guessing from
	// many addresses, which does lock the owner out once reached.
	LoginFailuresPerIdentifier throttle.Rate
	// LoginFailuresPerAddress bounds the failed logins from one client
	// address, whatever the identifiers (credential stuffing).
	LoginFailuresPerAddress throttle.Rate
	// TokenFailures bounds the unknown verification and password reset
	// tokens one client address may send (guessing).
	TokenFailures throttle.Rate
	// MailRequests bounds requestPasswordReset and
	// refreshCustomerVerification calls from one client address.
	MailRequests throttle.Rate
	// MailsPerEmailAddress bounds the verification and password reset
	// mails sent to one address, whichever flow sends them. Beyond it no
	// token is issued or sent, the previous one stays valid, and the
	// caller gets the same answer as ever (a different one would tell
	// whether the address has an account).
	MailsPerEmailAddress throttle.Rate
	// Registrations bounds registerCustomerAccount calls from one client
	// address.
	Registrations throttle.Rate
	// CheckoutPerSession, CheckoutPerEmailAddress and CheckoutPerAddress
	// bound setCustomerForOrder calls per session, per e-mail address given
	// and per client address.
	CheckoutPerSession      throttle.Rate
	CheckoutPerEmailAddress throttle.Rate
	CheckoutPerAddress      throttle.Rate
}

// DefaultLimits are the limits the server uses unless configured.
func DefaultLimits() Limits {
	return Limits{
		LoginFailures:              throttle.Rate{Limit: 10, Window: time.Minute},
		LoginFailuresPerIdentifier: throttle.Rate{Limit: 100, Window: 15 * time.Minute},
		LoginFailuresPerAddress:    throttle.Rate{Limit: 50, Window: 15 * time.Minute},
		TokenFailures:              throttle.Rate{Limit: 10, Window: 15 * time.Minute},
		MailRequests:               throttle.Rate{Limit: 20, Window: 15 * time.Minute},
		MailsPerEmailAddress:       throttle.Rate{Limit: 3, Window: time.Hour},
		Registrations:              throttle.Rate{Limit: 10, Window: time.Hour},
		CheckoutPerSession:         throttle.Rate{Limit: 20, Window: 15 * time.Minute},
		CheckoutPerEmailAddress:    throttle.Rate{Limit: 20, Window: 15 * time.Minute},
		CheckoutPerAddress:         throttle.Rate{Limit: 60, Window: 15 * time.Minute},
	}
}

// Limiter counts events per key (package throttle's Memory, Redis or
// Fallback).
type Limiter interface {
	Check(ctx context.Context, rule throttle.Rule, key string) (throttle.Decision, error)
	Add(ctx context.Context, rule throttle.Rule, key string) error
	Take(ctx context.Context, rule throttle.Rule, key string) (throttle.Decision, error)
	Reset(ctx context.Context, rule throttle.Rule, key string) error
}

// Config configures a Throttle.
type Config struct {
	// Limiter counts. Required.
	Limiter Limiter
	// Limits are the rates. The zero value turns every rule off: start
	// from DefaultLimits.
	Limits Limits
	// Logger logs refusals and limiter failures. Defaults to discarding.
	Logger *slog.Logger
	// Metrics receives each refusal. Defaults to none.
	Metrics Recorder
}

// Recorder receives each refusal of a Throttle with the name of the rule
// that refused (one of RuleNames), for metrics (package internal/metrics
// implements it).
type Recorder interface {
	Throttled(rule string)
}

// RuleNames returns the names of every rule, as stored keys and Recorder
// name them.
func RuleNames() []string {
	return []string{
		"login", "login-id", "login-addr", "token", "mail-request", "mail", "register",
		"checkout-session", "checkout-email", "checkout-addr",
	}
}

// Throttle applies Limits. A nil *Throttle allows everything (services
// built without one, as in unit tests).
type Throttle struct {
	limiter Limiter
	log     *slog.Logger
	metrics Recorder // nil: none
	rules   struct {
		login, loginID, loginAddr, token, mailRequest, mail, register throttle.Rule
		checkoutSession, checkoutEmail, checkoutAddr                  throttle.Rule
	}
}

// New returns a Throttle.
func New(cfg Config) (*Throttle, error) {
	if err := setup.Required("throttle", setup.Field{Name: "Limiter", Unset: cfg.Limiter == nil}); err != nil {
		return nil, err
	}
	t := &Throttle{limiter: cfg.Limiter, log: setup.Logger(cfg.Logger), metrics: cfg.Metrics}
	l := cfg.Limits
	r := &t.rules
	// The names are part of the stored keys: renaming one starts its counts
	// afresh.
	r.login = throttle.Rule{Name: "login", Rate: l.LoginFailures}
	r.loginID = throttle.Rule{Name: "login-id", Rate: l.LoginFailuresPerIdentifier}
	r.loginAddr = throttle.Rule{Name: "login-addr", Rate: l.LoginFailuresPerAddress}
	r.token = throttle.Rule{Name: "token", Rate: l.TokenFailures}
	r.mailRequest = throttle.Rule{Name: "mail-request", Rate: l.MailRequests}
	r.mail = throttle.Rule{Name: "mail", Rate: l.MailsPerEmailAddress}
	r.register = throttle.Rule{Name: "register", Rate: l.Registrations}
	r.checkoutSession = throttle.Rule{Name: "checkout-session", Rate: l.CheckoutPerSession}
	r.checkoutEmail = throttle.Rule{Name: "checkout-email", Rate: l.CheckoutPerEmailAddress}
	r.checkoutAddr = throttle.Rule{Name: "checkout-addr", Rate: l.CheckoutPerAddress}
	return t, nil
}

// addressKey is the key of the client address in ctx (addressBlock).
func addressKey(ctx context.Context) string {
	addr := clientinfo.From(ctx).Address
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	return AddressBlock(a).String()
}

// identifierKey is the key of a login identifier: logins match
// identifiers without regard to case.
func identifierKey(api auth.APIType, identifier string) string {
	return string(api) + "\x00" + strings.ToLower(auth.NormalizeIdentifier(identifier))
}

// check refuses when any of the keys is at its limit, with the longest
// wait of them. A limiter error allows (and is logged): the server's
// limiter falls back to memory and never fails.
func (t *Throttle) check(ctx context.Context, take bool, keys ...ruleKey) error {
	var (
		wait    time.Duration
		refused string
	)
	for _, k := range keys {
		var (
			d   throttle.Decision
			err error
		)
		if take {
			d, err = t.limiter.Take(ctx, k.rule, k.key)
		} else {
			d, err = t.limiter.Check(ctx, k.rule, k.key)
		}
		if err != nil {
			t.log.WarnContext(ctx, "throttle check failed; allowed", "rule", k.rule.Name, "err", err)
			continue
		}
		if !d.Allowed && d.RetryAfter >= wait {
			refused, wait = k.rule.Name, d.RetryAfter
		}
	}
	if refused == "" {
		return nil
	}
	if t.metrics != nil {
		t.metrics.Throttled(refused)
	}
	t.log.InfoContext(ctx, "throttled", "rule", refused, "client", clientinfo.From(ctx).Address, "retryAfter", wait)
	return &outcome.TooManyRequestsError{RetryAfter: wait}
}

func (t *Throttle) add(ctx context.Context, keys ...ruleKey) {
	for _, k := range keys {
		if err := t.limiter.Add(ctx, k.rule, k.key); err != nil {
			t.log.WarnContext(ctx, "throttle count failed", "rule", k.rule.Name, "err", err)
		}
	}
}

type ruleKey struct {
	rule throttle.Rule
	key  string
}

func (t *Throttle) loginKeys(ctx context.Context, api auth.APIType, identifier string) []ruleKey {
	id, addr := identifierKey(api, identifier), addressKey(ctx)
	return []ruleKey{
		{t.rules.login, id + "\x00" + addr},
		{t.rules.loginID, id},
		{t.rules.loginAddr, addr},
	}
}

// CheckLogin refuses a login whose identifier has failed too often from
// the request's client address, or too often from everywhere, or whose
// client address has failed too often: before any lookup or hash.
func (t *Throttle) CheckLogin(ctx context.Context, api auth.APIType, identifier string) error {
	if t == nil {
		return nil
	}
	return t.check(ctx, false, t.loginKeys(ctx, api, identifier)...)
}

// LoginDone counts a login's outcome: an *outcome.InvalidCredentialsError is a
// failure for each login rule; a success forgets the failures of the
// identifier from this client address (not the others). Other errors (a
// correct password of an unverified user, a fault) count nothing.
func (t *Throttle) LoginDone(ctx context.Context, api auth.APIType, identifier string, err error) {
	if t == nil {
		return
	}
	keys := t.loginKeys(ctx, api, identifier)
	if _, ok := errors.AsType[*outcome.InvalidCredentialsError](err); ok {
		t.add(ctx, keys...)
		return
	}
	if err == nil {
		if rerr := t.limiter.Reset(ctx, keys[0].rule, keys[0].key); rerr != nil {
			t.log.WarnContext(ctx, "throttle reset failed", "rule", keys[0].rule.Name, "err", rerr)
		}
	}
}

// CheckToken refuses a verification or password reset from a client
// address that sent too many unknown tokens: before the token's lookup.
func (t *Throttle) CheckToken(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.check(ctx, false, ruleKey{t.rules.token, addressKey(ctx)})
}

// TokenDone counts an unknown token (a *outcome.VerificationTokenInvalidError or
// *outcome.PasswordResetTokenInvalidError) against the client address.
func (t *Throttle) TokenDone(ctx context.Context, err error) {
	if t == nil {
		return
	}
	_, verification := errors.AsType[*outcome.VerificationTokenInvalidError](err)
	_, reset := errors.AsType[*outcome.PasswordResetTokenInvalidError](err)
	if verification || reset {
		t.add(ctx, ruleKey{t.rules.token, addressKey(ctx)})
	}
}

// TakeMailRequest counts a requestPasswordReset or
// refreshCustomerVerification, refused beyond MailRequests per client
// address.
func (t *Throttle) TakeMailRequest(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.check(ctx, true, ruleKey{t.rules.mailRequest, addressKey(ctx)})
}

// TakeRegistration counts a registerCustomerAccount, refused beyond
// Registrations per client address.
func (t *Throttle) TakeRegistration(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.check(ctx, true, ruleKey{t.rules.register, addressKey(ctx)})
}

// TakeMail counts a mail to an e-mail address and reports whether it may
// be sent (MailsPerEmailAddress). A refusal is logged, not returned: the
// caller answers as if the mail went out.
func (t *Throttle) TakeMail(ctx context.Context, email string) bool {
	if t == nil {
		return true
	}
	err := t.check(ctx, true, ruleKey{t.rules.mail, strings.ToLower(auth.NormalizeIdentifier(email))})
	if err != nil {
		t.log.WarnContext(ctx, "mail not sent: too many to this address", "emailAddress", auth.MaskIdentifier(email))
		return false
	}
	return true
}

// TakeCheckout counts a setCustomerForOrder, refused beyond the checkout
// limits per session (its token), per e-mail address and per client
// address.
func (t *Throttle) TakeCheckout(ctx context.Context, sessionToken, email string) error {
	if t == nil {
		return nil
	}
	return t.check(ctx, true,
		ruleKey{t.rules.checkoutSession, sessionToken},
		ruleKey{t.rules.checkoutEmail, strings.ToLower(auth.NormalizeIdentifier(email))},
		ruleKey{t.rules.checkoutAddr, addressKey(ctx)})
}

// AddressBlock is what a client address is counted by, here and by the
// Throttle: an IPv4 address (an IPv4-mapped IPv6 one read as IPv4), or an
// IPv6 address's /64, which one client typically holds whole.
func AddressBlock(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}
