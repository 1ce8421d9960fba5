package access

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// Defaults and bounds of the channel snapshot's loads.
const (
	// channelReloadInterval is how often, at most, a request naming an
	// unknown channel token makes the service re-read the channel table
	// (to see a channel another instance made less than a sync ago).
	channelReloadInterval = time.Second
	// unknownChannelTTL is how long a token that a fresh load did not find
	// starts no other load.
	unknownChannelTTL = 5 * time.Second
	// unknownChannelCap bounds the tokens remembered as unknown.
	unknownChannelCap = 1024
	// DefaultChannelLoadTimeout bounds a load of the channel table that no
	// caller's deadline bounds (ChannelConfig.LoadTimeout).
	DefaultChannelLoadTimeout = 5 * time.Second
)

// ChannelService resolves channel tokens from an in-memory snapshot of the
// channel table, so choosing the channel of a request does no query.
//
// Every instance holds its own snapshot. A change made here reloads it
// after commit; a change made on another instance bumps the access version
// (change_version) in its transaction, and Sync, which the session cache
// sync runs every second, reloads the snapshot when it sees a newer
// version. A request naming a token the snapshot lacks reloads at most once
// per channelReloadInterval, through one shared load that it waits on no
// longer than its own context allows; a token that a fresh load did not find
// is remembered for unknownChannelTTL and starts no load meanwhile.
type ChannelService struct {
	db          *bun.DB
	sessions    *session.Service
	log         *slog.Logger
	now         func() time.Time
	changed     AccessChangeFunc
	loadTimeout time.Duration

	snapshot atomic.Pointer[channelSnapshot]
	loads    singleflight.Group // the one load of the table in flight
	lastTry  atomic.Int64       // UnixNano of the last load an unknown token claimed
	unknown  *unknownTokens
	synced   atomic.Int64 // the access version Sync last saw; -1 before the first load
}

// AccessChangeFunc is called after a committed change to a channel or a role:
// cached sessions carry channel permissions, so they must be dropped.
type AccessChangeFunc func(ctx context.Context)

type channelSnapshot struct {
	version  int64 // the access version read before the channels
	byToken  map[string]*entity.Channel
	byID     map[entity.ID]*entity.Channel
	fallback *entity.Channel // the default channel
}

// ChannelConfig configures a ChannelService.
type ChannelConfig struct {
	// DB is the database. Required.
	DB *bun.DB
	// Sessions deletes the sessions on a channel that is deleted, in the
	// same transaction. Required.
	Sessions *session.Service
	// AccessChangeFunc runs after every committed channel change (app.New
	// passes session.Service.ClearCache). Defaults to doing nothing.
	AccessChangeFunc AccessChangeFunc
	// LoadTimeout bounds a load of the channel table started for a request
	// or a sync; the load runs detached from the request that started it,
	// which waits for it only until its own deadline. Defaults to
	// DefaultChannelLoadTimeout.
	LoadTimeout time.Duration
	// Logger logs failed reloads of the channel snapshot. Defaults to
	// discarding them.
	Logger *slog.Logger
	// NowFunc returns the current time (timestamps, the pace of reloads
	// for unknown tokens and how long they are remembered). Defaults to
	// time.Now.
	NowFunc func() time.Time
}

// NewChannelService returns a ChannelService, or an error naming every
// missing required field. Call Reload before use.
func NewChannelService(cfg ChannelConfig) (*ChannelService, error) {
	if err := setup.Required("channel service",
		setup.Field{Name: "DB", Unset: cfg.DB == nil},
		setup.Field{Name: "Sessions", Unset: cfg.Sessions == nil},
	); err != nil {
		return nil, err
	}
	if cfg.AccessChangeFunc == nil {
		cfg.AccessChangeFunc = func(context.Context) {}
	}
	s := &ChannelService{
		db: cfg.DB, sessions: cfg.Sessions, log: setup.Logger(cfg.Logger), now: setup.Now(cfg.NowFunc),
		changed:     cfg.AccessChangeFunc,
		loadTimeout: cmp.Or(cfg.LoadTimeout, DefaultChannelLoadTimeout),
		unknown:     newUnknownTokens(unknownChannelCap, unknownChannelTTL),
	}
	s.synced.Store(-1)
	return s, nil
}

// Reload re-reads every channel into the snapshot, now (it does not join
// a load already in flight, which may have read the table before a change
// its caller just committed).
func (s *ChannelService) Reload(ctx context.Context) error {
	snap, err := s.load(ctx)
	if err != nil {
		return err
	}
	s.install(snap)
	return nil
}

