package session_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sessionOwnerFiles are the only sources that may insert, update or delete
// `session` rows: the session service. Every revocation goes through its
// revoking helpers (DELETE … RETURNING, the outbox row in the same
// transaction, eviction after commit), so a writer elsewhere would leave
// cached copies that no longer match their row.
var sessionOwnerFiles = regexp.MustCompile(`^service/session/[a-z_]+\.go$`)

// sessionWriteExempt are writers outside the server that are allowed to
// write the table: the benchmark seeding tool fills a database the server
// has not started on yet.
var sessionWriteExempt = map[string]string{
	"internal/cmd/seedsessions/seed.go":   "seeds a benchmark database before any server runs",
	"internal/cmd/seedsessions/tokens.go": "seeds a benchmark database before any server runs",
}

// sessionSQLWrite matches SQL text that writes the session table (and not
// session_cache_outbox or another table whose name starts with session).
var sessionSQLWrite = regexp.MustCompile(`(?i)\b(insert\s+into|update|delete\s+from)\s+"?session"?(\s|$|\()`)

// TestOnlyTheSessionOwnerWritesSessions scans every non-test Go source of
// the module for writes of the session table: a bun NewInsert, NewUpdate or
// NewDelete whose model is an entity.Session, SQL text that inserts into,
// updates or deletes from session, or a COPY into it. Any outside the
// session owner's files fails the test, with the file and line.
func TestOnlyTheSessionOwnerWritesSessions(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	var offenders []string
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		scanned++
		if sessionOwnerFiles.MatchString(rel) || sessionWriteExempt[rel] != "" {
			return nil
		}
		for _, w := range sessionWrites(t, path) {
			offenders = append(offenders, rel+":"+w)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, scanned, 50, "the scan found the module's sources")
	require.Empty(t, offenders, "only package service/session may write session rows; go through the session owner instead")
}

// TestSessionWriteScanFindsWrites proves the scan on writes of each shape.
func TestSessionWriteScanFindsWrites(t *testing.T) {
	t.Parallel()
	src := `package x
func f() {
	db.NewUpdate().Model((*entity.Session)(nil)).Set("active_order_id = NULL").Exec(ctx)
	row := &entity.Session{}
	db.NewInsert().Model(row).Exec(ctx)
	t.NewDelete().Model(&entity.Session{}).Where("id = ?", 1).Exec(ctx)
	db.NewRaw("DELETE FROM session WHERE id = ?", 1).Exec(ctx)
	db.NewRaw(` + "`UPDATE \"session\" SET expires = ?`" + `).Exec(ctx)
	conn.CopyFrom(ctx, pgx.Identifier{"session"}, cols, rows)
	db.NewRaw("UPDATE session_cache_outbox SET applied_at = ?").Exec(ctx)
	db.NewSelect().Model((*entity.Session)(nil)).Scan(ctx)
}`
	path := filepath.Join(t.TempDir(), "x.go")
	require.NoError(t, writeFile(path, src))
	require.Len(t, sessionWrites(t, path), 6)
}

// sessionWrites returns the line and a short description of each write of
// the session table in a Go file.
func sessionWrites(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	require.NoError(t, err, path)
	// Variables assigned an entity.Session value in this file.
	sessionVars := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
			for i, rhs := range as.Rhs {
				if id, ok := as.Lhs[i].(*ast.Ident); ok && mentionsSession(rhs) {
					sessionVars[id.Name] = true
				}
			}
		}
		return true
	})
	var out []string
	at := func(n ast.Node, what string) {
		out = append(out, strconv.Itoa(fset.Position(n.Pos()).Line)+" "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Model" || len(n.Args) != 1 || !chainHas(sel.X, "NewInsert", "NewUpdate", "NewDelete") {
				return true
			}
			arg := n.Args[0]
			if id, ok := arg.(*ast.Ident); ok && sessionVars[id.Name] || mentionsSession(arg) {
				at(n, "bun write of entity.Session")
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				s, err := strconv.Unquote(n.Value)
				if err == nil && sessionSQLWrite.MatchString(s) {
					at(n, "SQL write of session")
				}
			}
		case *ast.CompositeLit:
			if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Identifier" && len(n.Elts) == 1 {
				if lit, ok := n.Elts[0].(*ast.BasicLit); ok && lit.Value == `"session"` {
					at(n, "COPY into session")
				}
			}
		}
		return true
	})
	return out
}

// mentionsSession reports whether an expression names the entity.Session
// type.
func mentionsSession(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Session" {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "entity" {
				found = true
			}
		}
		return !found
	})
	return found
}

// chainHas reports whether a method chain calls one of names.
func chainHas(e ast.Expr, names ...string) bool {
	for {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		for _, n := range names {
			if sel.Sel.Name == n {
				return true
			}
		}
		e = sel.X
	}
}

func writeFile(path, src string) error { return os.WriteFile(path, []byte(src), 0o600) }
