package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/audit"
)

// DeleteSessionsByUser is Vendure's deleteSessionsByUser: it deletes every
// authenticated session of a user and revokes them in the cache (see the
// revocation invariant in cachesync.go). Vendure's logout calls it, and so
// does AuthService's: its sessions count as RevokeLogout.
func (s *Service) DeleteSessionsByUser(ctx context.Context, userID entity.ID) error {
	return RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		return s.DeleteByUser(ctx, t, userID, RevokeLogout)
	})
}

// DeleteSessionsByActiveOrderID is Vendure's deleteSessionsByActiveOrderId:
// it deletes every session, of either kind, whose active order is orderID,
// and revokes them in the cache (see the revocation invariant in
// cachesync.go). They count as RevokeOrder.
func (s *Service) DeleteSessionsByActiveOrderID(ctx context.Context, orderID entity.ID) error {
	return RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		return s.deleteByActiveOrder(ctx, t, orderID)
	})
}

// DeleteByUser deletes the sessions of a user in t for cause and revokes
// them after commit. Only authenticated sessions have a user.
func (s *Service) DeleteByUser(ctx context.Context, t *Tx, userID entity.ID, cause RevokeCause) error {
	return s.deleteAndRevoke(ctx, t, cause, t.NewDelete().Model((*entity.Session)(nil)).Where("user_id = ?", userID))
}

// DeleteByUserExcept deletes, in t, every session of a user but the one
// with id keep (0 keeps none) and revokes them after commit: what a
// password change does to the sessions of the account, keeping the one
// that changed it (RevokePasswordChange).
func (s *Service) DeleteByUserExcept(ctx context.Context, t *Tx, userID, keep entity.ID) error {
	return s.deleteAndRevoke(ctx, t, RevokePasswordChange, t.NewDelete().Model((*entity.Session)(nil)).Where("user_id = ? AND id <> ?", userID, keep))
}

// deleteByActiveOrder deletes the sessions whose active order is orderID in
// t and revokes them after commit.
func (s *Service) deleteByActiveOrder(ctx context.Context, t *Tx, orderID entity.ID) error {
	return s.deleteAndRevoke(ctx, t, RevokeOrder, t.NewDelete().Model((*entity.Session)(nil)).Where("active_order_id = ?", orderID))
}

// DeleteByActiveChannel deletes the sessions whose active channel is
// channelID in t and revokes them after commit: what deleting a channel
// does to the sessions on it (as Vendure; RevokeChannelDeleted).
func (s *Service) DeleteByActiveChannel(ctx context.Context, t *Tx, channelID entity.ID) error {
	return s.deleteAndRevoke(ctx, t, RevokeChannelDeleted, t.NewDelete().Model((*entity.Session)(nil)).Where("active_channel_id = ?", channelID))
}

// DeleteOrderHolders deletes, in t, the sessions whose active order is
// orderID that are guests or userID's own, and revokes them after commit:
// what a login does to the sessions sharing the cart it takes. Another
// account's session is never ended by it (RevokeOrder).
func (s *Service) DeleteOrderHolders(ctx context.Context, t *Tx, orderID, userID entity.ID) error {
	return s.deleteAndRevoke(ctx, t, RevokeOrder, t.NewDelete().Model((*entity.Session)(nil)).
		Where("active_order_id = ? AND (user_id IS NULL OR user_id = ?)", orderID, userID))
}

// DeleteByIDs deletes the sessions with the given ids in t for cause and
// revokes them after commit.
func (s *Service) DeleteByIDs(ctx context.Context, t *Tx, cause RevokeCause, ids ...entity.ID) error {
	if len(ids) == 0 {
		return nil
	}
	return s.deleteAndRevoke(ctx, t, cause, t.NewDelete().Model((*entity.Session)(nil)).Where("id IN (?)", bun.List(ids)))
}

// deleteAndRevoke runs a delete of sessions built by one of the typed
// helpers above and revokes exactly the keys it removed (RETURNING): the
// outbox rows go into t, the evictions run after commit, and so does the
// count of the sessions revoked for cause (Config.Metrics).
func (s *Service) deleteAndRevoke(ctx context.Context, t *Tx, cause RevokeCause, q *bun.DeleteQuery) error {
	_, err := s.deleteAndRevokeCount(ctx, t, cause, q)
	return err
}

// deleteAndRevokeCount is deleteAndRevoke that returns how many sessions
// the delete removed.
func (s *Service) deleteAndRevokeCount(ctx context.Context, t *Tx, cause RevokeCause, q *bun.DeleteQuery) (int, error) {
	var hashes []string
	if err := q.Returning("token_hash").Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	if err := s.revoke(ctx, t, hashes); err != nil {
		return 0, err
	}
	s.recordRevokedOnCommit(t, cause, len(hashes))
	return len(hashes), nil
}