// load reads the access version, then every channel. A change committed
// between the two reads is in the channels and not in the version, so the
// next Sync loads again: a snapshot is never older than its version.
func (s *ChannelService) load(ctx context.Context) (*channelSnapshot, error) {
	version, err := readAccessVersion(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("load channels: %w", err)
	}
	var channels []*entity.Channel
	if err := s.db.NewSelect().Model(&channels).
		Relation("DefaultTaxZone").Relation("DefaultShippingZone").
		OrderExpr("ch.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load channels: %w", err)
	}
	snap := &channelSnapshot{version: version, byToken: map[string]*entity.Channel{}, byID: map[entity.ID]*entity.Channel{}}
	for _, c := range channels {
		snap.byToken[c.Token] = c
		snap.byID[c.ID] = c
		if c.Code == entity.DefaultChannelCode {
			snap.fallback = c
		}
	}
	if snap.fallback == nil {
		return nil, errors.New("load channels: the default channel is missing")
	}
	return snap, nil
}

// install makes snap the snapshot unless the current one has a newer
// version (loads finish in any order), and returns the snapshot in use.
func (s *ChannelService) install(snap *channelSnapshot) *channelSnapshot {
	s.synced.CompareAndSwap(-1, snap.version)
	for {
		cur := s.snapshot.Load()
		if cur != nil && cur.version > snap.version {
			return cur
		}
		if s.snapshot.CompareAndSwap(cur, snap) {
			return snap
		}
	}
}

