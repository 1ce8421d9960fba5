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
	return &Service{db: cfg.DB, now: setup.Now(cfg.NowFunc), maxTake: cfg.MaxTake}, nil
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

// ProductVariantSortField is a column a list of variants can be sorted by.
type ProductVariantSortField string

// The sortable fields (priceWithTax sorts as price).
const (
	SortByID        ProductVariantSortField = "id"
	SortByCreatedAt ProductVariantSortField = "created_at"
	SortByUpdatedAt ProductVariantSortField = "updated_at"
	SortBySKU       ProductVariantSortField = "sku"
	SortByName      ProductVariantSortField = "name"
	SortByPrice     ProductVariantSortField = "price"
)

// ProductVariantSort is one sort key.
type ProductVariantSort struct {
	Field ProductVariantSortField
	Desc  bool
}

// StringFilter matches a text column: Eq exactly, Contains as a
// case-insensitive substring, In one of a list. Set fields combine with AND.
type StringFilter struct {
	Eq       *string
	Contains *string
	In       []string
}

// ProductVariantListOptions selects a page of live variants. Filters on
// several fields combine with AND, or with OR when Or is set. Without a
// sort, variants come by id.
type ProductVariantListOptions struct {
	Skip int
	// Take is the page size: 0 means MaxTake.
	Take int
	Sort []ProductVariantSort
	IDs  []entity.ID // nil: any id
	SKU  *StringFilter
	Name *StringFilter
	Or   bool
}

// ListProductVariants returns a page of live variants and how many match in
// all. Skip must not be negative and Take must lie in 0..MaxTake
// (outcome.ErrInvalidInput otherwise, with Vendure's message for too large a take).
func (s *Service) ListProductVariants(ctx context.Context, opts ProductVariantListOptions) ([]*entity.ProductVariant, int, error) {
	if opts.Skip < 0 {
		return nil, 0, fmt.Errorf("%w: options.skip must not be negative, got %d", outcome.ErrInvalidInput, opts.Skip)
	}
	if opts.Take < 0 {
		return nil, 0, fmt.Errorf("%w: options.take must not be negative, got %d", outcome.ErrInvalidInput, opts.Take)
	}
	if opts.Take > s.maxTake {
		return nil, 0, fmt.Errorf("%w: Cannot take more than %d results from a list query", outcome.ErrInvalidInput, s.maxTake)
	}
	if opts.Take == 0 {
		opts.Take = s.maxTake
	}
	var rows []*entity.ProductVariant
	q := s.db.NewSelect().Model(&rows).Where("pv.deleted_at IS NULL")
	if conds := variantConditions(opts); len(conds) > 0 {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for _, c := range conds {
				if opts.Or {
					q = q.WhereOr(c.query, c.args...)
				} else {
					q = q.Where(c.query, c.args...)
				}
			}
			return q
		})
	}
	for _, srt := range opts.Sort {
		dir := "ASC"
		if srt.Desc {
			dir = "DESC"
		}
		q = q.OrderExpr("? "+dir, bun.Ident("pv."+string(srt.Field)))
	}
	q = q.OrderExpr("pv.id ASC").Offset(int64(opts.Skip)).Limit(int64(opts.Take))
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list product variants: %w", err)
	}
	return rows, int(total), nil
}

type condition struct {
	query string
	args  []any
}

// variantConditions is one condition per filtered field.
func variantConditions(opts ProductVariantListOptions) []condition {
	var out []condition
	if opts.IDs != nil {
		if len(opts.IDs) == 0 {
			out = append(out, condition{query: "1 = 0"})
		} else {
			out = append(out, condition{"pv.id IN (?)", []any{bun.List(opts.IDs)}})
		}
	}
	for _, f := range []struct {
		col string
		f   *StringFilter
	}{{"pv.sku", opts.SKU}, {"pv.name", opts.Name}} {
		if f.f == nil {
			continue
		}
		var parts []string
		var args []any
		if f.f.Eq != nil {
			parts, args = append(parts, "? = ?"), append(args, bun.Ident(f.col), *f.f.Eq)
		}
		if f.f.Contains != nil {
			parts = append(parts, `LOWER(?) LIKE ? ESCAPE '\'`)
			args = append(args, bun.Ident(f.col), "%"+likeEscape(strings.ToLower(*f.f.Contains))+"%")
		}
		if f.f.In != nil {
			if len(f.f.In) == 0 {
				parts = append(parts, "1 = 0")
			} else {
				parts, args = append(parts, "? IN (?)"), append(args, bun.Ident(f.col), bun.List(f.f.In))
			}
		}
		if len(parts) > 0 {
			out = append(out, condition{"(" + strings.Join(parts, " AND ") + ")", args})
		}
	}
	return out
}

// likeEscape escapes LIKE's wildcards and the escape character itself.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
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
