package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
)

// channelReloadInterval bounds how often an unknown channel token makes the
// service re-read the channel table (to see channels another instance made).
const channelReloadInterval = time.Second

// ChannelService resolves channel tokens from an in-memory snapshot of the
// channel table, so choosing the channel of a request does no query.
type ChannelService struct {
	db       *bun.DB
	log      *slog.Logger
	now      func() time.Time
	snapshot atomic.Pointer[channelSnapshot]
	changed  AccessChangeFunc

	reloadMu   sync.Mutex
	lastReload time.Time
}

// AccessChangeFunc is called after a committed change to a channel or a role:
// cached sessions carry channel permissions, so they must be dropped.
type AccessChangeFunc func(ctx context.Context)

type channelSnapshot struct {
	byToken  map[string]*entity.Channel
	byID     map[entity.ID]*entity.Channel
	fallback *entity.Channel // the default channel
}

// ChannelConfig configures a ChannelService.
type ChannelConfig struct {
	// DB is the database. Required.
	DB *bun.DB
	// AccessChangeFunc runs after every committed channel change (app.New
	// passes SessionService.ClearCache). Defaults to doing nothing.
	AccessChangeFunc AccessChangeFunc
	// Logger logs failed reloads of the channel snapshot. Defaults to
	// discarding them.
	Logger *slog.Logger
	// NowFunc returns the current time (timestamps, and the pace of
	// reloads for unknown tokens). Defaults to time.Now.
	NowFunc func() time.Time
}

// NewChannelService returns a ChannelService, or an error naming every
// missing required field. Call Reload before use.
func NewChannelService(cfg ChannelConfig) (*ChannelService, error) {
	if err := checkRequired("channel service", required{"DB", cfg.DB == nil}); err != nil {
		return nil, err
	}
	if cfg.AccessChangeFunc == nil {
		cfg.AccessChangeFunc = func(context.Context) {}
	}
	return &ChannelService{
		db: cfg.DB, log: defaultLogger(cfg.Logger), now: defaultNow(cfg.NowFunc),
		changed: cfg.AccessChangeFunc,
	}, nil
}

// Reload re-reads every channel into the snapshot.
func (s *ChannelService) Reload(ctx context.Context) error {
	var channels []*entity.Channel
	if err := s.db.NewSelect().Model(&channels).
		Relation("DefaultTaxZone").Relation("DefaultShippingZone").
		OrderExpr("ch.id").Scan(ctx); err != nil {
		return fmt.Errorf("load channels: %w", err)
	}
	snap := &channelSnapshot{byToken: map[string]*entity.Channel{}, byID: map[entity.ID]*entity.Channel{}}
	for _, c := range channels {
		snap.byToken[c.Token] = c
		snap.byID[c.ID] = c
		if c.Code == entity.DefaultChannelCode {
			snap.fallback = c
		}
	}
	if snap.fallback == nil {
		return errors.New("load channels: the default channel is missing")
	}
	s.snapshot.Store(snap)
	return nil
}

// Default returns the default channel.
func (s *ChannelService) Default() *entity.Channel { return s.snapshot.Load().fallback }

// ByID returns a channel by id, or ErrNotFound.
func (s *ChannelService) ByID(id entity.ID) (*entity.Channel, error) {
	if c, ok := s.snapshot.Load().byID[id]; ok {
		return c, nil
	}
	return nil, ErrNotFound
}

// GetChannelFromToken returns the channel a request names, as Vendure: an
// empty token, or any token while only one channel exists, means the default
// channel; otherwise the token must match, or *ChannelNotFoundError.
// The returned channel must not be modified.
func (s *ChannelService) GetChannelFromToken(ctx context.Context, token string) (*entity.Channel, error) {
	snap := s.snapshot.Load()
	if token == "" {
		return snap.fallback, nil
	}
	if c, ok := snap.byToken[token]; ok {
		return c, nil
	}
	// Unknown here: another instance may have created it since the last
	// load. Reload at most once per channelReloadInterval, then decide.
	if s.reloadIfDue(ctx) {
		snap = s.snapshot.Load()
		if c, ok := snap.byToken[token]; ok {
			return c, nil
		}
	}
	if len(snap.byID) == 1 {
		return snap.fallback, nil
	}
	return nil, &ChannelNotFoundError{Token: token}
}

// reloadIfDue reloads the snapshot at most once per channelReloadInterval.
func (s *ChannelService) reloadIfDue(ctx context.Context) bool {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	now := s.now()
	if now.Sub(s.lastReload) < channelReloadInterval {
		return false
	}
	s.lastReload = now
	if err := s.Reload(ctx); err != nil {
		s.log.WarnContext(ctx, "channel reload failed", "err", err)
		return false
	}
	return true
}

