package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// The Admin API's channel operations. The @allow guard of each checks the
// caller's permission on the channel of the request, as Vendure does; these
// check it on the channel the operation concerns too, so a permission
// held on one channel does not reach another through a request made on
// the first (Vendure lets it).

// FindAs returns the channel id names, with its zones, read from the
// database (a channel another instance created a moment ago included), if
// the caller may read it: ReadSettings or ReadChannel on it. Otherwise, or
// if there is none, outcome.ErrNotFound.
func (s *ChannelService) FindAs(ctx context.Context, by Caller, id entity.ID) (*entity.Channel, error) {
	if !by.holdsAny(id, permReadSettings, permReadChannel) {
		return nil, outcome.ErrNotFound
	}
	return loadChannel(ctx, s.db, id)
}

// ChannelChange is a change to a channel, as Vendure's UpdateChannelInput:
// nil fields keep their value.
type ChannelChange struct {
	ID                     entity.ID
	Code                   *string
	Token                  *string
	DefaultLanguageCode    *entity.LanguageCode
	AvailableLanguageCodes []entity.LanguageCode
	// DefaultCurrencyCode is added to the available currencies when they
	// lack it.
	DefaultCurrencyCode    *entity.CurrencyCode
	AvailableCurrencyCodes []entity.CurrencyCode
	PricesIncludeTax       *bool
	TrackInventory         *bool
	OutOfStockThreshold    *int32
	DefaultTaxZoneID       *entity.ID
	DefaultShippingZoneID  *entity.ID
	// SellerID: this server keeps no sellers, so any id is
	// *outcome.EntityNotFoundError.
	SellerID *entity.ID
}

// UpdateAs applies a change to a channel for a caller that holds SuperAdmin
// or UpdateChannel on it (else outcome.ErrForbidden), and returns the
// channel with its zones. The result keeps the rules of checkChannel; a
// code or token another channel has is refused (outcome.ErrDuplicate), and
// so is a new code for the default channel.
func (s *ChannelService) UpdateAs(ctx context.Context, by Caller, c ChannelChange) (*entity.Channel, error) {
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		ch, err := lockChannel(ctx, t, c.ID)
		if err != nil {
			return err
		}
		if !by.holdsAny(ch.ID, auth.SuperAdmin, permUpdateChannel) {
			return outcome.ErrForbidden
		}
		if ch.Code == entity.DefaultChannelCode && c.Code != nil && *c.Code != ch.Code {
			return errDefaultChannelCode
		}
		c.apply(ch)
		if err := checkChannel(ch); err != nil {
			return err
		}
		if err := zonesExist(ctx, t, c.DefaultTaxZoneID, c.DefaultShippingZoneID); err != nil {
			return err
		}
		if c.SellerID != nil {
			return noSeller(*c.SellerID)
		}
		ch.UpdatedAt = s.now().UTC()
		if err := saveChannel(ctx, t, ch); err != nil {
			return err
		}
		if err := s.record(ctx, t, by, audit.Updated, ch.ID, c.given()); err != nil {
			return err
		}
		return s.accessChangedOnCommit(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return loadChannel(ctx, s.db, c.ID)
}

// apply sets the fields c gives on ch.
func (c *ChannelChange) apply(ch *entity.Channel) {
	set(&ch.Code, c.Code)
	set(&ch.Token, c.Token)
	set(&ch.DefaultLanguageCode, c.DefaultLanguageCode)
	if c.AvailableLanguageCodes != nil {
		ch.AvailableLanguageCodes = slices.Clone(c.AvailableLanguageCodes)
	}
	if c.AvailableCurrencyCodes != nil {
		ch.AvailableCurrencyCodes = slices.Clone(c.AvailableCurrencyCodes)
	}
	if c.DefaultCurrencyCode != nil {
		ch.DefaultCurrencyCode = *c.DefaultCurrencyCode
		ch.AvailableCurrencyCodes = withCurrency(ch.AvailableCurrencyCodes, ch.DefaultCurrencyCode)
	}
	set(&ch.PricesIncludeTax, c.PricesIncludeTax)
	set(&ch.TrackInventory, c.TrackInventory)
	set(&ch.OutOfStockThreshold, c.OutOfStockThreshold)
	if c.DefaultTaxZoneID != nil {
		ch.DefaultTaxZoneID = c.DefaultTaxZoneID
	}
	if c.DefaultShippingZoneID != nil {
		ch.DefaultShippingZoneID = c.DefaultShippingZoneID
	}
}

// given names the fields c gives, and the new code and token (a
// channel's settings, no personal data), for the audit log.
func (c *ChannelChange) given() string {
	var fields []string
	add := func(name string, given bool) {
		if given {
			fields = append(fields, name)
		}
	}
	add("code: "+deref(c.Code), c.Code != nil)
	add("token: "+deref(c.Token), c.Token != nil)
	add("defaultLanguageCode", c.DefaultLanguageCode != nil)
	add("availableLanguageCodes", c.AvailableLanguageCodes != nil)
	add("defaultCurrencyCode", c.DefaultCurrencyCode != nil)
	add("availableCurrencyCodes", c.AvailableCurrencyCodes != nil)
	add("pricesIncludeTax", c.PricesIncludeTax != nil)
	add("trackInventory", c.TrackInventory != nil)
	add("outOfStockThreshold", c.OutOfStockThreshold != nil)
	add("defaultTaxZoneId", c.DefaultTaxZoneID != nil)
	add("defaultShippingZoneId", c.DefaultShippingZoneID != nil)
	return strings.Join(fields, "; ")
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// set sets *dst to *v when v is given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// DeleteAs deletes a channel (see Delete) for a caller that holds
// SuperAdmin or DeleteChannel on it (else outcome.ErrForbidden).
func (s *ChannelService) DeleteAs(ctx context.Context, by Caller, id entity.ID) error {
	return s.deleteChannel(ctx, id, &by)
}

// DeleteManyAs deletes channels as DeleteAs does, in one transaction (as
// Vendure's deleteChannels): the answer per id is nil (deleted) or the
// *outcome.NotDeletedError that kept it; any other refusal rolls back
// every deletion and is the error. A repeated id is deleted once.
func (s *ChannelService) DeleteManyAs(ctx context.Context, by Caller, ids []entity.ID) ([]error, error) {
	return deleteMany(ctx, s.db, ids, func(ctx context.Context, t *session.Tx, id entity.ID) error {
		return s.deleteIn(ctx, t, id, &by)
	}, s.accessChangedOnCommit)
}

// lockChannel reads a channel's row in t, locked until t ends on
// PostgreSQL (SQLite has one writer), or *outcome.EntityNotFoundError.
func lockChannel(ctx context.Context, t *session.Tx, id entity.ID) (*entity.Channel, error) {
	ch := new(entity.Channel)
	q := t.NewSelect().Model(ch).Where("id = ?", id)
	if t.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &outcome.EntityNotFoundError{Entity: "Channel", ID: id.String()}
		}
		return nil, fmt.Errorf("find channel: %w", err)
	}
	return ch, nil
}

// loadChannel reads a channel with its zones, or
// *outcome.EntityNotFoundError.
func loadChannel(ctx context.Context, db bun.IDB, id entity.ID) (*entity.Channel, error) {
	ch := new(entity.Channel)
	err := db.NewSelect().Model(ch).Relation("DefaultTaxZone").Relation("DefaultShippingZone").
		Where("ch.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &outcome.EntityNotFoundError{Entity: "Channel", ID: id.String()}
	}
	if err != nil {
		return nil, fmt.Errorf("find channel: %w", err)
	}
	return ch, nil
}
