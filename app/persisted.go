package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/graph/adminapi"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/graph/shopapi"
	"github.com/shopsession/sessionserver/persisted"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/password"
)

// defaultSuperadminPassword is SUPERADMIN_PASSWORD's default (Vendure's),
// which production refuses to run with.
const defaultSuperadminPassword = "superadmin"

// queryLimits are MAX_QUERY_*.
func queryLimits(cfg config.Config) gqlutil.Limits {
	return gqlutil.Limits{
		MaxTokens: cfg.MaxQueryTokens, MaxFields: cfg.MaxQueryFields,
		MaxDepth: cfg.MaxQueryDepth, MaxAliases: cfg.MaxQueryAliases,
		MaxFragments: cfg.MaxQueryFragments,
	}
}

// registeredDocuments are the registered documents of each API
// (PERSISTED_DOCUMENTS, ADMIN_PERSISTED_DOCUMENTS), nil where none.
type registeredDocuments struct {
	shop, admin *persisted.Documents
}

// loadDocuments reads the registered documents of both APIs and checks
// each against its API's schema and the limits, so that a server never
// starts with a document it would refuse: every problem is reported, each
// naming its document.
func loadDocuments(cfg config.Config, log *slog.Logger) (registeredDocuments, error) {
	var docs registeredDocuments
	for _, api := range []struct {
		variable, path string
		only           bool
		schema         func() *ast.Schema
		dst            **persisted.Documents
	}{
		{"PERSISTED_DOCUMENTS", cfg.PersistedDocuments, cfg.PersistedDocumentsOnly, func() *ast.Schema { return shopapi.NewSchema(&shopapi.Resolver{}).Schema() }, &docs.shop},
		{"ADMIN_PERSISTED_DOCUMENTS", cfg.AdminPersistedDocuments, cfg.AdminPersistedDocumentsOnly, func() *ast.Schema { return adminapi.NewSchema(&adminapi.Resolver{}).Schema() }, &docs.admin},
	} {
		if api.path == "" {
			continue
		}
		d, err := persisted.Load(api.path)
		if err != nil {
			return docs, fmt.Errorf("%s: %w", api.variable, err)
		}
		if err := gqlutil.CheckDocuments(api.schema(), queryLimits(cfg), d.All()); err != nil {
			return docs, fmt.Errorf("%s: %s: every registered document must be valid: %w", api.variable, api.path, err)
		}
		*api.dst = d
		log.Info("persisted documents registered", "variable", api.variable, "path", api.path, "documents", d.Len(), "only", api.only)
		for _, doc := range d.All() {
			log.Debug("persisted document", "variable", api.variable, "id", doc.ID, "name", doc.Name)
		}
	}
	return docs, nil
}

// newDocumentStore returns APQ's store (nil with APQ off): Redis when there
// is one, falling back to this instance's memory while Redis fails or its
// budget is spent (see persisted.Fallback), memory otherwise.
func (a *App) newDocumentStore(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger, now func() time.Time) (gqlutil.DocumentStore, error) {
	if !cfg.APQ {
		return nil, nil
	}
	a.APQMemory = persisted.NewMemory(cfg.APQCacheBytes)
	client, err := a.redisClient(ctx, cfg, opts, log)
	if err != nil || client == nil {
		return a.APQMemory, err
	}
	return &persisted.Fallback{
		Primary: persisted.NewRedis(client, persisted.RedisOptions{
			KeyPrefix: opts.RedisKeyPrefix + persisted.DefaultRedisKeyPrefix,
			TTL:       cfg.APQTTL, MaxBytes: cfg.APQCacheBytes,
			Timeout: cfg.SessionCacheTimeout, NowFunc: now,
		}),
		Secondary: a.APQMemory,
		OnError: func(err error) {
			log.Warn("persisted queries: redis failed or full; using this instance's memory", "err", err)
		},
	}, nil
}

// refuseDefaultPassword refuses production while the superadmin still logs
// in with the default password. The stored password is what counts:
// SUPERADMIN_PASSWORD only sets it when the superadmin is created, and an
// operator may have changed it since through the Admin API.
func refuseDefaultPassword(ctx context.Context, a *App, hasher password.Hasher, cfg config.Config) error {
	if !cfg.Production() {
		return nil
	}
	qctx, cancel := context.WithTimeout(ctx, cfg.DBQueryTimeout)
	defer cancel()
	isDefault, err := access.SuperadminPasswordIs(qctx, a.DB, hasher, cfg.SuperadminIdentifier, defaultSuperadminPassword)
	if err != nil {
		return fmt.Errorf("APP_ENV=production: %w", err)
	}
	if !isDefault {
		return nil
	}
	why := "SUPERADMIN_PASSWORD is the default"
	if cfg.SuperadminPassword != defaultSuperadminPassword {
		why = "SUPERADMIN_PASSWORD only sets the password when the superadmin is created, which happened with the default"
	}
	return fmt.Errorf("APP_ENV=production: the superadmin %q still has the default password %q (%s): "+
		"set SUPERADMIN_PASSWORD before the database is first set up, or change the password "+
		"(updateActiveAdministrator on the Admin API, with APP_ENV=development), then start again",
		cfg.SuperadminIdentifier, defaultSuperadminPassword, why)
}