// sharedLoad joins the load of the table in flight, or starts one, and
// waits for it until ctx ends. The load runs detached from ctx (its values
// kept, its cancellation not) under loadTimeout, so a caller that gives up
// neither cancels it for the others nor waits beyond its own deadline.
func (s *ChannelService) sharedLoad(ctx context.Context) (*channelSnapshot, error) {
	detached := context.WithoutCancel(ctx)
	ch := s.loads.DoChan("channels", func() (any, error) {
		lctx, cancel := context.WithTimeout(detached, s.loadTimeout)
		defer cancel()
		snap, err := s.load(lctx)
		if err != nil {
			return nil, err
		}
		return s.install(snap), nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*channelSnapshot), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Sync reloads the snapshot when the access version in the database is
// newer than the one this instance last saw, and reports whether it was (a
// channel or a role changed, here or on another instance). The session
// cache sync calls it every second (session.Config.AccessSyncFunc).
func (s *ChannelService) Sync(ctx context.Context) (changed bool, err error) {
	version, err := readAccessVersion(ctx, s.db)
	if err != nil {
		return false, err
	}
	seen := s.synced.Load()
	if version <= seen {
		return false, nil
	}
	if s.snapshot.Load().version < version {
		snap, err := s.sharedLoad(ctx)
		if err != nil {
			return false, err
		}
		if snap.version < version {
			// The shared load read the table before the change: load again.
			if err := s.Reload(ctx); err != nil {
				return false, err
			}
		}
	}
	return s.synced.CompareAndSwap(seen, version), nil
}

// Default returns the default channel.
func (s *ChannelService) Default() *entity.Channel { return s.snapshot.Load().fallback }

// ByID returns a channel by id, or outcome.ErrNotFound.
func (s *ChannelService) ByID(id entity.ID) (*entity.Channel, error) {
	if c, ok := s.snapshot.Load().byID[id]; ok {
		return c, nil
	}
	return nil, outcome.ErrNotFound
}

// GetChannelFromToken returns the channel a request names, as Vendure: an
// empty token, or any token while only one channel exists, means the default
// channel; otherwise the token must match, or *outcome.ChannelNotFoundError.
// The returned channel must not be modified.
//
// A token the snapshot lacks may name a channel another instance made less
// than a sync ago. If no load was claimed within channelReloadInterval and
// the token is not remembered as unknown, this request claims one: it joins
// or starts the shared load and waits for it until ctx ends. Every other
// request answers from the snapshot at once, so a flood of random tokens
// costs at most one read of the channel table per interval, and only the
// claiming request ever waits on the database (within its own deadline).
func (s *ChannelService) GetChannelFromToken(ctx context.Context, token string) (*entity.Channel, error) {
	snap := s.snapshot.Load()
	if token == "" {
		return snap.fallback, nil
	}
	if c, ok := snap.byToken[token]; ok {
		return c, nil
	}
	now := s.now()
	if !s.unknown.has(token, now) && s.claimLoad(now) {
		fresh, err := s.sharedLoad(ctx)
		if err != nil {
			// Stalled, failed or out of time: decide from the snapshot.
			s.log.WarnContext(ctx, "channel reload for an unknown token", "err", err)
		} else {
			snap = fresh
			if c, ok := snap.byToken[token]; ok {
				return c, nil
			}
			s.unknown.add(token, now)
		}
	}
	if len(snap.byID) == 1 {
		return snap.fallback, nil
	}
	return nil, &outcome.ChannelNotFoundError{Token: token}
}

// claimLoad reports whether the caller may load the table for an unknown
// token: once per channelReloadInterval, one caller.
func (s *ChannelService) claimLoad(now time.Time) bool {
	last := s.lastTry.Load()
	if last != 0 && now.UnixNano()-last < int64(channelReloadInterval) {
		return false
	}
	return s.lastTry.CompareAndSwap(last, now.UnixNano())
}

// NewChannel describes a channel to create.
type NewChannel struct {
	Code string
	// Token defaults to a random one.
	Token string
	// DefaultLanguageCode defaults to en, DefaultCurrencyCode to USD.
	DefaultLanguageCode entity.LanguageCode
	DefaultCurrencyCode entity.CurrencyCode
	// AvailableLanguageCodes default to the default language, which must be
	// one of them (else *outcome.LanguageNotAvailableError).
	AvailableLanguageCodes []entity.LanguageCode
	// AvailableCurrencyCodes get the default currency added when they lack
	// it.
	AvailableCurrencyCodes []entity.CurrencyCode
	PricesIncludeTax       bool
	// TrackInventory defaults to true, OutOfStockThreshold to 0.
	TrackInventory      *bool
	OutOfStockThreshold *int32
	// DefaultTaxZoneID and DefaultShippingZoneID default to the default
	// channel's zones.
	DefaultTaxZoneID      *entity.ID
	DefaultShippingZoneID *entity.ID
	// SellerID names the channel's seller. This server keeps no sellers, so
	// any id is *outcome.EntityNotFoundError.
	SellerID *entity.ID
}

// Create creates a channel and attaches the SuperAdmin and Customer roles to
// it, as Vendure's createChannel does, and returns it with its zones.
func (s *ChannelService) Create(ctx context.Context, in NewChannel) (*entity.Channel, error) {
	return s.create(ctx, in, nil)
}

// CreateAs creates a channel as Create does, for a caller (the @allow
// guard has checked its permission), and records it in the audit log.
func (s *ChannelService) CreateAs(ctx context.Context, by Caller, in NewChannel) (*entity.Channel, error) {
	return s.create(ctx, in, &by)
}

// create creates a channel, in one transaction with the caller's audit
// entry when by is set.
func (s *ChannelService) create(ctx context.Context, in NewChannel, by *Caller) (*entity.Channel, error) {
	var ch *entity.Channel
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		var err error
		ch, err = createChannel(ctx, t, s.now().UTC(), in)
		if err != nil {
			return err
		}
		var roles []entity.Role
		if err := t.NewSelect().Model(&roles).
			Where("code IN (?)", bun.List([]string{entity.SuperAdminRoleCode, entity.CustomerRoleCode})).
			Scan(ctx); err != nil {
			return fmt.Errorf("find built-in roles: %w", err)
		}
		for _, r := range roles {
			if _, err := t.NewInsert().Model(&entity.RoleChannel{RoleID: r.ID, ChannelID: ch.ID}).Exec(ctx); err != nil {
				return fmt.Errorf("attach role %s: %w", r.Code, err)
			}
		}
		if ch, err = loadChannel(ctx, t, ch.ID); err != nil {
			return err
		}
		if by != nil {
			if err := s.record(ctx, t, *by, audit.Created, ch.ID, "code: "+ch.Code); err != nil {
				return err
			}
		}
		return s.accessChangedOnCommit(ctx, t)
	})
	return ch, err
}

// Update saves every field of a channel (code, token, languages,
// currencies, pricesIncludeTax, inventory settings, zones), which must keep
// the rules of checkChannel.
func (s *ChannelService) Update(ctx context.Context, ch *entity.Channel) error {
	if d := s.Default(); d != nil && d.ID == ch.ID && ch.Code != entity.DefaultChannelCode {
		return errDefaultChannelCode
	}
	if err := checkChannel(ch); err != nil {
		return err
	}
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		ch.UpdatedAt = s.now().UTC()
		if err := saveChannel(ctx, t, ch); err != nil {
			return err
		}
		return s.accessChangedOnCommit(ctx, t)
	})
}

