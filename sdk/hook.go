// Package sdk is what a Plenum plugin author imports: the hook types, their
// compact wire encoding, and one Register function per hook, so that a
// plugin is a `package main` of ordinary Go functions. It uses the standard
// library only and holds nothing mutable that the host shares.
//
// A plugin is built with the standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
package sdk

// Hook names a decision point the host delegates to plugins.
type Hook uint32

// The hooks. Their numbers are part of the ABI and never change.
const (
	HookTally          Hook = 1
	HookValidateBallot Hook = 2
	HookScanUpload     Hook = 3
	HookScanMessage    Hook = 4
	HookRetention      Hook = 5
	HookEmbargo        Hook = 6
	HookSignupRisk     Hook = 7
)

// Hooks lists every hook in number order.
func Hooks() []Hook {
	return []Hook{HookTally, HookValidateBallot, HookScanUpload, HookScanMessage, HookRetention, HookEmbargo, HookSignupRisk}
}

var hookNames = [...]string{
	HookTally: "tally", HookValidateBallot: "validate_ballot", HookScanUpload: "scan_upload",
	HookScanMessage: "scan_message", HookRetention: "retention", HookEmbargo: "embargo", HookSignupRisk: "signup_risk",
}

// String returns the hook's name as used in manifests and schemas.
func (h Hook) String() string {
	if h >= 1 && int(h) < len(hookNames) {
		return hookNames[h]
	}
	return "hook(" + itoa(uint32(h)) + ")"
}

// ParseHook maps a hook name to its Hook.
func ParseHook(name string) (Hook, bool) {
	for _, h := range Hooks() {
		if hookNames[h] == name {
			return h, true
		}
	}
	return 0, false
}

// ABIVersion is the version of the contract between host and plugin. It is
// part of the name of the import module that carries the host functions
// (ImportModule), so a plugin built for another version fails at load with
// a clear message instead of misbehaving at run time.
const ABIVersion = 1

// ImportModule is the wasm import module name of the host functions.
const ImportModule = "plenum_v1"

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var b [10]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
