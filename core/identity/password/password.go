package password

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Default lengths, in code points.
const (
	DefaultMinLength             = 12
	DefaultMinLengthSingleFactor = 15
	DefaultMaxLength             = 128
)

// minIdentity is the shortest identity string (e-mail local part, name,
// tenant name) that a password may not contain; shorter ones would
// reject too many good passwords.
const minIdentity = 4

// Policy is a password policy. A zero length field means its default;
// see [DefaultPolicy].
type Policy struct {
	// MinLength is the least number of code points, when the password
	// comes with a second factor. At least 8; default 12.
	MinLength int
	// MinLengthSingleFactor is the least number of code points when the
	// password is the account's only factor. At least 15; default 15.
	MinLengthSingleFactor int
	// MaxLength is the greatest number of code points. At least 64 and
	// at most 1024; default 128.
	MaxLength int
	// Blocklist holds the common passwords to reject. Nil disables the
	// check; DefaultPolicy sets the embedded list.
	Blocklist *Blocklist
}

// DefaultPolicy returns the default policy with the embedded blocklist,
// which is decompressed on the first Check. Create the policy once and
// share it: copies share the loaded list.
func DefaultPolicy() Policy {
	return Policy{
		MinLength:             DefaultMinLength,
		MinLengthSingleFactor: DefaultMinLengthSingleFactor,
		MaxLength:             DefaultMaxLength,
		Blocklist:             embeddedBlocklist(),
	}
}

// withDefaults returns p with zero length fields set to their defaults.
func (p Policy) withDefaults() Policy {
	if p.MinLength == 0 {
		p.MinLength = DefaultMinLength
	}
	if p.MinLengthSingleFactor == 0 {
		p.MinLengthSingleFactor = max(DefaultMinLengthSingleFactor, p.MinLength)
	}
	if p.MaxLength == 0 {
		p.MaxLength = DefaultMaxLength
	}
	return p
}

// Validate reports whether p is a sound policy: MinLength at least 8,
// MinLengthSingleFactor at least 15 and at least MinLength, MaxLength at
// least 64, at least both minimums and at most 1024.
func (p Policy) Validate() error {
	p = p.withDefaults()
	var errs []error
	if p.MinLength < 8 {
		errs = append(errs, fmt.Errorf("MinLength %d is below 8", p.MinLength))
	}
	if p.MinLengthSingleFactor < 15 {
		errs = append(errs, fmt.Errorf("MinLengthSingleFactor %d is below 15", p.MinLengthSingleFactor))
	}
	if p.MinLengthSingleFactor < p.MinLength {
		errs = append(errs, fmt.Errorf("MinLengthSingleFactor %d is below MinLength %d", p.MinLengthSingleFactor, p.MinLength))
	}
	if p.MaxLength < 64 {
		errs = append(errs, fmt.Errorf("MaxLength %d is below 64", p.MaxLength))
	}
	if p.MaxLength > 1024 {
		errs = append(errs, fmt.Errorf("MaxLength %d is above 1024", p.MaxLength))
	}
	if p.MaxLength < p.MinLength || p.MaxLength < p.MinLengthSingleFactor {
		errs = append(errs, fmt.Errorf("MaxLength %d is below a minimum length", p.MaxLength))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("password: invalid policy: %w", err)
	}
	return nil
}

// Context is what Check knows about the account whose password it checks.
// All fields are optional.
type Context struct {
	// Email is the user's e-mail address.
	Email string
	// TenantName is the association's display name.
	TenantName string
	// TenantSlug is the association's short name in URLs.
	TenantSlug string
	// UserName is the user's full name.
	UserName string
	// SingleFactor is true when the password is the account's only
	// factor; the longer MinLengthSingleFactor applies.
	SingleFactor bool
	// Breached, when set, is asked last whether the password appears in
	// known breaches.
	Breached BreachChecker
}

// BreachChecker tells whether a password appears in known data breaches.
type BreachChecker interface {
	// Breached reports whether pw is known to be breached.
	Breached(ctx context.Context, pw string) (bool, error)
}

func violation(r Reason, msg string) error {
	return &Violation{Reason: r, Message: msg}
}

// Check returns nil when pw meets the policy, a [*Violation] (matching
// [ErrWeak]) naming the first rule it breaks, or another error when the
// blocklist cannot be loaded, the breach checker fails or ctx is done.
// The rules are checked in the order of the [Reason] constants, the
// breach checker last and only for a password that passes all others;
// it receives pw exactly as given.
func (p Policy) Check(ctx context.Context, pw string, c Context) error {
	p = p.withDefaults()
	if !utf8.ValidString(pw) {
		return violation(InvalidUTF8, "The password contains bytes that are not valid text. Please type it again.")
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return violation(ControlCharacter, "Remove tabs, line breaks and other invisible control characters from the password.")
		}
	}
	nfc := norm.NFC.String(pw)
	n := utf8.RuneCountInString(nfc)
	minLen := p.MinLength
	if c.SingleFactor {
		minLen = p.MinLengthSingleFactor
	}
	if n < minLen {
		return violation(TooShort, fmt.Sprintf("Use at least %d characters. A few unrelated words make a long password that is easy to remember.", minLen))
	}
	if n > p.MaxLength {
		return violation(TooLong, fmt.Sprintf("Use at most %d characters.", p.MaxLength))
	}

	folded := fold(nfc)
	if containsIdentity(folded, c) {
		return violation(ContainsIdentity, "Do not use your e-mail address, your name or the name of your association in the password.")
	}
	runes := []rune(folded)
	if isRepetitive(runes, minLen) {
		return violation(Repetitive, "Avoid repeating a character or a group of characters. Add different words instead.")
	}
	if isSequential(runes, folded) {
		return violation(Sequential, "Avoid sequences such as 1234, abcd or qwerty. Add unrelated words instead.")
	}
	if p.Blocklist != nil {
		common, err := p.Blocklist.Contains(nfc)
		if err != nil {
			return fmt.Errorf("password: check blocklist: %w", err)
		}
		if common {
			return violation(Common, "This password is too common and easy to guess. Choose another one, for example a few unrelated words.")
		}
	}
	if c.Breached != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("password: check breaches: %w", err)
		}
		breached, err := c.Breached.Breached(ctx, pw)
		if err != nil {
			return fmt.Errorf("password: check breaches: %w", err)
		}
		if breached {
			return violation(Breached, "This password has appeared in a data breach, so attackers know it. Choose another one.")
		}
	}
	return nil
}

