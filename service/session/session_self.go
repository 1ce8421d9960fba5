package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Self-service sessions: a signed-in user lists its own live sessions
// (activeSessions), ends one of them (revokeSession) or every other one
// (revokeOtherSessions), on either API. The sessions are ended through the
// owner's revoking helper (deleteAndRevokeCount: DELETE … RETURNING, the
// outbox rows in the transaction, eviction after commit), so an ended token
// is refused on every instance.
//
// A session is live while it has not expired and is not invalidated, as
// the lookup reads it; the list and both deletions use that one rule, so a
// count answers what the list showed. An expired row the clean-up has not
// reached yet is neither listed nor counted (it is refused already).

// MaxActiveSessions is how many sessions ListOwnSessions returns at most:
// the most recently used ones.
const MaxActiveSessions = 100

// Self is the caller of a self-service operation: a logged-in user and the
// session it calls with.
type Self struct {
	UserID entity.ID
	// SessionID is the session the request is made with: the one marked
	// current, and the one RevokeOtherOwnSessions keeps.
	SessionID entity.ID
	// Audit, when set, is who the audit log records the ended sessions
	// under: an administrator ending its own sessions on the Admin API,
	// as every session an administrator ends is recorded. Nil records
	// nothing (a customer's sign-out of its own devices is not an
	// administrative change).
	Audit *audit.Actor
}

// check refuses a caller that is not a logged-in user's session.
func (self Self) check() error {
	if self.UserID == 0 || self.SessionID == 0 {
		return outcome.ErrForbidden
	}
	return nil
}

// ListOwnSessions returns the live sessions of the caller's user, on every
// channel, most recently used first (last use, or creation for a session
// not used since), at most MaxActiveSessions; the caller's own is marked
// Current. It is one query on the session table by user_id
// (session_user_created_idx), joined to the user by primary key.
func (s *Service) ListOwnSessions(ctx context.Context, self Self) ([]*Info, error) {
	if err := self.check(); err != nil {
		return nil, err
	}
	var rows []infoRow
	err := s.db.NewSelect().TableExpr("session AS s").
		ColumnExpr(infoColumns).
		ColumnExpr("u.identifier AS user_identifier").
		ColumnExpr(isAdministrator+" AS user_administrator").
		Join(`LEFT JOIN "user" AS u ON u.id = s.user_id`).
		Where("s.user_id = ?", self.UserID).
		ApplyQueryBuilder(s.liveSessions("s.")).
		OrderExpr("COALESCE(s.last_used_at, s.created_at) DESC, s.id DESC").
		Limit(MaxActiveSessions).
		Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list own sessions: %w", err)
	}
	out := make([]*Info, len(rows))
	for i, r := range rows {
		out[i] = r.info(self.SessionID)
	}
	return out, nil
}

// RevokeOwnSession ends the caller's live session with id, and reports
// whether it did: false when the caller's user has no live session with
// that id, whether no session has it or another user's does (the caller
// cannot tell them apart). Ending the caller's own current session is
// allowed (a logout; the caller clears its token). With self.Audit set, the
// attempt is recorded in the same transaction, with how many ended.
func (s *Service) RevokeOwnSession(ctx context.Context, self Self, id entity.ID) (bool, error) {
	if err := self.check(); err != nil {
		return false, err
	}
	var n int
	err := RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		var err error
		q := t.NewDelete().Model((*entity.Session)(nil)).Where("id = ? AND user_id = ?", id, self.UserID)
		n, err = s.deleteAndRevokeCount(ctx, t, RevokeSelfService, q.ApplyQueryBuilder(s.liveSessions("")))
		if err != nil {
			return err
		}
		return self.record(ctx, t, s.now(), audit.Session, id, fmt.Sprintf("own session: %d ended", n))
	})
	return n > 0, err
}

