// Command permlist rewrites gqlgen's generated marshaler of [Permission!]!
// so that it returns one auth.PermissionList, which writes the whole list.
//
// gqlgen v0.17 marshals every element of a non-scalar list in its own
// goroutine, enums included. CurrentUser.channels.permissions holds up to
// every permission per channel, so an admin `me` started a goroutine per
// permission per channel per request (docs/benchmarks.md, "Cached `me`",
// has what it cost). Enum elements resolve nothing, so writing them in one
// go is equivalent.
//
// Usage (from tools.go, after gqlgen): go run ./internal/cmd/permlist DIR...
// It rewrites DIR/*.generated.go in place, is idempotent, and fails when a
// DIR has no such marshaler, so a change in gqlgen's naming is noticed
// instead of silently losing the rewrite.
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
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: permlist DIR...")
		os.Exit(2)
	}
	for _, dir := range os.Args[1:] {
		files, err := filepath.Glob(filepath.Join(dir, "*.generated.go"))
		if err != nil {
			fail(err)
		}
		found := 0
		for _, f := range files {
			n, err := rewrite(f)
			if err != nil {
				fail(fmt.Errorf("%s: %w", f, err))
			}
			found += n
		}
		if found == 0 {
			fail(fmt.Errorf("%s: no marshaler of [Permission!]! found; did gqlgen rename it?", dir))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "permlist:", err)
	os.Exit(1)
}

// isPermissionListMarshaler matches gqlgen's marshaler of [Permission!]!:
// marshalNPermission2ᚕ…ᚄ (non-null list of non-null elements) whose value
// parameter is []auth.Permission.
func isPermissionListMarshaler(fn *ast.FuncDecl) bool {
	name := fn.Name.Name
	if !strings.HasPrefix(name, "marshalNPermission2ᚕ") || !strings.HasSuffix(name, "ᚄ") {
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

// rewrite replaces the body of every [Permission!]! marshaler in one file and
// reports how many it found.
func rewrite(path string) (int, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return 0, err
	}
	found := 0
	for _, decl := range file.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && isPermissionListMarshaler(fn) {
			fn.Body = permissionListBody(fn)
			found++
		}
	}
	if found == 0 {
		return 0, nil
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, file); err != nil {
		return 0, err
	}
	return found, os.WriteFile(path, buf.Bytes(), 0o644)
}
