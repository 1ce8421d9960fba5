package app

import (
	"cmp"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/persisted"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/throttle"
)

// WithDefaults returns cfg with every field that config leaves to the
// package using it (see config.Config) set, when zero, to that package's
// default: the table of those defaults, each read from its owner's
// constant, so the effective configuration can be logged, tested and
// handed to the parts of the server that read one setting together (CORS,
// the playground and the middleware all name AUTH_TOKEN_HEADER_KEY). New
// applies it; a command that reads config.Load without New applies it
// too. Fields already set are kept.
func WithDefaults(cfg config.Config) config.Config {
	cfg.AnonymousCartIdleTimeout = cmp.Or(cfg.AnonymousCartIdleTimeout, session.DefaultAnonymousCartIdleTimeout)
	cfg.AnonymousIdleTimeout = cmp.Or(cfg.AnonymousIdleTimeout, session.DefaultAnonymousIdleTimeout)
	cfg.AnonymousSessionDuration = cmp.Or(cfg.AnonymousSessionDuration, session.DefaultAnonymousSessionDuration)
	cfg.APQCacheBytes = cmp.Or(cfg.APQCacheBytes, persisted.DefaultCacheBytes)
	cfg.APQTTL = cmp.Or(cfg.APQTTL, persisted.DefaultTTL)
	cfg.AuthTokenHeaderKey = cmp.Or(cfg.AuthTokenHeaderKey, auth.DefaultAuthTokenHeaderKey)
	cfg.ChannelTokenKey = cmp.Or(cfg.ChannelTokenKey, auth.DefaultChannelTokenKey)
	cfg.CleanSessionsBatchSize = cmp.Or(cfg.CleanSessionsBatchSize, session.DefaultCleanSessionsBatchSize)
	cfg.CleanSessionsSchedule = cmp.Or(cfg.CleanSessionsSchedule, jobs.DefaultSchedule)
	cfg.CleanSessionsTimeBudget = cmp.Or(cfg.CleanSessionsTimeBudget, jobs.DefaultTimeBudget)
	cfg.CookieName = cmp.Or(cfg.CookieName, auth.DefaultCookieName)
	cfg.DBQueryTimeout = cmp.Or(cfg.DBQueryTimeout, database.DefaultQueryTimeout)
	cfg.MaxQueryAliases = cmp.Or(cfg.MaxQueryAliases, gqlutil.DefaultMaxAliases)
	cfg.MaxQueryDepth = cmp.Or(cfg.MaxQueryDepth, gqlutil.DefaultMaxDepth)
	cfg.MaxQueryFields = cmp.Or(cfg.MaxQueryFields, gqlutil.DefaultMaxFields)
	cfg.MaxQueryFragments = cmp.Or(cfg.MaxQueryFragments, gqlutil.DefaultMaxFragments)
	cfg.MaxQueryTokens = cmp.Or(cfg.MaxQueryTokens, gqlutil.DefaultMaxTokens)
	cfg.Notify.MaxAttempts = cmp.Or(cfg.Notify.MaxAttempts, jobs.DefaultNotifyMaxAttempts)
	cfg.Notify.RetryDelay = cmp.Or(cfg.Notify.RetryDelay, jobs.DefaultNotifyRetryDelay)
	cfg.Notify.Timeout = cmp.Or(cfg.Notify.Timeout, notify.DefaultTimeout)
	cfg.PasswordResetTokenDuration = cmp.Or(cfg.PasswordResetTokenDuration, account.DefaultPasswordResetTokenDuration)
	cfg.RememberMeDuration = cmp.Or(cfg.RememberMeDuration, auth.DefaultRememberMeDuration)
	cfg.SessionCacheTTL = cmp.Or(cfg.SessionCacheTTL, auth.DefaultSessionCacheTTL)
	cfg.SessionMetadataRetention = cmp.Or(cfg.SessionMetadataRetention, session.DefaultMetadataRetention)
	cfg.SessionCacheTimeout = cmp.Or(cfg.SessionCacheTimeout, redisstore.DefaultOperationTimeout)
	cfg.SessionDuration = cmp.Or(cfg.SessionDuration, auth.DefaultSessionDuration)
	cfg.Throttle.MemoryKeys = cmp.Or(cfg.Throttle.MemoryKeys, throttle.DefaultMaxKeys)
	cfg.Throttle.RedisTimeout = cmp.Or(cfg.Throttle.RedisTimeout, throttle.DefaultRedisTimeout)
	defaults := ratelimit.DefaultLimits()
	for _, r := range throttleRates(&cfg.Throttle.Limits, &defaults) {
		if *r.config == nil {
			rate := config.Rate(*r.service)
			*r.config = &rate
		}
	}
	cfg.VerificationTokenDuration = cmp.Or(cfg.VerificationTokenDuration, account.DefaultVerificationTokenDuration)
	return cfg
}

// serviceLimits converts THROTTLE_*'s rates to the service's: each rate
// config holds, the default for each it leaves nil.
func serviceLimits(c config.ThrottleLimits) ratelimit.Limits {
	l := ratelimit.DefaultLimits()
	for _, r := range throttleRates(&c, &l) {
		if *r.config != nil {
			*r.service = throttle.Rate(**r.config)
		}
	}
	return l
}

// throttleRates pairs each rate of config's throttle limits with the
// service's.
func throttleRates(c *config.ThrottleLimits, s *ratelimit.Limits) []struct {
	config  **config.Rate
	service *throttle.Rate
} {
	return []struct {
		config  **config.Rate
		service *throttle.Rate
	}{
		{&c.LoginFailures, &s.LoginFailures},
		{&c.LoginFailuresPerIdentifier, &s.LoginFailuresPerIdentifier},
		{&c.LoginFailuresPerAddress, &s.LoginFailuresPerAddress},
		{&c.TokenFailures, &s.TokenFailures},
		{&c.MailRequests, &s.MailRequests},
		{&c.MailsPerEmailAddress, &s.MailsPerEmailAddress},
		{&c.Registrations, &s.Registrations},
		{&c.CheckoutPerSession, &s.CheckoutPerSession},
		{&c.CheckoutPerEmailAddress, &s.CheckoutPerEmailAddress},
		{&c.CheckoutPerAddress, &s.CheckoutPerAddress},
	}
}
