// Command seqlists rewrites gqlgen's generated marshalers of enum lists.
// gqlgen v0.17 marshals every non-scalar list element in its own goroutine,
// enums included; CurrentUser.channels.permissions holds up to ~90 enum
// values per channel, so an admin `me` started ~90 goroutines per channel per
// request. Enum elements resolve nothing, so:
//
//   - the marshaler of [Permission!]! becomes one auth.PermissionList, which
//     writes the whole list (no goroutine, no per-element allocation);
//   - any other marshaler of a list of one of the named enums calls
//     gqlutil.MarshalSliceSequentially instead of
//     graphql.MarshalSliceConcurrently.
//
// Measured with BenchmarkMeHTTP (admin me with permissions, 2 vCPU):
// 108 µs/op and 861 allocs before, see the README for after.
//
// Usage (from tools.go, after gqlgen): go run ./internal/cmd/seqlists DIR...
// It rewrites DIR/*.generated.go in place and is idempotent.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
)

const gqlutilPath = "github.com/shopsession/sessionserver/graph/gqlutil"

// enums whose list marshalers are rewritten.
var enums = []string{"Permission", "ErrorCode"}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: seqlists DIR...")
		os.Exit(2)
	}
	for _, dir := range os.Args[1:] {
		files, err := filepath.Glob(filepath.Join(dir, "*.generated.go"))
		if err != nil {
			fail(err)
		}
		for _, f := range files {
			if err := rewrite(f); err != nil {
				fail(fmt.Errorf("%s: %w", f, err))
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "seqlists:", err)
	os.Exit(1)
}

// isEnumListMarshaler reports whether a generated function marshals a list
// of one of the enums: gqlgen names them marshal{N|O}<Enum>2ᚕ…
func isEnumListMarshaler(name string) bool {
	for _, e := range enums {
		for _, p := range []string{"marshalN", "marshalO"} {
			if strings.HasPrefix(name, p+e+"2ᚕ") {
				return true
			}
		}
	}
	return false
}

// isPermissionListMarshaler matches the marshaler of [Permission!]!: a
// non-null list of non-null elements (gqlgen's name ends in ᚄ) whose value
// parameter is []auth.Permission.
func isPermissionListMarshaler(fn *ast.FuncDecl) bool {
	if !strings.HasPrefix(fn.Name.Name, "marshalNPermission2ᚕ") || !strings.HasSuffix(fn.Name.Name, "ᚄ") {
		return false
	}
	params := fn.Type.Params.List
	if len(params) != 3 || len(params[2].Names) != 1 {
		return false
	}
	arr, ok := params[2].Type.(*ast.ArrayType)
	if !ok {
		return false
	}
	sel, ok := arr.Elt.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Permission"
}

// permissionListBody is `{ return auth.PermissionList(v) }`.
func permissionListBody(fn *ast.FuncDecl) *ast.BlockStmt {
	v := fn.Type.Params.List[2].Names[0].Name
	return &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{
		&ast.CallExpr{
			Fun:  &ast.SelectorExpr{X: ast.NewIdent("auth"), Sel: ast.NewIdent("PermissionList")},
			Args: []ast.Expr{ast.NewIdent(v)},
		},
	}}}}
}

func rewrite(path string) error {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	changed := false
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || !isEnumListMarshaler(fn.Name.Name) {
			continue
		}
		if isPermissionListMarshaler(fn) {
			fn.Body = permissionListBody(fn)
			changed = true
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "MarshalSliceConcurrently" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "graphql" {
				pkg.Name = "gqlutil"
				sel.Sel.Name = "MarshalSliceSequentially"
				changed = true
			}
			return true
		})
	}
	if !changed {
		return nil
	}
	if usesIdent(file, "gqlutil") {
		astutil.AddImport(fset, file, gqlutilPath)
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, file); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// usesIdent reports whether the file refers to package name pkg.
func usesIdent(file *ast.File, pkg string) bool {
	found := false
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
				found = true
			}
		}
		return !found
	})
	return found
}
