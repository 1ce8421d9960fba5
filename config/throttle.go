package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ThrottleConfig is Config.Throttle: the limits on guessing and mail (see
// ratelimit.Limits for what each rule counts). Each rate is read as
// "LIMIT/WINDOW", such as "10/1m" (10 per sliding minute; a bare window is
// seconds), or "off" (the rule allows everything):
//
//	THROTTLE                                on|off   Enabled            default on
//	THROTTLE_LOGIN_FAILURES                 per identifier and client address   10/1m
//	THROTTLE_LOGIN_FAILURES_PER_IDENTIFIER  per identifier, all addresses       100/15m
//	THROTTLE_LOGIN_FAILURES_PER_ADDRESS     per client address                  50/15m
//	THROTTLE_TOKEN_FAILURES                 unknown tokens per client address   10/15m
//	THROTTLE_MAIL_REQUESTS                  reset/verification requests per client address  20/15m
//	THROTTLE_MAILS_PER_EMAIL                mails per e-mail address            3/1h
//	THROTTLE_REGISTRATIONS                  registrations per client address    10/1h
//	THROTTLE_CHECKOUT_PER_SESSION           setCustomerForOrder per session     20/15m
//	THROTTLE_CHECKOUT_PER_EMAIL             setCustomerForOrder per e-mail      20/15m
//	THROTTLE_CHECKOUT_PER_ADDRESS           setCustomerForOrder per client address  60/15m
//	THROTTLE_MEMORY_KEYS                    keys the in-memory limiter holds    100000
//	THROTTLE_REDIS_TIMEOUT                  bound on each Redis call            100ms
//
// The rates' defaults are ratelimit.DefaultLimits, the last two
// throttle.DefaultMaxKeys and throttle.DefaultRedisTimeout; config leaves
// them unset and those packages apply them (see Config).
//
// The counts live in Redis when REDIS_URL is set (shared by every
// instance; during a Redis outage each instance counts in its own memory),
// otherwise in this process's memory.
type ThrottleConfig struct {
	// Enabled turns every rule on or off; off is meant for load tests.
	// Read from THROTTLE.
	//
	// Defaults to true.
	Enabled bool
	// Limits are the rules' rates. Read from the THROTTLE_* variables above.
	//
	// Defaults to ratelimit.DefaultLimits (each rate nil).
	Limits ThrottleLimits
	// MemoryKeys bounds the keys of the in-memory limiter (the only one
	// without Redis, the fallback with it); the least recently used are
	// dropped beyond it. Must be at least 1. Read from THROTTLE_MEMORY_KEYS.
	// Zero means the default of throttle.
	//
	// Defaults to 100000, throttle.DefaultMaxKeys.
	MemoryKeys int
	// RedisTimeout bounds each Redis call of the limiter; a slower call
	// counts in this instance's memory instead. Must be positive. Read from
	// THROTTLE_REDIS_TIMEOUT; a bare number is milliseconds. Zero means the
	// default of throttle.
	//
	// Defaults to 100ms, throttle.DefaultRedisTimeout.
	RedisTimeout time.Duration
}

// ThrottleLimits are the rates of the throttling rules, field for field
// ratelimit.Limits. A nil rate means the rule's default (ratelimit.DefaultLimits);
// the zero Rate turns the rule off.
type ThrottleLimits struct {
	LoginFailures              *Rate // THROTTLE_LOGIN_FAILURES
	LoginFailuresPerIdentifier *Rate // THROTTLE_LOGIN_FAILURES_PER_IDENTIFIER
	LoginFailuresPerAddress    *Rate // THROTTLE_LOGIN_FAILURES_PER_ADDRESS
	TokenFailures              *Rate // THROTTLE_TOKEN_FAILURES
	MailRequests               *Rate // THROTTLE_MAIL_REQUESTS
	MailsPerEmailAddress       *Rate // THROTTLE_MAILS_PER_EMAIL
	Registrations              *Rate // THROTTLE_REGISTRATIONS
	CheckoutPerSession         *Rate // THROTTLE_CHECKOUT_PER_SESSION
	CheckoutPerEmailAddress    *Rate // THROTTLE_CHECKOUT_PER_EMAIL
	CheckoutPerAddress         *Rate // THROTTLE_CHECKOUT_PER_ADDRESS
}

// Rate is one rule's rate, as throttle.Rate: at most Limit events per
// sliding Window. The zero Rate (Limit 0) allows everything.
type Rate struct {
	// Limit is how many events a key may have in any Window; 0 turns the
	// rule off.
	Limit int
	// Window is the length of the sliding window.
	Window time.Duration
}

// rates names each rate of Limits by its variable.
func (t *ThrottleConfig) rates() []struct {
	name string
	rate **Rate
} {
	l := &t.Limits
	return []struct {
		name string
		rate **Rate
	}{
		{"THROTTLE_LOGIN_FAILURES", &l.LoginFailures},
		{"THROTTLE_LOGIN_FAILURES_PER_IDENTIFIER", &l.LoginFailuresPerIdentifier},
		{"THROTTLE_LOGIN_FAILURES_PER_ADDRESS", &l.LoginFailuresPerAddress},
		{"THROTTLE_TOKEN_FAILURES", &l.TokenFailures},
		{"THROTTLE_MAIL_REQUESTS", &l.MailRequests},
		{"THROTTLE_MAILS_PER_EMAIL", &l.MailsPerEmailAddress},
		{"THROTTLE_REGISTRATIONS", &l.Registrations},
		{"THROTTLE_CHECKOUT_PER_SESSION", &l.CheckoutPerSession},
		{"THROTTLE_CHECKOUT_PER_EMAIL", &l.CheckoutPerEmailAddress},
		{"THROTTLE_CHECKOUT_PER_ADDRESS", &l.CheckoutPerAddress},
	}
}

const rateHint = `use LIMIT/WINDOW such as 10/1m or 3/1h, or off`

// ParseRate reads "LIMIT/WINDOW" ("10/1m", "3/1h"; a bare window is
// seconds) or "off" (the zero Rate).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Rate{}, nil
	}
	limit, window, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not a rate", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(limit))
	if err != nil || n < 1 {
		return Rate{}, fmt.Errorf("%q: %q is not a limit of 1 or more", s, limit)
	}
	d, err := ParseDuration(window, time.Second)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q: %q is not a positive window", s, window)
	}
	return Rate{Limit: n, Window: d}, nil
}

