package gqlutil

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// msgIntrospectionDisabled refuses __schema and __type when introspection
// is off.
const msgIntrospectionDisabled = "Introspection is turned off on this server (INTROSPECTION; off by default with APP_ENV=production), " +
	"and the query asks for __schema or __type"

// introspectionGuard refuses an operation that selects __schema or __type
// while introspection is off, after validation and before execution, as a
// validation error (GRAPHQL_VALIDATION_FAILED, with a validation error's
// status), as Apollo Server does. Without it gqlgen runs the operation and
// its introspection fields fail with an untyped error, which the presenter
// must treat as an internal error. __typename is not introspection.
type introspectionGuard struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionGuard{}

func (introspectionGuard) ExtensionName() string { return "IntrospectionGuard" }

func (introspectionGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionGuard) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || !opCtx.DisableIntrospection || !selectsIntrospection(opCtx.Doc, opCtx.Operation.SelectionSet, map[string]bool{}) {
		return nil
	}
	err := gqlerror.Errorf("%s", msgIntrospectionDisabled)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// selectsIntrospection reports whether a root selection set selects
// __schema or __type, directly or through fragments (each fragment is
// looked at once). Only the root type has them.
func selectsIntrospection(doc *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__schema" || sel.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if selectsIntrospection(doc, sel.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[sel.Name] {
				continue
			}
			seen[sel.Name] = true
			if def := doc.Fragments.ForName(sel.Name); def != nil && selectsIntrospection(doc, def.SelectionSet, seen) {
				return true
			}
		}
	}
	return false
}
