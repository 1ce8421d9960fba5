package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// DefaultMaxProductVariantTake is the largest page of product variants, and
// the most variants one CreateProductVariants call takes: Vendure's
// adminListQueryLimit.
const DefaultMaxProductVariantTake = 1000

// maxSKULength and maxVariantNameLength bound the text a variant keeps.
const (
	maxSKULength         = 255
	maxVariantNameLength = 255
)

// MaxPrice is the largest price a variant may have, in minor units
// (10^12: ten billion in a currency of two decimals). It keeps a line at
// the default order limits (999 items) three orders of magnitude inside
// entity.MaxMoney, the largest amount the server computes; orders check
// their arithmetic against that bound as well, whatever the limits.
const MaxPrice = 1_000_000_000_000

// Service keeps the one catalogue entity of this server, the product
// variant: something a cart can hold, with a SKU, a name and a price in
// minor units of one currency. There is no tax engine: a price with tax is
// the price.
type Service struct {
	db      *bun.DB
	now     func() time.Time
	maxTake int
	table   *listquery.Table // VariantTable with MaxTake
}

// Config configures a Service.
type Config struct {
	// DB is the database. Required.
	DB *bun.DB
	// NowFunc returns the current time (timestamps). Defaults to time.Now.
	NowFunc func() time.Time
	// MaxTake is the largest page ListProductVariants returns and the most
	// variants CreateProductVariants takes at once. Defaults to
	// DefaultMaxProductVariantTake.
	MaxTake int
}

// New returns a Service, or an error naming every
// missing required field.
func New(cfg Config) (*Service, error) {
	if err := setup.Required("catalog service", setup.Field{Name: "DB", Unset: cfg.DB == nil}); err != nil {
		return nil, err
	}
	if cfg.MaxTake <= 0 {
		cfg.MaxTake = DefaultMaxProductVariantTake
	}
	return &Service{db: cfg.DB, now: setup.Now(cfg.NowFunc), maxTake: cfg.MaxTake, table: VariantTable.WithMaxTake(cfg.MaxTake)}, nil
}

// MaxTake is the largest page ListProductVariants returns.
func (s *Service) MaxTake() int { return s.maxTake }

// NewProductVariant describes a product variant to create. Price is in
// minor units of CurrencyCode.
type NewProductVariant struct {
	SKU          string
	Name         string
	Price        int64
	CurrencyCode entity.CurrencyCode
}

// CreateProductVariants creates variants, all or none, in one transaction,
// and returns them in the order given. Input is refused (outcome.ErrInvalidInput,
// with a message for the client naming the variant) when a SKU or a name is
// empty or too long, a price is negative or above MaxPrice, a currency is not one of
// Vendure's codes, or a SKU is taken, by a live variant or by another
// variant of the same call.
func (s *Service) CreateProductVariants(ctx context.Context, in []NewProductVariant) ([]*entity.ProductVariant, error) {
	if len(in) > s.maxTake {
		return nil, fmt.Errorf("%w: at most %d product variants can be created at once, got %d", outcome.ErrInvalidInput, s.maxTake, len(in))
	}
	now := s.now().UTC()
	out := make([]*entity.ProductVariant, len(in))
	seen := make(map[string]int, len(in))
	for i, v := range in {
		pv, err := newProductVariant(v, now)
		if err != nil {
			return nil, fmt.Errorf("%w: input[%d]: %w", outcome.ErrInvalidInput, i, err)
		}
		if j, ok := seen[pv.SKU]; ok {
			return nil, fmt.Errorf("%w: input[%d]: the SKU %q is also given to input[%d]", outcome.ErrInvalidInput, i, pv.SKU, j)
		}
		seen[pv.SKU] = i
		out[i] = pv
	}
	if len(out) == 0 {
		return out, nil
	}
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		return insertProductVariants(ctx, t, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newProductVariant checks one variant's fields and returns its row.
func newProductVariant(v NewProductVariant, now time.Time) (*entity.ProductVariant, error) {
	sku, name := strings.TrimSpace(v.SKU), strings.TrimSpace(v.Name)
	switch {
	case sku == "":
		return nil, errors.New("the SKU must not be empty")
	case utf8.RuneCountInString(sku) > maxSKULength:
		return nil, fmt.Errorf("the SKU must be at most %d characters", maxSKULength)
	case name == "":
		return nil, errors.New("the name must not be empty")
	case utf8.RuneCountInString(name) > maxVariantNameLength:
		return nil, fmt.Errorf("the name must be at most %d characters", maxVariantNameLength)
	case v.Price < 0:
		return nil, fmt.Errorf("the price must not be negative, got %d", v.Price)
	case v.Price > MaxPrice:
		return nil, fmt.Errorf("the price must be at most %d minor units, got %d", int64(MaxPrice), v.Price)
	case !v.CurrencyCode.IsValid():
		return nil, fmt.Errorf("%q is not a CurrencyCode", v.CurrencyCode)
	}
	return &entity.ProductVariant{
		CreatedAt: now, UpdatedAt: now, SKU: sku, Name: name, Price: v.Price, CurrencyCode: v.CurrencyCode,
	}, nil
}

// insertProductVariants inserts checked rows one by one, so a taken SKU is
// reported by name. The unique index decides, concurrent calls included.
func insertProductVariants(ctx context.Context, db bun.IDB, rows []*entity.ProductVariant) error {
	for i, pv := range rows {
		if _, err := db.NewInsert().Model(pv).Exec(ctx); err != nil {
			if database.IsUniqueViolation(err) {
				return fmt.Errorf("%w: input[%d]: a product variant with the SKU %q %w", outcome.ErrInvalidInput, i, pv.SKU, outcome.ErrDuplicate)
			}
			return fmt.Errorf("create product variant: %w", err)
		}
	}
	return nil
}

// ProductVariant returns a live variant by id, or outcome.ErrNotFound.
func (s *Service) ProductVariant(ctx context.Context, id entity.ID) (*entity.ProductVariant, error) {
	pv := new(entity.ProductVariant)
	err := s.db.NewSelect().Model(pv).Where("id = ? AND deleted_at IS NULL", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find product variant: %w", err)
	}
	return pv, nil
}

// VariantTable is what the product variant list serves: filters on id
// (eq, in), sku and name (eq, contains, in), combined with AND or OR, and
// the order by id, createdAt, updatedAt, sku, name or price (priceWithTax
// sorts as price), by id unless asked; pages of at most
// DefaultMaxProductVariantTake (a Service's MaxTake replaces it).
var VariantTable = listquery.MustTable(listquery.Table{
	Noun: "product variants",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "pv.id", Ops: []listquery.Op{listquery.Eq, listquery.In}, Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "pv.created_at", NoFilter: true, Sort: true},
		{Name: "updatedAt", Type: listquery.Date, Column: "pv.updated_at", NoFilter: true, Sort: true},
		{Name: "sku", Type: listquery.String, Column: "pv.sku", Ops: variantTextOps, Sort: true},
		{Name: "name", Type: listquery.String, Column: "pv.name", Ops: variantTextOps, Sort: true},
		{Name: "price", Type: listquery.Number, Column: "pv.price", NoFilter: true, Sort: true},
		{Name: "priceWithTax", Type: listquery.Number, Column: "pv.price", NoFilter: true, Sort: true},
	},
	MaxTake:     DefaultMaxProductVariantTake,
	DefaultSort: []listquery.Sort{{Field: "id"}},
	TieBreak:    "pv.id",
})