// EvictUserOnCommit revokes, after t commits, every cached session of a
// user, leaving the rows: their next request reads them afresh (new roles,
// new permissions).
func (s *Service) EvictUserOnCommit(ctx context.Context, t *Tx, userID entity.ID) error {
	var hashes []string
	if err := t.NewSelect().Model((*entity.Session)(nil)).Column("token_hash").
		Where("user_id = ?", userID).Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find sessions of user: %w", err)
	}
	return s.revoke(ctx, t, hashes)
}

// CleanExpiredSessions is Vendure's cleanExpiredSessions: it deletes expired
// sessions, anonymous sessions with no active order whose row has not been
// written for AnonymousIdleTimeout, and anonymous sessions with an active
// order (a guest's cart) not written for AnonymousCartIdleTimeout, in
// batches of batchSize until none remain (Vendure deletes one batch per
// run, so a busy site never catches up). It revokes each in the cache and returns how many it deleted. It is
// CleanExpiredSessionsUntil without a deadline.
func (s *Service) CleanExpiredSessions(ctx context.Context, batchSize int) (int, error) {
	removed, _, err := s.CleanExpiredSessionsUntil(ctx, batchSize, time.Time{})
	return removed, err
}

var _ jobs.Cleaner = (*Service)(nil)

// CleanExpiredSessionsUntil is CleanExpiredSessions that stops starting
// batches once deadline has passed (a zero deadline never passes); it
// always runs at least one, so every call makes progress. It returns how
// many sessions it removed and whether none that were due when it started
// remain (done is false when it stopped at the deadline). The
// clean-sessions job calls it (jobs.Cleaner).
//
// It makes three passes, expired sessions, idle guests, then idle guests
// with an order, each one index range in order (session_expires_idx, then
// the partial session_anonymous_idle_idx and
// session_anonymous_cart_idle_idx; one OR of the plans is a a bitmap OR on
// PostgreSQL, which collects every match before the LIMIT, each batch.
// Each batch is its own short transaction (live traffic keeps working
// between them; every statement is bounded by the database's query
// timeout, DB_QUERY_TIMEOUT): one DELETE that picks and removes up to
// batchSize rows and returns their cache keys, plus the outbox rows when
// the cache is shared (on PostgreSQL the same statement writes them);
// after commit, one pipelined eviction per evictionChunk keys of the
// batch. A pass ends with the first batch that removes fewer than
// batchSize rows.
func (s *Service) CleanExpiredSessionsUntil(ctx context.Context, batchSize int, deadline time.Time) (removed int, done bool, err error) {
	if batchSize < 1 {
		return 0, false, fmt.Errorf("clean expired sessions: batch size must be at least 1, got %d", batchSize)
	}
	now := s.nowUTC()
	passes := []cleanPass{
		{name: "expired", reason: CleanExpired, column: "expires", index: "session_expires_idx", where: "expires < ?", before: now},
		{
			name: "idle anonymous", reason: CleanIdleGuest, column: "updated_at", index: "session_anonymous_idle_idx",
			where:  "user_id IS NULL AND active_order_id IS NULL AND updated_at < ?",
			before: now.Add(-s.anonIdle),
		},
		{
			name: "idle anonymous with an order", reason: CleanIdleCart, column: "updated_at", index: "session_anonymous_cart_idle_idx",
			where:  "user_id IS NULL AND active_order_id IS NOT NULL AND updated_at < ?",
			before: now.Add(-s.cartIdle),
		},
	}
	if s.idle > 0 {
		// A session whose last use was never recorded (written before it
		// was) is not in this index; it is refused by the lookup once idle
		// and removed when it expires.
		passes = append(passes, cleanPass{
			name: "idle authenticated", reason: CleanIdleAuthenticated, column: "last_used_at", index: "session_authenticated_last_used_idx",
			where:  "user_id IS NOT NULL AND last_used_at < ?",
			before: now.Add(-s.idle - usageSlack),
		})
	}
	started := false
	for _, p := range passes {
		var from time.Time // the pass's position in its index
		for {
			if started && !deadline.IsZero() && !s.now().Before(deadline) {
				return removed, false, nil
			}
			started = true
			n, last, err := s.cleanBatch(ctx, p, from, batchSize)
			if err != nil {
				return removed, false, fmt.Errorf("clean %s sessions: %w", p.name, err)
			}
			removed += n
			if n > 0 && s.metrics != nil {
				s.metrics.SessionsCleaned(p.reason, n)
			}
			s.log.DebugContext(ctx, "cleaned sessions", "pass", p.name, "batch", n, "total", removed)
			if n < batchSize {
				break
			}
			from = last
		}
	}
	erased, err := s.eraseClientMetadata(ctx, now.Add(-s.retention), batchSize, deadline)
	return removed, erased, err
}

