package adminapi

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/service/outcome"
)

// adminOutcomeMembers is every outcome of the Admin API with the member it
// maps to: its own errorCode and its message.
var adminOutcomeMembers = []struct {
	err  outcome.Outcome
	want any
}{
	{&outcome.EmailAddressConflictError{}, &model.EmailAddressConflictError{
		ErrorCode: "EMAIL_ADDRESS_CONFLICT_ERROR", Message: "The email address is not available.",
	}},
	{&outcome.LanguageNotAvailableError{LanguageCode: "zh"}, &model.LanguageNotAvailableError{
		ErrorCode: "LANGUAGE_NOT_AVAILABLE_ERROR", LanguageCode: "zh",
		Message: `Language "zh" is not available. First add it to the Channel's availableLanguageCodes and try again`,
	}},
}

// Every Admin outcome maps to the member of its name, however deeply it is
// wrapped; an error that holds none stays an error.
func TestAdminErrorResult(t *testing.T) {
	t.Parallel()
	for _, c := range adminOutcomeMembers {
		for _, err := range []error{c.err, fmt.Errorf("flow: %w", c.err)} {
			got, ok := errorResult(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, c.want, got, "%T", c.err)
		}
	}
	_, ok := errorResult(errors.New("connection refused"))
	require.False(t, ok)

	u, err := result[model.UpdateChannelResult]((*struct{})(nil), fmt.Errorf("update: %w", &outcome.LanguageNotAvailableError{LanguageCode: "zh"}))
	require.NoError(t, err)
	require.IsType(t, &model.LanguageNotAvailableError{}, u)
	fault := errors.New("connection refused")
	_, err = result[model.UpdateChannelResult]((*struct{})(nil), fault)
	require.ErrorIs(t, err, fault)
}

// Every Outcome declared in package outcome's admin_errors.go and
// shared_errors.go has a row above, so a new Admin outcome cannot reach a
// client as a fault.
func TestEveryAdminOutcomeHasAMember(t *testing.T) {
	t.Parallel()
	declared := map[string]bool{}
	for _, name := range []string{"admin_errors.go", "shared_errors.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "..", "service", "outcome", name), nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "ErrorCode" {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			require.True(t, ok, "ErrorCode on a pointer receiver")
			declared[star.X.(*ast.Ident).Name] = true
		}
	}
	require.NotEmpty(t, declared)
	covered := map[string]bool{}
	for _, c := range adminOutcomeMembers {
		covered[fmt.Sprintf("%T", c.err)[len("*outcome."):]] = true
	}
	require.Equal(t, declared, covered, "outcomes with and without a member")
}

// A deletion answers Vendure's DeletionResponse: DELETED, NOT_DELETED with
// the reason, or the error.
func TestDeletion(t *testing.T) {
	t.Parallel()
	got, err := deletion(nil)
	require.NoError(t, err)
	require.Equal(t, &model.DeletionResponse{Result: model.DeletionResultDeleted}, got)
	got, err = deletion(fmt.Errorf("delete: %w", &outcome.NotDeletedError{Reason: "kept"}))
	require.NoError(t, err)
	reason := "kept"
	require.Equal(t, &model.DeletionResponse{Result: model.DeletionResultNotDeleted, Message: &reason}, got)
	_, err = deletion(outcome.ErrForbidden)
	require.ErrorIs(t, err, outcome.ErrForbidden)
}
