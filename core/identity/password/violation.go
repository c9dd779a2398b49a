package password

import "errors"

// ErrWeak is matched, with errors.Is, by every [*Violation]: the password
// does not meet the policy.
var ErrWeak = errors.New("password does not meet the policy")

// Reason says which rule of the policy a password breaks.
type Reason int

// The reasons a password is rejected.
const (
	// TooShort: fewer code points than the policy's minimum.
	TooShort Reason = iota + 1
	// TooLong: more code points than the policy's maximum.
	TooLong
	// InvalidUTF8: the password is not valid UTF-8 text.
	InvalidUTF8
	// ControlCharacter: the password contains a control character such
	// as a tab, a line break or NUL.
	ControlCharacter
	// ContainsIdentity: the password contains the user's e-mail address,
	// name, or the tenant's name or slug.
	ContainsIdentity
	// Repetitive: the password repeats a character or a short unit.
	Repetitive
	// Sequential: the password contains a run like "1234", "abcd" or a
	// keyboard row like "qwerty".
	Sequential
	// Common: the password is on the blocklist of common passwords.
	Common
	// Breached: the password appears in known data breaches.
	Breached
)

// String returns a short lower-case name of r, for logs and metrics.
func (r Reason) String() string {
	switch r {
	case TooShort:
		return "too short"
	case TooLong:
		return "too long"
	case InvalidUTF8:
		return "invalid UTF-8"
	case ControlCharacter:
		return "control character"
	case ContainsIdentity:
		return "contains identity"
	case Repetitive:
		return "repetitive"
	case Sequential:
		return "sequential"
	case Common:
		return "common"
	case Breached:
		return "breached"
	}
	return "unknown"
}

// Violation is the error [Policy.Check] returns for a password that does
// not meet the policy.
type Violation struct {
	// Reason is the rule the password breaks.
	Reason Reason
	// Message tells the user, in plain English, what is wrong and what to
	// do instead. It never contains the password.
	Message string
}

// Error returns v.Message.
func (v *Violation) Error() string { return v.Message }

// Is reports whether target is [ErrWeak].
func (v *Violation) Is(target error) bool { return target == ErrWeak }