// readThrottle reads THROTTLE, THROTTLE_* and TRUSTED_PROXIES.
func (r *envReader) readThrottle(c *Config) {
	r.bool("THROTTLE", &c.Throttle.Enabled)
	for _, v := range c.Throttle.rates() {
		s, ok := r.lookup(v.name)
		if !ok {
			continue
		}
		rate, err := ParseRate(s)
		if err != nil {
			r.fail(v.name, "%v (%s)", err, rateHint)
			continue
		}
		*v.rate = &rate
	}
	r.int("THROTTLE_MEMORY_KEYS", limitHint, &c.Throttle.MemoryKeys)
	r.duration("THROTTLE_REDIS_TIMEOUT", time.Millisecond, &c.Throttle.RedisTimeout)
	if v, ok := r.lookup("TRUSTED_PROXIES"); ok {
		c.TrustedProxies = nil
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
}

// throttleProblems checks the throttle settings and TRUSTED_PROXIES; given
// is problems' (whether a field its consumer defaults holds a value to
// check).
func (c Config) throttleProblems(given func(name string, isZero bool) bool) []error {
	var errs []error
	for _, v := range c.Throttle.rates() {
		if r := *v.rate; r != nil && (r.Limit < 0 || (r.Limit > 0 && r.Window <= 0)) {
			errs = append(errs, fmt.Errorf("%s: %d/%s is not a rate (%s)", v.name, r.Limit, FormatDuration(r.Window), rateHint))
		}
	}
	if given("THROTTLE_MEMORY_KEYS", c.Throttle.MemoryKeys == 0) && c.Throttle.MemoryKeys < 1 {
		errs = append(errs, fmt.Errorf("THROTTLE_MEMORY_KEYS: %d is too small (%s)", c.Throttle.MemoryKeys, limitHint))
	}
	if given("THROTTLE_REDIS_TIMEOUT", c.Throttle.RedisTimeout == 0) && c.Throttle.RedisTimeout <= 0 {
		errs = append(errs, fmt.Errorf("THROTTLE_REDIS_TIMEOUT: %s is not positive (use a duration greater than zero, such as 100ms)", FormatDuration(c.Throttle.RedisTimeout)))
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %v (use CIDRs such as 10.0.0.0/8 or 2001:db8::/32, or single addresses, comma-separated)", err))
	}
	return errs
}