// fold returns s compatibility-normalised (NFKC) and case-folded, so that
// "Ｃｏｎｄｏ", "CONDO" and "condo" compare equal.
func fold(s string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

// compact returns s with everything but letters and digits removed.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// identities returns the folded identity strings of c that a password
// may not contain.
func identities(c Context) []string {
	var out []string
	add := func(s string) {
		if utf8.RuneCountInString(s) >= minIdentity {
			out = append(out, s)
		}
	}
	if e := fold(strings.TrimSpace(c.Email)); e != "" {
		add(e)
		local := e
		if a, err := mail.ParseAddress(e); err == nil {
			local = a.Address
		}
		if i := strings.LastIndexByte(local, '@'); i >= 0 {
			local = local[:i]
		}
		add(local)
		add(compact(local))
		for _, part := range strings.FieldsFunc(local, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			add(part)
		}
	}
	for _, s := range []string{c.TenantName, c.TenantSlug} {
		f := fold(strings.TrimSpace(s))
		add(f)
		add(compact(f))
	}
	if u := fold(strings.TrimSpace(c.UserName)); u != "" {
		add(u)
		add(compact(u))
		for _, part := range strings.FieldsFunc(u, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			add(part)
		}
	}
	return out
}

// containsIdentity reports whether the folded password contains one of
// c's identity strings, as is or with everything but letters and digits
// removed.
func containsIdentity(folded string, c Context) bool {
	ids := identities(c)
	if len(ids) == 0 {
		return false
	}
	compacted := compact(folded)
	for _, id := range ids {
		if strings.Contains(folded, id) || strings.Contains(compacted, id) {
			return true
		}
	}
	return false
}

// maxRun is the length of a run of one character, or of a sequence, that
// makes a password repetitive or sequential.
const maxRun = 4

// isRepetitive reports whether r holds one character maxRun times in a
// row, or is nothing but a unit repeated, the unit shorter than minLen:
// such a password is no stronger than its unit.
func isRepetitive(r []rune, minLen int) bool {
	run := 1
	for i := 1; i < len(r); i++ {
		if r[i] == r[i-1] {
			run++
			if run >= maxRun {
				return true
			}
		} else {
			run = 1
		}
	}
	n := len(r)
	for u := 1; u <= n/2 && u < minLen; u++ {
		if n%u != 0 {
			continue
		}
		repeated := true
		for i := u; i < n; i++ {
			if r[i] != r[i-u] {
				repeated = false
				break
			}
		}
		if repeated {
			return true
		}
	}
	return false
}

// keyboardAnywhere is the length of a piece of a keyboard row that is
// rejected wherever it starts; the beginning of a row is rejected from
// maxRun characters on. "erty" alone (as in "liberty") is fine.
const keyboardAnywhere = 6

// isSequential reports whether r holds maxRun letters or digits in
// ascending or descending order ("1234", "dcba"), the first maxRun
// characters of a keyboard row ("qwer", "asdf") or keyboardAnywhere
// consecutive characters of a row ("wertyu").
func isSequential(r []rune, folded string) bool {
	asc, desc := 1, 1
	for i := 1; i < len(r); i++ {
		alnum := isSeqRune(r[i]) && isSeqRune(r[i-1])
		switch {
		case alnum && r[i] == r[i-1]+1:
			asc, desc = asc+1, 1
		case alnum && r[i] == r[i-1]-1:
			asc, desc = 1, desc+1
		default:
			asc, desc = 1, 1
		}
		if asc >= maxRun || desc >= maxRun {
			return true
		}
	}
	// Rows of common keyboard layouts (QWERTY, QWERTZ, AZERTY) and a few
	// diagonal patterns, each both ways round.
	rows := [...]string{
		"qwertyuiop", "poiuytrewq", "asdfghjkl", "lkjhgfdsa", "zxcvbnm", "mnbvcxz",
		"qwertzuiop", "poiuztrewq", "yxcvbnm", "mnbvcxy",
		"azertyuiop", "poiuytreza", "qsdfghjklm", "mlkjhgfdsq", "wxcvbn", "nbvcxw",
		"1qaz2wsx3edc", "qazwsxedc", "zaq1xsw2",
	}
	for _, row := range rows {
		if strings.Contains(folded, row[:maxRun]) {
			return true
		}
		for i := 0; i+keyboardAnywhere <= len(row); i++ {
			if strings.Contains(folded, row[i:i+keyboardAnywhere]) {
				return true
			}
		}
	}
	return false
}

// isSeqRune reports whether r is a character whose code point order is
// an alphabet's order: an ASCII letter or digit.
func isSeqRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z'
}
