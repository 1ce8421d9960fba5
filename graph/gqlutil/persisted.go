package gqlutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/persisted"
)

// DocumentStore holds the documents clients register with automatic
// persisted queries, by their SHA-256 hash (a persisted.Store). An error
// is a store that could not be reached: a lookup that fails is a miss, a
// registration that fails is dropped.
type DocumentStore interface {
	Get(ctx context.Context, hash string) (doc string, ok bool, err error)
	Add(ctx context.Context, hash, doc string) error
}

// DocumentRegistry finds registered documents by id: the id their file
// gives them, or their SHA-256 hash (persisted.Documents).
type DocumentRegistry interface {
	Lookup(id string) (doc string, ok bool)
}

// Persisted configures the persisted documents of one API. The zero value
// turns them off: documents are sent whole, and a request naming one by
// hash is answered PERSISTED_QUERY_NOT_SUPPORTED.
//
// A request names a document in one of three ways:
//   - extensions.persistedQuery {version: 1, sha256Hash} (Apollo's
//     automatic persisted queries, on POST and GET). With the hash alone,
//     the registered document of that hash runs, else the one a client
//     registered in Store, else the answer is PERSISTED_QUERY_NOT_FOUND
//     (HTTP 200), and an Apollo client sends the hash again with the
//     document. With both, the document must hash to sha256Hash
//     (PERSISTED_QUERY_HASH_MISMATCH otherwise, HTTP 400); it runs, and is
//     added to Store once it has passed the limits, parsed, validated and
//     had its variables checked, so only a valid document within the
//     limits is ever stored;
//   - documentId (GraphQL Code Generator's persisted documents, in the
//     body or the URL), without a query: the registered document of that
//     id (PERSISTED_QUERY_NOT_FOUND otherwise);
//   - query alone: the document itself.
//
// With Only, a document that is not registered is refused with
// PERSISTED_QUERY_NOT_ALLOWED (HTTP 400) before it is parsed, however it
// is sent: registered documents run by hash, by documentId, or sent whole
// with the identical text. Store is then neither read nor written.
type Persisted struct {
	// Store holds the documents clients register; nil turns automatic
	// persisted queries off.
	Store DocumentStore
	// Documents are the registered documents (PERSISTED_DOCUMENTS); nil
	// means none. Check them with CheckDocuments first.
	Documents DocumentRegistry
	// Only refuses every document that is not among Documents.
	Only bool
}

// persistedExtension resolves the document a request names (see
// Persisted) before the limits and gqlgen's parser see it, and registers a
// client's document once it has been validated.
type persistedExtension struct {
	cfg Persisted
	log *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*persistedExtension)(nil)

func (*persistedExtension) ExtensionName() string { return "PersistedDocuments" }

func (*persistedExtension) Validate(graphql.ExecutableSchema) error { return nil }

// persistedStatsKey keys the request's pending registration in its
// operation context's stats.
const persistedStatsKey = "PersistedDocuments"

// registration is a document to add to the store once it has validated.
type registration struct{ hash string }

// MutateOperationParameters finds the document the request names, or
// refuses the request.
func (e *persistedExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	hash, hasHash, err := persistedHash(p.Extensions)
	if err != nil {
		return err
	}
	id, hasID := documentIDFrom(ctx)
	switch {
	case hasID:
		if p.Query != "" || hasHash {
			return gqlerr.New(gqlerr.CodePersistedQueryInvalid, "Send a documentId or a query (with or without extensions.persistedQuery), not both")
		}
		if !persisted.ValidID(id) {
			return gqlerr.New(gqlerr.CodePersistedQueryInvalid, fmt.Sprintf("documentId must be 1 to %d letters, digits and -_.: (a manifest's id, or the document's SHA-256)", persisted.MaxIDLength))
		}
		doc, ok := e.registered(id)
		if !ok {
			return gqlerr.New(gqlerr.CodePersistedQueryNotFound, fmt.Sprintf("No registered document has the documentId %q", id))
		}
		p.Query = doc
		return nil
	case hasHash && p.Query == "":
		if doc, ok := e.registered(hash); ok {
			p.Query = doc
			return nil
		}
		if e.cfg.Only {
			return gqlerr.New(gqlerr.CodePersistedQueryNotFound, gqlerr.MsgPersistedQueryNotFound)
		}
		if e.cfg.Store == nil {
			return gqlerr.New(gqlerr.CodePersistedQueryNotSupported, gqlerr.MsgPersistedQueryNotSupported)
		}
		doc, ok, err := e.cfg.Store.Get(ctx, hash)
		if err != nil {
			e.log.WarnContext(ctx, "persisted queries: lookup failed; answered as not found", "err", err)
		}
		if !ok {
			return gqlerr.New(gqlerr.CodePersistedQueryNotFound, gqlerr.MsgPersistedQueryNotFound)
		}
		p.Query = doc
		return nil
	case hasHash:
		if persisted.Hash(p.Query) != hash {
			return gqlerr.New(gqlerr.CodePersistedQueryHashMismatch, "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent (hash the document's exact text, in UTF-8)")
		}
		if doc, ok := e.registered(hash); ok && doc == p.Query {
			return nil
		}
		if e.cfg.Only {
			return notAllowed()
		}
		if e.cfg.Store != nil {
			graphql.GetOperationContext(ctx).Stats.SetExtension(persistedStatsKey, &registration{hash: hash})
		}
		return nil
	case e.cfg.Only:
		if doc, ok := e.registered(persisted.Hash(p.Query)); ok && doc == p.Query {
			return nil
		}
		return notAllowed()
	}
	return nil
}

