package plugin

import (
	"testing"

	"github.com/plenum-vote/plenum/host/plugintool"
)

// EnvCache names the directory where built plugins and compiled code are
// cached; default the user cache directory's plenum-plugins.
const EnvCache = plugintool.EnvCache

// CacheDir returns the cache directory (EnvCache, or plenum-plugins under
// os.UserCacheDir).
func CacheDir() (string, error) { return plugintool.CacheDir() }

// Build compiles the plugin in dir to wasm with plugintool.Build (cached
// by the content of its sources, sub-packages included, the sdk, go.mod,
// go.sum and the Go version), or fails t.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := plugintool.Build(dir)
	if err != nil {
		t.Fatalf("build plugin %s: %v", dir, err)
	}
	return b
}
