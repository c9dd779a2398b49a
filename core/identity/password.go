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

// NewPasswordHasher returns a hasher using p for new hashes.
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

// Verify reports whether password matches encoded, in constant time, and
// whether encoded was made with weaker parameters than the hasher's, so
// the caller should store a fresh hash.
func (h *PasswordHasher) Verify(encoded, password string) (ok, needsRehash bool, err error) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	needsRehash = p.Memory < h.params.Memory || p.Time < h.params.Time || p.Threads < h.params.Threads
	return ok, needsRehash, nil
}

func parsePHC(s string) (ArgonParams, []byte, []byte, error) {
	var p ArgonParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, ErrMalformedHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformedHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, ErrMalformedHash
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, ErrMalformedHash
		}
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads || p.Memory < 8*uint32(p.Threads) {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
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
