// Package wasm runs Plenum's sandboxed plugins with wazero: one compiled
// module per plugin version (with an on-disk compilation cache), a bounded
// pool of initialised instances per plugin, per-call deadlines, memory and
// size limits, capability-gated host functions and a circuit breaker.
//
// See README.md beside this file for the ABI.
package wasm

import (
	"errors"
	"fmt"

	"github.com/plenum-vote/plenum/sdk"
)

// The kinds of failure of a plugin call or load. Test with errors.Is.
var (
	// ErrTrap: the guest trapped or panicked. The instance is discarded.
	ErrTrap = errors.New("plugin trapped")
	// ErrTimeout: the call passed its deadline. The instance is discarded.
	ErrTimeout = errors.New("plugin call timed out")
	// ErrOutOfMemory: the guest hit its memory limit. The instance is
	// discarded.
	ErrOutOfMemory = errors.New("plugin ran out of memory")
	// ErrInputTooLarge: the input exceeds the plugin's input limit.
	ErrInputTooLarge = errors.New("plugin input too large")
	// ErrOutputTooLarge: the output exceeds the plugin's output limit.
	ErrOutputTooLarge = errors.New("plugin output too large")
	// ErrCircuitOpen: the plugin failed too often and is resting.
	ErrCircuitOpen = errors.New("plugin circuit open")
	// ErrPluginError: the plugin's handler returned an error.
	ErrPluginError = errors.New("plugin returned an error")
	// ErrUnknownHook: the plugin does not implement the hook.
	ErrUnknownHook = errors.New("plugin does not implement the hook")
	// ErrClosed: the plugin or runtime was closed.
	ErrClosed = errors.New("plugin closed")
	// ErrInvalidModule: the module cannot be loaded (corrupt, too large,
	// wrong ABI, missing exports, capability not granted).
	ErrInvalidModule = errors.New("invalid plugin module")
)

// CallError wraps a failed call with the plugin and hook it concerns.
type CallError struct {
	Plugin string
	Hook   sdk.Hook
	// Kind is one of the Err… values above.
	Kind error
	// Detail says more: the guest's error or panic message (untrusted
	// text: log it, do not render it as HTML) or the limit that was hit.
	Detail string
	// Err is the underlying cause, if any (a wazero error, a context
	// error).
	Err error
}

// Error returns "plugin NAME, hook HOOK: KIND[: DETAIL]".
func (e *CallError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("plugin %s, hook %s: %v: %s", e.Plugin, e.Hook, e.Kind, e.Detail)
	}
	return fmt.Sprintf("plugin %s, hook %s: %v", e.Plugin, e.Hook, e.Kind)
}

// Unwrap lets errors.Is match the kind and the cause.
func (e *CallError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// FailurePolicy says what the host does when a hook's plugin fails.
type FailurePolicy int

// The policies.
const (
	// FailClosed: the operation the hook guards is refused.
	FailClosed FailurePolicy = iota
	// FailOpen: the operation goes ahead as if the hook allowed it.
	FailOpen
)

// DefaultPolicy returns the failure policy of hook h: what the caller
// does when the hook's plugin fails (any error of Call), so that every
// path of the host honours the same rule. Every hook fails closed; so do
// unknown hooks.
func DefaultPolicy(h sdk.Hook) FailurePolicy {
	switch h {
	case sdk.HookTally, sdk.HookValidateBallot:
		// A tally or ballot check that cannot run must not produce a
		// result.
		return FailClosed
	case sdk.HookScanUpload, sdk.HookScanMessage:
		// A file or message that cannot be scanned is not delivered.
		return FailClosed
	case sdk.HookRetention:
		// A retention decision that cannot be made deletes nothing.
		return FailClosed
	case sdk.HookEmbargo:
		// The embargo hook decides whether to serve a request at all. A
		// sanctions rule that silently lapses when its plugin breaks is a
		// legal risk, so the host answers such requests with a plain "try
		// again later" page and an alert instead.
		return FailClosed
	case sdk.HookSignupRisk:
		// A sign-up that cannot be assessed is challenged, not waved
		// through.
		return FailClosed
	}
	return FailClosed
}
