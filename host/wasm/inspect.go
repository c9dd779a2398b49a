package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/plenum-vote/plenum/sdk"
)

// ModuleInfo describes a module without running it.
type ModuleInfo struct {
	Size    int
	SHA256  string
	Imports []string // "module.name"
	Exports []string
	// ABI is the plugin ABI the module was built for (from the name of
	// its host-function import module), or 0 if it imports none.
	ABI int
	// Plugin reports whether the module has the exports of a Plenum
	// plugin.
	Plugin bool
}

// Inspect compiles module (without instantiating it) and lists what it
// imports and exports.
func Inspect(ctx context.Context, module []byte) (*ModuleInfo, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, module)
	if err != nil {
		return nil, fmt.Errorf("%w: does not compile: %v", ErrInvalidModule, err)
	}
	sum := sha256.Sum256(module)
	info := &ModuleInfo{Size: len(module), SHA256: hex.EncodeToString(sum[:])}
	for _, def := range m.ImportedFunctions() {
		mod, name, _ := def.Import()
		info.Imports = append(info.Imports, mod+"."+name)
		if v, ok := strings.CutPrefix(mod, "plenum_v"); ok {
			fmt.Sscanf(v, "%d", &info.ABI)
		}
	}
	exports := m.ExportedFunctions()
	for name := range exports {
		info.Exports = append(info.Exports, name)
	}
	sort.Strings(info.Imports)
	sort.Strings(info.Exports)
	_, a := exports[sdk.ExportInput]
	_, b := exports[sdk.ExportCall]
	_, c := exports["_initialize"]
	info.Plugin = a && b && c
	if info.Plugin && info.ABI == 0 {
		info.ABI = sdk.ABIVersion
	}
	return info, nil
}