// errDefaultChannelCode refuses a new code for the default channel: the
// code is how every start finds it.
var errDefaultChannelCode = fmt.Errorf("%w: the default Channel's code cannot change", outcome.ErrInvalidInput)

// saveChannel writes every field of ch, in t.
func saveChannel(ctx context.Context, t *session.Tx, ch *entity.Channel) error {
	res, err := t.NewUpdate().Model(ch).WherePK().
		Column("updated_at", "code", "token", "default_language_code", "available_language_codes",
			"default_currency_code", "available_currency_codes", "prices_include_tax",
			"track_inventory", "out_of_stock_threshold",
			"default_tax_zone_id", "default_shipping_zone_id").Exec(ctx)
	if err != nil {
		if database.IsUniqueViolation(err) {
			return duplicateChannel(ch)
		}
		return fmt.Errorf("update channel: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &outcome.EntityNotFoundError{Entity: "Channel", ID: ch.ID.String()}
	}
	return nil
}

// duplicateChannel refuses a channel whose code or token another one has
// (the unique constraints said so, which also holds between concurrent
// writes).
func duplicateChannel(ch *entity.Channel) error {
	return fmt.Errorf("%w: a Channel with the code %q or the token %q %w", outcome.ErrInvalidInput, ch.Code, ch.Token, outcome.ErrDuplicate)
}

// Delete deletes a channel. Sessions whose active channel it is are deleted
// first (Vendure does the same) by the session owner, which revokes each.
// The default channel is not deleted (*outcome.NotDeletedError); an unknown
// id is *outcome.EntityNotFoundError.
func (s *ChannelService) Delete(ctx context.Context, id entity.ID) error {
	return s.deleteChannel(ctx, id, nil)
}

// deleteChannel deletes a channel after check, if given, accepted its row.
func (s *ChannelService) deleteChannel(ctx context.Context, id entity.ID, by *Caller) error {
	return session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		if err := s.deleteIn(ctx, t, id, by); err != nil {
			return err
		}
		return s.accessChangedOnCommit(ctx, t)
	})
}

// deleteIn deletes a channel and the sessions on it in t, checking the
// caller's permission on it and recording it when by is set.
func (s *ChannelService) deleteIn(ctx context.Context, t *session.Tx, id entity.ID, by *Caller) error {
	ch, err := lockChannel(ctx, t, id)
	if err != nil {
		return err
	}
	if by != nil && !by.holdsAny(ch.ID, auth.SuperAdmin, permDeleteChannel) {
		return outcome.ErrForbidden
	}
	if ch.Code == entity.DefaultChannelCode {
		return &outcome.NotDeletedError{Reason: "The default Channel cannot be deleted"}
	}
	if err := s.sessions.DeleteByActiveChannel(ctx, t, id); err != nil {
		return fmt.Errorf("delete sessions of channel: %w", err)
	}
	if _, err := t.NewDelete().Model((*entity.Channel)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	if by != nil {
		return s.record(ctx, t, *by, audit.Deleted, id, "code: "+ch.Code)
	}
	return nil
}

// channelChange is the key of a transaction's channel change
// (session.Tx.Once).
type channelChange struct{}

// accessChangedOnCommit records a channel change in t (the access version
// every instance's Sync reads) and, after commit, reloads this instance's
// snapshot and runs the access-change hook, once per transaction however
// many channels it changes.
func (s *ChannelService) accessChangedOnCommit(ctx context.Context, t *session.Tx) error {
	if !t.Once(channelChange{}) {
		return nil
	}
	if err := bumpAccessVersion(ctx, t); err != nil {
		return err
	}
	t.OnCommit(s.accessChanged)
	return nil
}

// accessChanged is run after any committed channel change: reload the
// channel snapshot and clear the session cache.
func (s *ChannelService) accessChanged(ctx context.Context) {
	if err := s.Reload(ctx); err != nil {
		s.log.WarnContext(ctx, "channel reload after change failed", "err", err)
	}
	s.changed(ctx)
}

func createChannel(ctx context.Context, db bun.IDB, now time.Time, in NewChannel) (*entity.Channel, error) {
	if in.Token == "" {
		tok, err := randomChannelToken()
		if err != nil {
			return nil, err
		}
		in.Token = tok
	}
	in.DefaultLanguageCode = cmp.Or(in.DefaultLanguageCode, "en")
	in.DefaultCurrencyCode = cmp.Or(in.DefaultCurrencyCode, "USD")
	ch := &entity.Channel{
		CreatedAt: now, UpdatedAt: now,
		Code: in.Code, Token: in.Token,
		DefaultLanguageCode:    in.DefaultLanguageCode,
		AvailableLanguageCodes: entity.LanguageCodes{in.DefaultLanguageCode},
		DefaultCurrencyCode:    in.DefaultCurrencyCode,
		AvailableCurrencyCodes: withCurrency(in.AvailableCurrencyCodes, in.DefaultCurrencyCode),
		PricesIncludeTax:       in.PricesIncludeTax,
		TrackInventory:         true,
	}
	if in.AvailableLanguageCodes != nil {
		ch.AvailableLanguageCodes = slices.Clone(in.AvailableLanguageCodes)
	}
	if in.TrackInventory != nil {
		ch.TrackInventory = *in.TrackInventory
	}
	if in.OutOfStockThreshold != nil {
		ch.OutOfStockThreshold = *in.OutOfStockThreshold
	}
	if err := checkChannel(ch); err != nil {
		return nil, err
	}
	if err := defaultZones(ctx, db, &in); err != nil {
		return nil, err
	}
	if in.SellerID != nil {
		return nil, noSeller(*in.SellerID)
	}
	ch.DefaultTaxZoneID, ch.DefaultShippingZoneID = in.DefaultTaxZoneID, in.DefaultShippingZoneID
	if _, err := db.NewInsert().Model(ch).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err) {
			return nil, duplicateChannel(ch)
		}
		return nil, fmt.Errorf("create channel: %w", err)
	}
	return ch, nil
}

