package service_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// layers are the service packages from the bottom up: each may import only
// those before it (and the shared ones), never one after it, so the
// dependencies have one direction (package service's doc and
// docs/design.md draw them).
var layers = []string{"outcome", "ratelimit", "audit", "session", "access", "account", "order", "catalog", "seed"}

// shared are imported by any layer and import none.
var shared = []string{"internal/setup", "password", "clientinfo"}

const servicePath = "github.com/shopsession/sessionserver/service/"

// The service packages import each other only downwards, and every
// package under service/ is a layer or shared, so a new one is placed on
// purpose.
func TestServiceLayers(t *testing.T) {
	t.Parallel()
	for i, name := range append(slices.Clone(layers), shared...) {
		pkg, err := build.Default.Import(servicePath+name, ".", 0)
		require.NoError(t, err, name)
		for _, imp := range pkg.Imports {
			dep, ok := strings.CutPrefix(imp, servicePath)
			if !ok {
				continue
			}
			require.False(t, slices.Contains(shared, name), "shared package %s imports %s", name, dep)
			if slices.Contains(shared, dep) {
				continue
			}
			at := slices.Index(layers, dep)
			require.NotEqual(t, -1, at, "%s imports %s, which is in no layer", name, dep)
			require.Less(t, at, i, "%s imports %s, a layer above it: declare an interface in %s instead", name, dep, name)
		}
	}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == "." {
			return err
		}
		if _, err := build.Default.ImportDir(p, 0); err != nil {
			return nil // no Go package here (or only tests)
		}
		rel := filepath.ToSlash(p)
		require.True(t, slices.Contains(layers, rel) || slices.Contains(shared, rel), "service/%s is in no layer", rel)
		return nil
	})
	require.NoError(t, err)
}