// NewChannel describes a channel to create.
type NewChannel struct {
	Code                string
	Token               string
	DefaultLanguageCode entity.LanguageCode
	DefaultCurrencyCode entity.CurrencyCode
	PricesIncludeTax    bool
	// DefaultTaxZoneID and DefaultShippingZoneID default to the default
	// channel's zones.
	DefaultTaxZoneID      *entity.ID
	DefaultShippingZoneID *entity.ID
}

// Create creates a channel and attaches the SuperAdmin and Customer roles to
// it, as Vendure's createChannel does.
func (s *ChannelService) Create(ctx context.Context, in NewChannel) (*entity.Channel, error) {
	var ch *entity.Channel
	err := runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
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
		t.onCommit(s.accessChanged)
		return nil
	})
	return ch, err
}

// Update saves changed fields of a channel (code, token, language, currency,
// pricesIncludeTax).
func (s *ChannelService) Update(ctx context.Context, ch *entity.Channel) error {
	if d := s.Default(); d != nil && d.ID == ch.ID && ch.Code != entity.DefaultChannelCode {
		return fmt.Errorf("%w: the default channel's code cannot change", ErrInvalidInput)
	}
	return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		ch.UpdatedAt = s.now().UTC()
		res, err := t.NewUpdate().Model(ch).WherePK().
			Column("updated_at", "code", "token", "default_language_code", "available_language_codes",
				"default_currency_code", "available_currency_codes", "prices_include_tax",
				"default_tax_zone_id", "default_shipping_zone_id").Exec(ctx)
		if err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		t.onCommit(s.accessChanged)
		return nil
	})
}

// Delete deletes a channel. Sessions whose active channel it is are deleted
// first (Vendure does the same), and evicted with the whole cache.
func (s *ChannelService) Delete(ctx context.Context, id entity.ID) error {
	if d := s.Default(); d != nil && d.ID == id {
		return fmt.Errorf("%w: the default channel cannot be deleted", ErrInvalidInput)
	}
	return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		if _, err := t.NewDelete().Model((*entity.Session)(nil)).Where("active_channel_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete sessions of channel: %w", err)
		}
		res, err := t.NewDelete().Model((*entity.Channel)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete channel: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		t.onCommit(s.accessChanged)
		return nil
	})
}

// accessChanged is the one hook run after any committed channel or role
// change: reload the channel snapshot and clear the session cache.
func (s *ChannelService) accessChanged(ctx context.Context) {
	if err := s.Reload(ctx); err != nil {
		s.log.WarnContext(ctx, "channel reload after change failed", "err", err)
	}
	s.changed(ctx)
}

func createChannel(ctx context.Context, db bun.IDB, now time.Time, in NewChannel) (*entity.Channel, error) {
	if in.Code == "" {
		return nil, errors.New("create channel: code is required")
	}
	if in.Token == "" {
		tok, err := randomChannelToken()
		if err != nil {
			return nil, err
		}
		in.Token = tok
	}
	if in.DefaultLanguageCode == "" {
		in.DefaultLanguageCode = "en"
	}
	if in.DefaultCurrencyCode == "" {
		in.DefaultCurrencyCode = "USD"
	}
	// Clients decode these as Vendure's enums: a code outside them would
	// make every later read of the channel fail.
	if !in.DefaultLanguageCode.IsValid() {
		return nil, fmt.Errorf("%w: %q is not a LanguageCode", ErrInvalidInput, in.DefaultLanguageCode)
	}
	if !in.DefaultCurrencyCode.IsValid() {
		return nil, fmt.Errorf("%w: %q is not a CurrencyCode", ErrInvalidInput, in.DefaultCurrencyCode)
	}
	if err := defaultZones(ctx, db, &in); err != nil {
		return nil, err
	}
	ch := &entity.Channel{
		CreatedAt: now, UpdatedAt: now,
		DefaultTaxZoneID: in.DefaultTaxZoneID, DefaultShippingZoneID: in.DefaultShippingZoneID,
		Code: in.Code, Token: in.Token,
		DefaultLanguageCode:    in.DefaultLanguageCode,
		AvailableLanguageCodes: entity.LanguageCodes{in.DefaultLanguageCode},
		DefaultCurrencyCode:    in.DefaultCurrencyCode,
		AvailableCurrencyCodes: entity.CurrencyCodes{in.DefaultCurrencyCode},
		PricesIncludeTax:       in.PricesIncludeTax,
		TrackInventory:         true,
	}
	if _, err := db.NewInsert().Model(ch).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err) {
			return nil, fmt.Errorf("create channel %q: its code or token: %w", ch.Code, ErrDuplicate)
		}
		return nil, fmt.Errorf("create channel: %w", err)
	}
	return ch, nil
}

func randomChannelToken() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate channel token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
