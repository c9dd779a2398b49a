// Package identity holds accounts and sign-in: for now the platform's
// operator accounts, Argon2id password hashing and server-side sessions.
// Tenant members, MFA, invitations and SSO are added here by later work.
package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// ArgonParams are Argon2id cost parameters.
type ArgonParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// OWASPParams returns the OWASP Password Storage Cheat Sheet's Argon2id
// parameters: 19 MiB, 2 passes, 1 thread.
func OWASPParams() ArgonParams { return ArgonParams{Memory: 19 * 1024, Time: 2, Threads: 1} }

// Bounds on parameters read from a stored hash, so a corrupted or hostile
// row cannot make verification exhaust memory or time.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 10
	maxThreads = 16
	saltLen    = 16
	keyLen     = 32
)

// ErrMalformedHash is returned for a stored hash that cannot be parsed.
var ErrMalformedHash = errors.New("malformed password hash")

// PasswordHasher hashes and verifies passwords with Argon2id.
type PasswordHasher struct {
	params ArgonParams
}

// NewPasswordHasher returns a hasher using p for new hashes. Tests may pass
// small parameters; production code passes OWASPParams (the default of
// OperatorOptions.Hasher).
func NewPasswordHasher(p ArgonParams) *PasswordHasher { return &PasswordHasher{params: p} }

// Hash returns the PHC string of password:
// $argon2id$v=19$m=…,t=…,p=…$salt$key (unpadded standard base64).
func (h *PasswordHasher) Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, comparing in constant
// time, and whether encoded was made with weaker parameters (or a shorter
// salt or key) than the hasher's, so the caller should store a fresh hash.
// The parameters are read from encoded; a malformed encoding, or one whose
// parameters exceed 1 GiB, 10 passes or 16 threads, is ErrMalformedHash.
func (h *PasswordHasher) Verify(encoded, password string) (ok, needsRehash bool, err error) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, h.weaker(p, len(salt), len(key)), nil
}

// weaker reports whether a hash made with p, a salt of saltN bytes and a
// key of keyN bytes is weaker than what h makes today.
func (h *PasswordHasher) weaker(p ArgonParams, saltN, keyN int) bool {
	c := h.params
	return p.Memory < c.Memory || p.Time < c.Time || p.Threads < c.Threads || saltN < saltLen || keyN < keyLen
}

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$key strictly: the three
// parameters in that order, each once, within the bounds above.
func parsePHC(s string) (ArgonParams, []byte, []byte, error) {
	var p ArgonParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	kvs := strings.Split(parts[3], ",")
	if len(kvs) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	var n [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kvs[i], name+"=")
		if !ok || v == "" || len(v) > 10 {
			return p, nil, nil, ErrMalformedHash
		}
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformedHash
		}
		n[i] = x
	}
	if n[0] < 8 || n[0] > maxMemory || n[1] < 1 || n[1] > maxTime || n[2] < 1 || n[2] > maxThreads || n[0] < 8*n[2] {
		return p, nil, nil, ErrMalformedHash
	}
	p = ArgonParams{Memory: uint32(n[0]), Time: uint32(n[1]), Threads: uint8(n[2])}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

// ErrWeakPassword is wrapped by password policy errors.
var ErrWeakPassword = errors.New("password does not meet the policy")

// CheckOperatorPassword applies the operator password policy (NIST SP
// 800-63B for a single factor): 15 to 128 characters, valid UTF-8, any
// characters, no composition rules.
func CheckOperatorPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: not valid UTF-8", ErrWeakPassword)
	}
	n := utf8.RuneCountInString(pw)
	if n < 15 {
		return fmt.Errorf("%w: at least 15 characters", ErrWeakPassword)
	}
	if n > 128 {
		return fmt.Errorf("%w: at most 128 characters", ErrWeakPassword)
	}
	return nil
}

// passwordAlphabet has no look-alike characters (0/O, 1/l/I).
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// GeneratePassword returns a random 24-character password (about 139 bits)
// from an alphabet without look-alike characters.
func GeneratePassword() (string, error) {
	var b [24]byte
	out := make([]byte, len(b))
	// Rejection sampling keeps every symbol equally likely.
	limit := byte(256 - 256%len(passwordAlphabet))
	for i := 0; i < len(out); {
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		for _, c := range b {
			if c < limit && i < len(out) {
				out[i] = passwordAlphabet[int(c)%len(passwordAlphabet)]
				i++
			}
		}
	}
	return string(out), nil
}
