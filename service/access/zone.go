package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
)

// Zones are kept only as far as a Channel names them (Vendure's
// defaultTaxZone and defaultShippingZone): one zone is seeded and set on
// the default channel, and channels created later take the default
// channel's zones unless told otherwise. ChannelService's snapshot loads a
// channel's zones with it, so serving them costs no query.

// ensureDefaultZone makes sure the default channel has a default tax zone
// and a default shipping zone: where it has none, the zone named
// entity.DefaultZoneName (created if missing) is set. Zones set already
// are left alone.
func ensureDefaultZone(ctx context.Context, db bun.IDB, now time.Time, ch *entity.Channel) error {
	if ch.DefaultTaxZoneID != nil && ch.DefaultShippingZoneID != nil {
		return nil
	}
	zone := new(entity.Zone)
	err := db.NewSelect().Model(zone).Where("name = ?", entity.DefaultZoneName).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		zone = &entity.Zone{CreatedAt: now, UpdatedAt: now, Name: entity.DefaultZoneName}
		_, err = db.NewInsert().Model(zone).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("default zone: %w", err)
	}
	if ch.DefaultTaxZoneID == nil {
		ch.DefaultTaxZoneID = &zone.ID
	}
	if ch.DefaultShippingZoneID == nil {
		ch.DefaultShippingZoneID = &zone.ID
	}
	ch.UpdatedAt = now
	if _, err := db.NewUpdate().Model(ch).
		Column("default_tax_zone_id", "default_shipping_zone_id", "updated_at").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("set the default channel's zones: %w", err)
	}
	return nil
}

// defaultZones fills a new channel's missing zone ids with the default
// channel's, and checks that given ids name zones.
func defaultZones(ctx context.Context, db bun.IDB, in *NewChannel) error {
	if in.DefaultTaxZoneID == nil || in.DefaultShippingZoneID == nil {
		var def entity.Channel
		err := db.NewSelect().Model(&def).Column("default_tax_zone_id", "default_shipping_zone_id").
			Where("code = ?", entity.DefaultChannelCode).Scan(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) { // none yet: the default channel is being created
			return fmt.Errorf("find the default channel's zones: %w", err)
		}
		if in.DefaultTaxZoneID == nil {
			in.DefaultTaxZoneID = def.DefaultTaxZoneID
		}
		if in.DefaultShippingZoneID == nil {
			in.DefaultShippingZoneID = def.DefaultShippingZoneID
		}
	}
	return zonesExist(ctx, db, in.DefaultTaxZoneID, in.DefaultShippingZoneID)
}

// zonesExist checks that the given zone ids (nil ones left out) name zones:
// the first that names none is *outcome.EntityNotFoundError.
func zonesExist(ctx context.Context, db bun.IDB, ids ...*entity.ID) error {
	for _, id := range ids {
		if id == nil {
			continue
		}
		n, err := db.NewSelect().Model((*entity.Zone)(nil)).Where("id = ?", *id).Count(ctx)
		if err != nil {
			return fmt.Errorf("find zone: %w", err)
		}
		if n == 0 {
			return &outcome.EntityNotFoundError{Entity: "Zone", ID: id.String()}
		}
	}
	return nil
}