var variantTextOps = []listquery.Op{listquery.Eq, listquery.Contains, listquery.In}

// ListProductVariants returns a page of live variants and how many match in
// all, as opts ask (checked against VariantTable, with the Service's
// MaxTake; a refusal is a *listquery.Error).
func (s *Service) ListProductVariants(ctx context.Context, opts listquery.Options) ([]*entity.ProductVariant, int, error) {
	q, err := s.table.Parse(opts, s.db.Dialect().Name())
	if err != nil {
		return nil, 0, err
	}
	var rows []*entity.ProductVariant
	total, err := q.Apply(s.db.NewSelect().Model(&rows).Where("pv.deleted_at IS NULL")).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list product variants: %w", listquery.QueryError(err))
	}
	return rows, int(total), nil
}

// sampleProductVariants are seeded into an empty catalogue, so a cart can
// hold something on a fresh server: Vendure's e2e fixtures' first
// variants, priced in minor units of the default channel's currency.
var sampleProductVariants = []NewProductVariant{
	{SKU: "L2201308", Name: "Laptop 13 inch 8GB", Price: 129900},
	{SKU: "L2201508", Name: "Laptop 15 inch 8GB", Price: 139900},
	{SKU: "L2201316", Name: "Laptop 13 inch 16GB", Price: 219900},
	{SKU: "L2201516", Name: "Laptop 15 inch 16GB", Price: 229900},
	{SKU: "C24F390", Name: "Curvy Monitor 24 inch", Price: 14374},
	{SKU: "C27F390", Name: "Curvy Monitor 27 inch", Price: 16994},
}

// Seed creates the sample variants when no variant exists
// (deleted ones included: a catalogue that had variants is not re-seeded).
func Seed(ctx context.Context, db bun.IDB, now time.Time, currency entity.CurrencyCode) error {
	exists, err := db.NewSelect().Model((*entity.ProductVariant)(nil)).Exists(ctx)
	if err != nil {
		return fmt.Errorf("count product variants: %w", err)
	}
	if exists {
		return nil
	}
	rows := make([]*entity.ProductVariant, len(sampleProductVariants))
	for i, v := range sampleProductVariants {
		v.CurrencyCode = currency
		if rows[i], err = newProductVariant(v, now); err != nil {
			return fmt.Errorf("sample product variant %s: %w", v.SKU, err)
		}
	}
	return insertProductVariants(ctx, db, rows)
}