// RevokeOtherOwnSessions ends every live session of the caller's user but
// the caller's own, as a password change does (DeleteByUserExcept, which
// also removes expired rows and counts nothing), and returns how many it
// ended: the count of what activeSessions listed besides the caller's. With self.Audit set, it is recorded in the
// same transaction.
func (s *Service) RevokeOtherOwnSessions(ctx context.Context, self Self) (int, error) {
	if err := self.check(); err != nil {
		return 0, err
	}
	var n int
	err := RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		var err error
		q := t.NewDelete().Model((*entity.Session)(nil)).Where("user_id = ? AND id <> ?", self.UserID, self.SessionID)
		n, err = s.deleteAndRevokeCount(ctx, t, RevokeSelfService, q.ApplyQueryBuilder(s.liveSessions("")))
		if err != nil {
			return err
		}
		return self.record(ctx, t, s.now(), audit.User, self.UserID, fmt.Sprintf("own other sessions: %d ended", n))
	})
	return n, err
}

// liveSessions adds to a query of the session table (its columns prefixed
// with alias) the rule of a live logged-in session as the lookup applies
// it: not expired, not invalidated, and, with an idle timeout, used within
// it (see sessionOfRows).
func (s *Service) liveSessions(alias string) func(bun.QueryBuilder) bun.QueryBuilder {
	now := s.nowUTC()
	return func(q bun.QueryBuilder) bun.QueryBuilder {
		q = q.Where(alias+"expires > ? AND "+alias+"invalidated = FALSE", now)
		if s.idle > 0 {
			cutoff := now.Add(-s.idle - usageSlack)
			q = q.Where("("+alias+"last_used_at >= ? OR "+alias+"updated_at >= ?)", cutoff, cutoff)
		}
		return q
	}
}

// record writes the audit entry of a self-service deletion when self is
// audited.
func (self Self) record(ctx context.Context, t *Tx, now time.Time, of string, id entity.ID, detail string) error {
	if self.Audit == nil {
		return nil
	}
	return audit.Record(ctx, t, now, *self.Audit, audit.Entry{
		Action: audit.SessionsEnded, EntityType: of, EntityID: audit.IDOf(id), Detail: detail,
	})
}

// DeviceType is the kind of device a session's User-Agent names.
type DeviceType string

// The device types. DeviceBot is a crawler or another client that is not
// a browser (the parser counts curl among them); DeviceUnknown is a
// session without a User-Agent, or one the parser does not recognise.
const (
	DeviceDesktop DeviceType = "DESKTOP"
	DeviceMobile  DeviceType = "MOBILE"
	DeviceTablet  DeviceType = "TABLET"
	DeviceTV      DeviceType = "TV"
	DeviceBot     DeviceType = "BOT"
	DeviceUnknown DeviceType = "UNKNOWN"
)

// deviceTypes maps the parser's device names to ours.
var deviceTypes = map[agents.Device]DeviceType{
	agents.DeviceDesktop: DeviceDesktop,
	agents.DeviceMobile:  DeviceMobile,
	agents.DeviceTablet:  DeviceTablet,
	agents.DeviceTV:      DeviceTV,
	agents.DeviceBot:     DeviceBot,
}

// Client is what a User-Agent header says of its client: the browser and
// the operating system ("" when it names none the parser knows) and the
// kind of device.
type Client struct {
	Browser         string
	OperatingSystem string
	DeviceType      DeviceType
}

// ParseUserAgent reads a User-Agent header (github.com/medama-io/go-useragent:
// a trie of known tokens built once, on first use, from the definitions the
// library embeds; a parse walks the header once and allocates nothing). An
// empty header is an unknown client. Sessions keep the header and are
// described when they are shown, so a newer parser describes old sessions
// too.
func ParseUserAgent(header string) Client {
	if header == "" {
		return Client{DeviceType: DeviceUnknown}
	}
	ua := useragent.NewParser().Parse(header)
	dev, ok := deviceTypes[ua.Device()]
	if !ok {
		dev = DeviceUnknown
	}
	return Client{Browser: string(ua.Browser()), OperatingSystem: string(ua.OS()), DeviceType: dev}
}
