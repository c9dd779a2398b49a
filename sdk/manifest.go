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
	"io"
	"slices"
	"strings"
)

// Manifest describes a plugin: what it is, which hooks it implements, what
// it may call and how much it may use. It travels beside the module as
// JSON (plugin.json, described by schemas/plugin.schema.json) and is
// signed together with it.
type Manifest struct {
	// Name is lower-case letters, digits and hyphens, starting with a
	// letter, at most 63 bytes.
	Name string `json:"name"`
	// Version is a semantic version (2.0.0), e.g. "1.2.0" or "2.0.0-beta.1".
	Version string `json:"version"`
	// ABI is the ABI version the module was built for (ABIVersion).
	ABI         int    `json:"abi"`
	Description string `json:"description,omitempty"`
	// Hooks are the hook names the plugin implements (Hook.String).
	Hooks []string `json:"hooks"`
	// Capabilities are the host functions the plugin asks for: "log",
	// "config", "clock", "geoip", "kv". The operator grants them.
	Capabilities []string       `json:"capabilities,omitempty"`
	Limits       ManifestLimits `json:"limits,omitempty"`
	// ConfigSchema is the JSON Schema of the plugin's configuration.
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
	// Signature is added by "plenum plugin sign".
	Signature *Signature `json:"signature,omitempty"`
}

// Upper bounds of ManifestLimits that ParseManifest accepts. The
// operator's caps clamp the limits further.
const (
	MaxMemoryPages    = 65536    // 4 GiB, all of wasm32's memory
	MaxDeadlineMS     = 60_000   // one minute
	MaxInputBytes     = 64 << 20 // 64 MiB
	MaxOutputBytes    = 64 << 20
	MaxLogBytes       = 1 << 20
	maxManifestBytes  = 1 << 20
	maxDescription    = 1000
	maxNameBytes      = 63
	maxConfigSchema   = 256 << 10
	signatureIDLength = 16
)

// ManifestLimits are what a plugin asks for; zero means the host's
// default, and the operator's caps clamp them.
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

// ErrManifest is wrapped by every manifest error.
var ErrManifest = errors.New("invalid plugin manifest")

// ParseManifest decodes a manifest strictly (unknown fields, trailing
// data and documents over 1 MiB are errors) and validates it.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%w: larger than 1 MiB", ErrManifest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the manifest", ErrManifest)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks the manifest's meaning: name, semantic version, ABI,
// known and distinct hooks and capabilities, limits within the Max
// bounds, a config schema that is a JSON object, a well-formed signature.
func (m *Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrManifest}, args...)...)
	}
	if !validName(m.Name) {
		return bad("name %q must be lower-case letters, digits and hyphens, starting with a letter, at most %d bytes", m.Name, maxNameBytes)
	}
	if !ValidSemver(m.Version) {
		return bad("version %q is not semantic versioning (e.g. 1.2.3)", m.Version)
	}
	if m.ABI != ABIVersion {
		return bad("abi %d: this host supports %d", m.ABI, ABIVersion)
	}
	if len(m.Description) > maxDescription {
		return bad("description longer than %d bytes", maxDescription)
	}
	if len(m.Hooks) == 0 {
		return bad("no hooks")
	}
	for i, h := range m.Hooks {
		if _, ok := ParseHook(h); !ok {
			return bad("unknown hook %q", h)
		}
		if slices.Contains(m.Hooks[:i], h) {
			return bad("hook %q listed twice", h)
		}
	}
	for i, c := range m.Capabilities {
		if !knownCapability(c) {
			return bad("unknown capability %q", c)
		}
		if slices.Contains(m.Capabilities[:i], c) {
			return bad("capability %q listed twice", c)
		}
	}
	l := m.Limits
	switch {
	case l.MemoryPages > MaxMemoryPages:
		return bad("memory_pages %d is more than %d (4 GiB)", l.MemoryPages, MaxMemoryPages)
	case l.DeadlineMS < 0 || l.DeadlineMS > MaxDeadlineMS:
		return bad("deadline_ms %d is not between 0 and %d", l.DeadlineMS, MaxDeadlineMS)
	case l.MaxInputBytes < 0 || l.MaxInputBytes > MaxInputBytes:
		return bad("max_input_bytes %d is not between 0 and %d", l.MaxInputBytes, MaxInputBytes)
	case l.MaxOutputBytes < 0 || l.MaxOutputBytes > MaxOutputBytes:
		return bad("max_output_bytes %d is not between 0 and %d", l.MaxOutputBytes, MaxOutputBytes)
	case l.MaxLogBytes < 0 || l.MaxLogBytes > MaxLogBytes:
		return bad("max_log_bytes %d is not between 0 and %d", l.MaxLogBytes, MaxLogBytes)
	}
	if len(m.ConfigSchema) > 0 {
		if len(m.ConfigSchema) > maxConfigSchema {
			return bad("config_schema larger than %d bytes", maxConfigSchema)
		}
		if t := bytes.TrimSpace(m.ConfigSchema); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
			return bad("config_schema is not a JSON object")
		}
	}
	if s := m.Signature; s != nil {
		if len(s.KeyID) != signatureIDLength || !isLowerHex(s.KeyID) {
			return bad("signature key_id %q is not %d lower-case hex digits", s.KeyID, signatureIDLength)
		}
		if _, err := base64.StdEncoding.DecodeString(s.Value); err != nil || s.Value == "" {
			return bad("signature value is not base64")
		}
	}
	return nil
}

// validName reports whether s is a plugin name: [a-z][a-z0-9-]{0,62}.
func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameBytes || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidSemver reports whether v is a semantic version 2.0.0 without a
// leading "v": MAJOR.MINOR.PATCH, numbers without leading zeros, an
// optional pre-release (-beta.1, numeric parts without leading zeros) and
// optional build metadata (+build.5).
func ValidSemver(v string) bool {
	core, build, hasBuild := strings.Cut(v, "+")
	if hasBuild && !dotParts(build, false) {
		return false
	}
	core, pre, hasPre := strings.Cut(core, "-")
	if hasPre && !dotParts(pre, true) {
		return false
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !numeric(p) || len(p) > 1 && p[0] == '0' {
			return false
		}
	}
	return true
}

// dotParts checks dot-separated identifiers of [0-9A-Za-z-]; in a
// pre-release, numeric identifiers have no leading zeros.
func dotParts(s string, pre bool) bool {
	for _, p := range strings.Split(s, ".") {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && numeric(p) && len(p) > 1 && p[0] == '0' {
			return false
		}
	}
	return true
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
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