// withCurrency returns a copy of l with c appended unless l has it
// (Vendure: setting a default currency makes it available).
func withCurrency(l []entity.CurrencyCode, c entity.CurrencyCode) entity.CurrencyCodes {
	out := slices.Clone(entity.CurrencyCodes(l))
	if !slices.Contains(out, c) {
		out = append(out, c)
	}
	return out
}

// checkChannel holds a channel to the rules every write of one keeps: a
// code and a token; language and currency codes of Vendure's enums, which
// clients decode them as (a code outside them would make every later read
// of the channel fail); the default language among the available ones
// (else *outcome.LanguageNotAvailableError) and the default currency among
// the available ones.
func checkChannel(ch *entity.Channel) error {
	if ch.Code == "" {
		return fmt.Errorf("%w: a Channel's code must not be empty", outcome.ErrInvalidInput)
	}
	if ch.Token == "" {
		return fmt.Errorf("%w: a Channel's token must not be empty", outcome.ErrInvalidInput)
	}
	for _, c := range append([]entity.LanguageCode{ch.DefaultLanguageCode}, ch.AvailableLanguageCodes...) {
		if !c.IsValid() {
			return fmt.Errorf("%w: %q is not a LanguageCode", outcome.ErrInvalidInput, c)
		}
	}
	for _, c := range append([]entity.CurrencyCode{ch.DefaultCurrencyCode}, ch.AvailableCurrencyCodes...) {
		if !c.IsValid() {
			return fmt.Errorf("%w: %q is not a CurrencyCode", outcome.ErrInvalidInput, c)
		}
	}
	if !slices.Contains(ch.AvailableLanguageCodes, ch.DefaultLanguageCode) {
		return &outcome.LanguageNotAvailableError{LanguageCode: string(ch.DefaultLanguageCode)}
	}
	if !slices.Contains(ch.AvailableCurrencyCodes, ch.DefaultCurrencyCode) {
		return fmt.Errorf("%w: availableCurrencyCodes must include the defaultCurrencyCode (%s)", outcome.ErrInvalidInput, ch.DefaultCurrencyCode)
	}
	return nil
}

// noSeller refuses a seller id: this server keeps no sellers.
func noSeller(id entity.ID) error {
	return &outcome.EntityNotFoundError{Entity: "Seller", ID: id.String()}
}

func randomChannelToken() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate channel token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// record writes the audit entry of a caller's change to a channel, in t.
func (s *ChannelService) record(ctx context.Context, t *session.Tx, by Caller, action audit.Action, id entity.ID, detail string) error {
	return audit.Record(ctx, t, s.now(), by.Actor, audit.Entry{
		Action: action, EntityType: audit.Channel, EntityID: audit.IDOf(id), Detail: detail,
	})
}
