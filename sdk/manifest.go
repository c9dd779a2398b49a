package sdk

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Manifest describes a plugin: what it is, which hooks it implements, what
// it may call and how much it may use. It travels beside the module as
// JSON (plugin.json) and is signed together with it.
type Manifest struct {
	Name         string          `json:"name"`
	Version      string          `json:"version"`
	ABI          int             `json:"abi"`
	Description  string          `json:"description,omitempty"`
	Hooks        []string        `json:"hooks"`
	Capabilities []string        `json:"capabilities,omitempty"`
	Limits       ManifestLimits  `json:"limits,omitempty"`
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
	Signature    *Signature      `json:"signature,omitempty"`
}

// ManifestLimits are what a plugin asks for; the operator's caps clamp
// them.
type ManifestLimits struct {
	MemoryPages    uint32 `json:"memory_pages,omitempty"`
	DeadlineMS     int    `json:"deadline_ms,omitempty"`
	MaxInputBytes  int    `json:"max_input_bytes,omitempty"`
	MaxOutputBytes int    `json:"max_output_bytes,omitempty"`
	MaxLogBytes    int    `json:"max_log_bytes,omitempty"`
}

// Signature is an ed25519 signature over SigningDigest.
type Signature struct {
	// KeyID is the first 8 bytes of the SHA-256 of the public key, hex.
	KeyID string `json:"key_id"`
	// Value is the base64 signature.
	Value string `json:"value"`
}

// knownCapability reports whether a manifest may ask for capability c.
func knownCapability(c string) bool {
	switch c {
	case "log", "config", "clock", "geoip", "kv":
		return true
	}
	return false
}

var (
	nameRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)
)

// ErrManifest is wrapped by every manifest error.
var ErrManifest = errors.New("invalid plugin manifest")

// ParseManifest decodes a manifest strictly (unknown fields are errors)
// and validates it.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%w: larger than 1 MiB", ErrManifest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the manifest", ErrManifest)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the manifest's meaning.
func (m *Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrManifest}, args...)...)
	}
	if !nameRE.MatchString(m.Name) {
		return bad("name %q must be lower-case letters, digits and hyphens, starting with a letter", m.Name)
	}
	if !semverRE.MatchString(m.Version) {
		return bad("version %q is not semantic versioning (e.g. 1.2.3)", m.Version)
	}
	if m.ABI != ABIVersion {
		return bad("abi %d: this host supports %d", m.ABI, ABIVersion)
	}
	if len(m.Hooks) == 0 {
		return bad("no hooks")
	}
	seen := map[string]bool{}
	for _, h := range m.Hooks {
		if _, ok := ParseHook(h); !ok {
			return bad("unknown hook %q", h)
		}
		if seen[h] {
			return bad("hook %q listed twice", h)
		}
		seen[h] = true
	}
	for _, c := range m.Capabilities {
		if !knownCapability(c) {
			return bad("unknown capability %q", c)
		}
	}
	l := m.Limits
	switch {
	case l.MemoryPages > 65536:
		return bad("memory_pages %d is more than 4 GiB", l.MemoryPages)
	case l.DeadlineMS < 0 || l.DeadlineMS > 60_000:
		return bad("deadline_ms %d is not between 0 and 60000", l.DeadlineMS)
	case l.MaxInputBytes < 0 || l.MaxOutputBytes < 0 || l.MaxLogBytes < 0:
		return bad("negative limit")
	}
	if len(m.ConfigSchema) > 0 && !json.Valid(m.ConfigSchema) {
		return bad("config_schema is not JSON")
	}
	if len(m.Description) > 1000 {
		return bad("description longer than 1000 bytes")
	}
	return nil
}

// SigningDigest is what a signature covers: SHA-256 over a domain string,
// the module's SHA-256 and the manifest's canonical JSON without its
// signature.
func SigningDigest(m *Manifest, module []byte) ([]byte, error) {
	c := *m
	c.Signature = nil
	body, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	mod := sha256.Sum256(module)
	h := sha256.New()
	h.Write([]byte("plenum-plugin-signature-v1\x00"))
	h.Write(mod[:])
	h.Write(body)
	return h.Sum(nil), nil
}

// KeyID names an ed25519 public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Sign sets m's signature over module with key.
func Sign(m *Manifest, module []byte, key ed25519.PrivateKey) error {
	d, err := SigningDigest(m, module)
	if err != nil {
		return err
	}
	m.Signature = &Signature{
		KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Value: base64.StdEncoding.EncodeToString(ed25519.Sign(key, d)),
	}
	return nil
}

// ErrUnsigned and ErrBadSignature are Verify's failures.
var (
	ErrUnsigned     = errors.New("plugin is not signed")
	ErrBadSignature = errors.New("plugin signature does not verify")
)

// Verify checks m's signature over module against the trusted keys and
// returns the key id that signed it.
func Verify(m *Manifest, module []byte, trusted []ed25519.PublicKey) (string, error) {
	if m.Signature == nil || m.Signature.Value == "" {
		return "", ErrUnsigned
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature.Value)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	d, err := SigningDigest(m, module)
	if err != nil {
		return "", err
	}
	for _, pub := range trusted {
		if KeyID(pub) == m.Signature.KeyID && ed25519.Verify(pub, d, sig) {
			return m.Signature.KeyID, nil
		}
	}
	return "", fmt.Errorf("%w with any trusted key (signed by key %q)", ErrBadSignature, m.Signature.KeyID)
}