// MutateOperationContext stores the document of a registration, now that
// it has passed the limits, parsed and validated. A store that fails is
// logged; the request goes on.
func (e *persistedExtension) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	r, _ := opCtx.Stats.GetExtension(persistedStatsKey).(*registration)
	if r == nil {
		return nil
	}
	if err := e.cfg.Store.Add(ctx, r.hash, opCtx.RawQuery); err != nil {
		e.log.WarnContext(ctx, "persisted queries: registration failed", "err", err)
	}
	return nil
}

// registered returns the registered document of id.
func (e *persistedExtension) registered(id string) (string, bool) {
	if e.cfg.Documents == nil {
		return "", false
	}
	return e.cfg.Documents.Lookup(id)
}

func notAllowed() *gqlerror.Error {
	return gqlerr.New(gqlerr.CodePersistedQueryNotAllowed, "Only registered documents run on this API: send a registered document, by its documentId, its extensions.persistedQuery.sha256Hash or its identical text")
}

// persistedHash reads extensions.persistedQuery: its sha256Hash (64 hex
// digits, returned in lower case) and whether it is there at all.
func persistedHash(ext map[string]any) (string, bool, *gqlerror.Error) {
	raw, ok := ext["persistedQuery"]
	if !ok || raw == nil {
		return "", false, nil
	}
	pq, ok := raw.(map[string]any)
	if !ok {
		return "", false, gqlerr.New(gqlerr.CodePersistedQueryInvalid, `extensions.persistedQuery must be an object: {"version": 1, "sha256Hash": "<the document's SHA-256, 64 hex digits>"}`)
	}
	var version string
	switch v := pq["version"].(type) {
	case json.Number:
		version = v.String()
	case float64:
		version = fmt.Sprint(v)
	}
	if version != "1" {
		return "", false, gqlerr.New(gqlerr.CodePersistedQueryInvalid, "Unsupported persisted query version: extensions.persistedQuery.version must be 1")
	}
	hash, _ := pq["sha256Hash"].(string)
	hash = strings.ToLower(hash)
	if !persisted.IsHash(hash) {
		return "", false, gqlerr.New(gqlerr.CodePersistedQueryInvalid, "extensions.persistedQuery.sha256Hash must be 64 hex digits: the SHA-256 of the document")
	}
	return hash, true, nil
}

// documentIDKey keys the request's documentId in its context: gqlgen's
// RawParams has no field for it, so the transports put it there.
type documentIDKey struct{}

func withDocumentID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, documentIDKey{}, id)
}

func documentIDFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(documentIDKey{}).(string)
	return id, ok
}

// persistedStatus is the HTTP status of a refusal of the persisted
// documents, or 0 for any other code: 200 for a document not found or not
// supported, which Apollo clients answer by sending the document (older
// ones turn persisted queries off for good on a 400 or a 500), 400 for the
// others.
func persistedStatus(code string) int {
	switch code {
	case gqlerr.CodePersistedQueryNotFound, gqlerr.CodePersistedQueryNotSupported:
		return http.StatusOK
	case gqlerr.CodePersistedQueryHashMismatch, gqlerr.CodePersistedQueryInvalid, gqlerr.CodePersistedQueryNotAllowed:
		return http.StatusBadRequest
	}
	return 0
}

// CheckDocuments checks registered documents against an API's schema
// (gqlgen's own validation rules) and the limits, and reports every
// document that fails, naming it, or nil: a server refuses to start on
// one, instead of refusing the document to every client that sends it.
// A document must define at least one operation.
func CheckDocuments(schema *ast.Schema, limits Limits, docs []persisted.Document) error {
	var errs []error
	for _, d := range docs {
		name := d.ID
		if d.Name != "" {
			name += " (" + d.Name + ")"
		}
		if err := checkDocument(schema, limits, d.Text); err != nil {
			errs = append(errs, fmt.Errorf("document %s: %s", name, err))
		}
	}
	return errors.Join(errs...)
}

// checkDocument returns the first problem of one document, or nil.
func checkDocument(schema *ast.Schema, limits Limits, text string) error {
	if err := limits.CheckQuery(text); err != nil {
		return err
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: text})
	if err != nil {
		return err
	}
	if len(doc.Operations) == 0 {
		return errors.New("it defines no operation")
	}
	if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
		return errs[0]
	}
	return nil
}