// eraseClientMetadata erases the client address of the audit entries
// written before cutoff (MetadataRetention: the audit log keeps the entry
// and its administrator), then the client address and user agent of the
// sessions created before it, batchSize rows per statement, until none
// remain or deadline has passed (a zero deadline never passes), and
// reports whether none remain. The rows stay; cached sessions hold neither
// value, so the cache is not touched. On PostgreSQL a session row that
// live traffic holds is skipped, and the next run erases it.
func (s *Service) eraseClientMetadata(ctx context.Context, cutoff time.Time, batchSize int, deadline time.Time) (done bool, err error) {
	table, lock := "session", " FOR UPDATE SKIP LOCKED"
	if s.db.Dialect().Name() != dialect.PG {
		table, lock = "session INDEXED BY session_client_metadata_idx", ""
	}
	query := "UPDATE session SET client_address = NULL, user_agent = NULL WHERE id IN (SELECT id FROM " + table +
		" WHERE created_at < ? AND (client_address IS NOT NULL OR user_agent IS NOT NULL) ORDER BY created_at LIMIT ?" + lock + ")"
	for {
		n, err := audit.EraseClientAddresses(ctx, s.db, cutoff, batchSize)
		if err != nil {
			return false, err
		}
		if n < int64(batchSize) {
			break
		}
		if !deadline.IsZero() && !s.now().Before(deadline) {
			return false, nil
		}
	}
	for {
		res, err := s.db.NewRaw(query, cutoff, batchSize).Exec(ctx)
		if err != nil {
			return false, fmt.Errorf("erase client metadata: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("erase client metadata: %w", err)
		}
		if n < int64(batchSize) {
			return true, nil
		}
		if !deadline.IsZero() && !s.now().Before(deadline) {
			return false, nil
		}
	}
}

// cleanPass is one kind of session the clean-up removes: those whose
// column is before a cut-off, under where.
type cleanPass struct {
	name   string
	column string // the indexed column the pass walks, in order
	index  string // the index on it
	where  string // selects the pass's sessions; one ? for before
	before time.Time
	reason CleanReason // what Config.Metrics counts its sessions under
}

// cleanBatch deletes up to batchSize sessions of pass p whose column is at
// or after from (the last batch's highest value, zero for the first: the
// rows before it are gone, and starting past them keeps each batch's index
// scan from walking the dead entries of the batches before), revokes them,
// and returns how many it deleted and the highest column value among them.
func (s *Service) cleanBatch(ctx context.Context, p cleanPass, from time.Time, batchSize int) (n int, last time.Time, err error) {
	where, args := p.where, []any{p.before}
	if !from.IsZero() {
		where += " AND " + p.column + " >= ?"
		args = append(args, from)
	}
	args = append(args, batchSize)
	// MATERIALIZED: the batch is picked once, whatever plan the DELETE
	// gets (a re-scanned LIMIT could pick other rows).
	table := "session"
	if s.db.Dialect().Name() != dialect.PG {
		// Without statistics SQLite picks session_active_order_id_idx
		// for the idle pass (active_order_id IS NULL) and sorts every
		// match, each batch (EXPLAIN QUERY PLAN); PostgreSQL picks both
		// indexes by itself.
		table += " INDEXED BY " + p.index
	}
	pick := "WITH batch AS MATERIALIZED (SELECT id FROM " + table + " WHERE " + where +
		" ORDER BY " + p.column + " LIMIT ?"
	remove := "DELETE FROM session WHERE id IN (SELECT id FROM batch) RETURNING token_hash, " + p.column + " AS mark"
	var rows []cleanedRow
	if s.db.Dialect().Name() == dialect.PG {
		// Lock the picked rows and skip those live traffic holds (a
		// renewal, a new active order) rather than wait: a later run takes
		// them, and a row changed before the lock is checked against
		// where again (it may no longer be idle).
		err = s.deleteBatchPG(ctx, pick+" FOR UPDATE SKIP LOCKED)", remove, args, &rows)
	} else {
		err = s.deleteBatchSQLite(ctx, pick+")", remove, args, &rows)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("delete sessions: %w", err)
	}
	s.evictCleaned(ctx, rows)
	for _, r := range rows {
		if r.Mark.After(last) {
			last = r.Mark
		}
	}
	return len(rows), last, nil
}

// deleteBatchPG deletes a batch on PostgreSQL in one statement, so one
// implicit transaction, one round trip and one commit, which also writes
// the outbox rows when the cache is shared (revoke's work): as two
// statements in BEGIN ... COMMIT the outbox INSERT would cost a round trip
// of its own (docs/benchmarks.md, "Clean-up at scale").
func (s *Service) deleteBatchPG(ctx context.Context, pick, remove string, args []any, rows *[]cleanedRow) error {
	query := pick + ", gone AS (" + remove + ") SELECT token_hash, mark, 0 AS outbox_id FROM gone"
	if s.prober != nil {
		query = pick + ", gone AS (" + remove + "), " +
			"outbox AS (INSERT INTO session_cache_outbox (token_hash, created_at) SELECT token_hash, ? FROM gone RETURNING id, token_hash) " +
			"SELECT gone.token_hash, gone.mark, outbox.id AS outbox_id FROM gone JOIN outbox USING (token_hash)"
		args = append(args, s.nowUTC())
	}
	if err := s.db.NewRaw(query, args...).Scan(ctx, rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// deleteBatchSQLite deletes a batch on SQLite, which has no DELETE in a
// WITH: the DELETE ... RETURNING, then the outbox rows when the cache is
// shared, in one transaction.
func (s *Service) deleteBatchSQLite(ctx context.Context, pick, remove string, args []any, rows *[]cleanedRow) error {
	return RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		if err := t.NewRaw(pick+" "+remove, args...).Scan(ctx, rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if s.prober == nil || len(*rows) == 0 {
			return nil
		}
		now := s.nowUTC()
		outbox := make([]entity.SessionCacheOutbox, len(*rows))
		for i := range *rows {
			outbox[i] = entity.SessionCacheOutbox{TokenHash: &(*rows)[i].TokenHash, CreatedAt: now}
		}
		if _, err := t.NewInsert().Model(&outbox).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("record cache evictions: %w", err)
		}
		for i := range outbox {
			(*rows)[i].OutboxID = outbox[i].ID
		}
		return nil
	})
}

// evictCleaned evicts the keys of a committed batch, evictionChunk keys
// per call, as revoke does after commit, then marks the outbox rows of the
// keys it evicted applied, in one statement: each statement commits, and
// commits are most of a batch's cost with a shared cache (docs/benchmarks.md,
// "Clean-up at scale"). If the cache is down, SyncCache applies the rest.
//
// The mark follows the eviction at once: every instance's SyncCache
// applies whatever is pending, so a row left pending longer (when the
// next batch's statement carried the mark) was applied again by each
// instance, a second Redis load during the clean-up. On PostgreSQL a row a
// SyncCache holds is skipped, not waited for: it is the sync's to mark,
// and the two UPDATEs waiting on each other deadlocked (40P01).
func (s *Service) evictCleaned(ctx context.Context, rows []cleanedRow) {
	// The rows are gone: evict even if the caller has gone too.
	ctx = context.WithoutCancel(ctx)
	evicted := 0
	for chunk := range slices.Chunk(rows, evictionChunk) {
		if !s.cache.delete(ctx, tokenHashes(chunk)...) {
			break
		}
		evicted += len(chunk)
	}
	if s.prober == nil || evicted == 0 {
		return
	}
	ids := make([]entity.ID, evicted)
	for i, r := range rows[:evicted] {
		ids[i] = r.OutboxID
	}
	s.markApplied(ctx, ids)
}

// evictionChunk is how many keys one cache eviction of the clean-up sends
// (one Redis pipeline). A batch of 1,000 is one eviction; a larger batch
// is cut in pieces of this size, so that each stays within
// SESSION_CACHE_TIMEOUT on a loaded machine (a pipeline ten times larger
// can outlast the default), and a timed-out eviction marks the cache down
// (every request reads the database until the next sync).
const evictionChunk = 1000

// cleanedRow is a session the clean-up deleted: its cache key, the value
// of the column the pass walks, and its outbox row's id (PostgreSQL with a
// shared cache).
type cleanedRow struct {
	TokenHash string    `bun:"token_hash"`
	Mark      time.Time `bun:"mark"`
	OutboxID  entity.ID `bun:"outbox_id"`
}

func tokenHashes(rows []cleanedRow) []string {
	hashes := make([]string, len(rows))
	for i, r := range rows {
		hashes[i] = r.TokenHash
	}
	return hashes
}
