package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Recorder receives what the session service does, for metrics (package
// internal/metrics implements it). Config.Metrics nil records nothing.
// Every argument is a value of a fixed set declared here, so whatever
// counts them has a bounded number of series; the methods are called on
// the request path and must not block.
type Recorder interface {
	// SessionLookup is called once per GetSessionFromToken, with what it
	// did and how long it took.
	SessionLookup(o LookupOutcome, d time.Duration)
	// SessionCreated is called for each new session: a guest's
	// (CreateAnonymousSession) or, once its transaction commits, a
	// logged-in one's.
	SessionCreated(authenticated bool)
	// GuestRefused is called when CreateAnonymousSession refuses a client
	// past GuestAddressLimit.
	GuestRefused()
	// SessionsRevoked is called once the transaction that deleted n > 0
	// sessions for cause has committed.
	SessionsRevoked(c RevokeCause, n int)
	// SessionsCleaned is called for each batch of n > 0 sessions the
	// clean-up (CleanExpiredSessionsUntil) deleted, with the pass's reason.
	SessionsCleaned(r CleanReason, n int)
	// CacheFailed is called for each failed cache call: op is one of
	// CacheOps, timeout whether it ran out of time.
	CacheFailed(op string, timeout bool)
}

// LookupOutcome is what one GetSessionFromToken did.
type LookupOutcome uint8

// The outcomes of a lookup. Found: LookupCacheHit, LookupCacheMiss,
// LookupStale. Not found: the others.
const (
	// LookupCacheHit: answered from the session cache alone.
	LookupCacheHit LookupOutcome = iota
	// LookupCacheMiss: not in the cache (or the cache was not read: it is
	// down or recovering); read from the database and found.
	LookupCacheMiss
	// LookupStale: in the cache but past its cacheExpiry (or due for a
	// check: a possibly idle session, a cache-only guest due for renewal);
	// checked against the database and found.
	LookupStale
	// LookupNegative: a token remembered as unknown (the negative cache);
	// no database read.
	LookupNegative
	// LookupNotFound: no live session has the token (none ever had, it was
	// deleted, its user was deleted, or it is malformed).
	LookupNotFound
	// LookupExpired: the session's expiry has passed.
	LookupExpired
	// LookupIdle: the session went unused past its idle timeout
	// (AnonymousIdleTimeout, AnonymousCartIdleTimeout, IdleTimeout).
	LookupIdle
	// LookupError: the database read failed or the request ended first.
	LookupError

	numLookupOutcomes = iota
)

var lookupOutcomeNames = [numLookupOutcomes]string{
	"cache_hit", "cache_miss", "stale", "negative", "not_found", "expired", "idle", "error",
}

// String is the outcome's metric label value.
func (o LookupOutcome) String() string {
	if int(o) < len(lookupOutcomeNames) {
		return lookupOutcomeNames[o]
	}
	return fmt.Sprintf("LookupOutcome(%d)", o)
}

// FromCache reports whether the outcome was answered without a database
// read.
func (o LookupOutcome) FromCache() bool { return o == LookupCacheHit || o == LookupNegative }

// LookupOutcomes returns every LookupOutcome, in order.
func LookupOutcomes() []LookupOutcome {
	out := make([]LookupOutcome, numLookupOutcomes)
	for i := range out {
		out[i] = LookupOutcome(i)
	}
	return out
}

// RevokeCause is why sessions were deleted (and revoked in the cache).
type RevokeCause uint8

// The causes of a revocation; each deleting helper is called with one, or
// has one (see each).
const (
	// RevokeLogout: a logout (AuthService.DestroyAuthenticatedSession;
	// DeleteSessionsByUser, Vendure's logout path).
	RevokeLogout RevokeCause = iota
	// RevokePasswordChange: a password change ended the account's other
	// sessions (DeleteByUserExcept).
	RevokePasswordChange
	// RevokePasswordReset: a password set with a one-time token ended
	// every session of the account.
	RevokePasswordReset
	// RevokeAdmin: an administrator ended sessions (EndSessionsByUser,
	// EndSessionsByActiveOrder, EndSession).
	RevokeAdmin
	// RevokeSelfService: a user ended their own sessions
	// (RevokeOwnSession, RevokeOtherOwnSessions).
	RevokeSelfService
	// RevokeUserDeleted: the user was deleted, or their registration
	// expired unverified.
	RevokeUserDeleted
	// RevokeOrder: the sessions held an order that moved on: a login took
	// its cart (DeleteOrderHolders), or DeleteSessionsByActiveOrderID.
	RevokeOrder
	// RevokeChannelDeleted: the sessions were on a deleted channel
	// (DeleteByActiveChannel).
	RevokeChannelDeleted

	numRevokeCauses = iota
)

var revokeCauseNames = [numRevokeCauses]string{
	"logout", "password_change", "password_reset", "admin", "self_service", "user_deleted", "order", "channel_deleted",
}

// String is the cause's metric label value.
func (c RevokeCause) String() string {
	if int(c) < len(revokeCauseNames) {
		return revokeCauseNames[c]
	}
	return fmt.Sprintf("RevokeCause(%d)", c)
}

// RevokeCauses returns every RevokeCause, in order.
func RevokeCauses() []RevokeCause {
	out := make([]RevokeCause, numRevokeCauses)
	for i := range out {
		out[i] = RevokeCause(i)
	}
	return out
}

// CleanReason is the pass of the clean-up that removed a session.
type CleanReason uint8

// The clean-up's passes (CleanExpiredSessionsUntil).
const (
	// CleanExpired: the session's expiry had passed.
	CleanExpired CleanReason = iota
	// CleanIdleGuest: a guest without an active order, idle past
	// AnonymousIdleTimeout.
	CleanIdleGuest
	// CleanIdleCart: a guest with an active order, idle past
	// AnonymousCartIdleTimeout.
	CleanIdleCart
	// CleanIdleAuthenticated: a logged-in session unused past IdleTimeout.
	CleanIdleAuthenticated

	numCleanReasons = iota
)

var cleanReasonNames = [numCleanReasons]string{"expired", "idle_guest", "idle_cart", "idle_authenticated"}

// String is the reason's metric label value.
func (r CleanReason) String() string {
	if int(r) < len(cleanReasonNames) {
		return cleanReasonNames[r]
	}
	return fmt.Sprintf("CleanReason(%d)", r)
}

// CleanReasons returns every CleanReason, in order.
func CleanReasons() []CleanReason {
	out := make([]CleanReason, numCleanReasons)
	for i := range out {
		out[i] = CleanReason(i)
	}
	return out
}

// CacheOps are the ops Recorder.CacheFailed names: the cache calls of a
// request (get, set, delete, clear) and of the background sync (probe, and
// sync for a round that could not finish).
func CacheOps() []string { return []string{"get", "set", "delete", "clear", "probe", "sync"} }

// CacheState is the session cache guard's state.
type CacheState string

// The guard's states (cacheguard.go).
const (
	// CacheStateHealthy: requests read and write the cache.
	CacheStateHealthy CacheState = "healthy"
	// CacheStateRecovering: the cache answers again; writes go to it,
	// reads wait until the evictions it missed are applied.
	CacheStateRecovering CacheState = "recovering"
	// CacheStateDown: a call failed; requests use the database alone until
	// the background sync finds the cache answering.
	CacheStateDown CacheState = "down"
)

// String is the state's metric label value.
func (c CacheState) String() string { return string(c) }

// CacheStates returns every CacheState.
func CacheStates() []CacheState {
	return []CacheState{CacheStateHealthy, CacheStateRecovering, CacheStateDown}
}

// CacheState returns the cache guard's state now.
func (s *Service) CacheState() CacheState {
	switch s.cache.state.Load() {
	case cacheHealthy:
		return CacheStateHealthy
	case cacheRecovering:
		return CacheStateRecovering
	default:
		return CacheStateDown
	}
}

// SharesCache reports whether the cache is shared between instances
// (Redis): only then do evictions go through the outbox.
func (s *Service) SharesCache() bool { return s.prober != nil }

// OutboxBacklog returns how many cache evictions (and clears) wait in the
// outbox to be applied, and the time the oldest of them was recorded (zero
// when none wait). With a cache that is not shared the outbox is not used:
// 0 and the zero time. Two indexed reads, bounded by the query timeout.
func (s *Service) OutboxBacklog(ctx context.Context) (pending int, oldest time.Time, err error) {
	if s.prober == nil {
		return 0, time.Time{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	n, err := s.db.NewSelect().Model((*entity.SessionCacheOutbox)(nil)).Where("applied_at IS NULL").Count(ctx)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending cache evictions: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var first entity.SessionCacheOutbox
	err = s.db.NewSelect().Model(&first).Column("created_at").Where("applied_at IS NULL").
		Order("id").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil // applied meanwhile
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read the oldest pending cache eviction: %w", err)
	}
	return int(n), first.CreatedAt, nil
}

// record passes a failed cache call to the Recorder.
func (g *cacheGuard) record(op string, err error) {
	if g.metrics != nil {
		g.metrics.CacheFailed(op, isTimeout(err))
	}
}

// isTimeout reports whether err is a call running out of time: its
// deadline, or a network timeout (Redis's read or write timeout).
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Errors of findSessionByTokenHash that tell why a stored session is not
// found (the lookup's outcome); both are outcome.ErrNotFound.
var (
	errSessionExpired = fmt.Errorf("%w: the session expired", outcome.ErrNotFound)
	errSessionIdle    = fmt.Errorf("%w: the session was idle too long", outcome.ErrNotFound)
)

// notFoundOutcome is the lookup outcome of a not-found error of
// findSessionByTokenHash.
func notFoundOutcome(err error) LookupOutcome {
	switch {
	case errors.Is(err, errSessionExpired):
		return LookupExpired
	case errors.Is(err, errSessionIdle):
		return LookupIdle
	default:
		return LookupNotFound
	}
}

// recordCreated counts a new session.
func (s *Service) recordCreated(authenticated bool) {
	if s.metrics != nil {
		s.metrics.SessionCreated(authenticated)
	}
}

// recordRevokedOnCommit counts n sessions revoked for cause once t
// commits.
func (s *Service) recordRevokedOnCommit(t *Tx, cause RevokeCause, n int) {
	if s.metrics == nil || n == 0 {
		return
	}
	t.OnCommit(func(context.Context) { s.metrics.SessionsRevoked(cause, n) })
}
