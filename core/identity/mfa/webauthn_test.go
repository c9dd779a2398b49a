package mfa_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

const (
	testRPID   = "vote.example.org"
	testOrigin = "https://vote.example.org"
)

var b64 = base64.RawURLEncoding

// softKey is a software authenticator holding one ECDSA P-256 credential
// with "none" attestation.
type softKey struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	id     []byte
	aaguid []byte
	count  uint32
	origin string
}

func newSoftKey(t *testing.T) *softKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	aaguid := []byte("plenum-test-key!")
	return &softKey{t: t, key: k, id: id, aaguid: aaguid, origin: testOrigin}
}

func (k *softKey) clientData(typ string, challenge protocol.URLEncodedBase64) []byte {
	b, err := json.Marshal(map[string]any{
		"type": typ, "challenge": b64.EncodeToString(challenge), "origin": k.origin, "crossOrigin": false,
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

// authData builds authenticator data: rpIdHash, flags, counter and, when
// attested, the credential id and its COSE public key.
func (k *softKey) authData(attested bool) []byte {
	rp := sha256.Sum256([]byte(testRPID))
	flags := byte(0x01 | 0x04) // user present, user verified
	if attested {
		flags |= 0x40
	}
	var b bytes.Buffer
	b.Write(rp[:])
	b.WriteByte(flags)
	_ = binary.Write(&b, binary.BigEndian, k.count)
	if attested {
		b.Write(k.aaguid)
		_ = binary.Write(&b, binary.BigEndian, uint16(len(k.id)))
		b.Write(k.id)
		pub, err := k.key.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			k.t.Fatal(err)
		}
		cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
		if err != nil {
			k.t.Fatal(err)
		}
		b.Write(cose)
	}
	return b.Bytes()
}

func post(t *testing.T, body any) *http.Request {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, testOrigin+"/mfa/passkey", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// create answers navigator.credentials.create.
func (k *softKey) create(c *protocol.CredentialCreation) *http.Request {
	k.count++
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		k.t.Fatal(err)
	}
	return post(k.t, map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", c.Response.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
}

// get answers navigator.credentials.get, signing with counter value count.
func (k *softKey) get(a *protocol.CredentialAssertion, userID string) *http.Request {
	cd := k.clientData("webauthn.get", a.Response.Challenge)
	ad := k.authData(false)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	return post(k.t, map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString([]byte(userID)),
		},
	})
}

func newPasskeys(t *testing.T, f *fixture) *mfa.Passkeys {
	t.Helper()
	p, err := mfa.NewPasskeys(f.svc, webauthn.Config{RPID: testRPID, RPDisplayName: "Plenum", RPOrigins: []string{testOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// register runs a whole registration ceremony with k.
func register(t *testing.T, p *mfa.Passkeys, tenant, user string, k *softKey) mfa.Credential {
	t.Helper()
	ctx := context.Background()
	c, err := p.BeginRegistration(ctx, tenant, user, "member@example.org")
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	cred, err := p.FinishRegistration(ctx, tenant, user, "user:"+user, "Laptop", k.create(c))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return cred
}

// login runs a whole login ceremony with k at its current counter.
func login(t *testing.T, p *mfa.Passkeys, tenant, user string, k *softKey) error {
	t.Helper()
	ctx := context.Background()
	a, err := p.BeginLogin(ctx, tenant, user)
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	return p.FinishLogin(ctx, tenant, user, k.get(a, user))
}

func TestPasskeys(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{})
		p := newPasskeys(t, f)
		k := newSoftKey(t)

		if _, err := p.BeginLogin(ctx, f.a, "u1"); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Fatalf("BeginLogin without passkeys = %v, want ErrNotEnrolled", err)
		}
		if err := p.FinishLogin(ctx, f.a, "u1", post(t, map[string]any{})); !errors.Is(err, mfa.ErrNoCeremony) {
			t.Fatalf("FinishLogin without ceremony = %v, want ErrNoCeremony", err)
		}
		cred := register(t, p, f.a, "u1", k)
		if !bytes.Equal(cred.ID, k.id) || !bytes.Equal(cred.AAGUID, k.aaguid) || cred.Label != "Laptop" || cred.SignCount != 1 {
			t.Fatalf("registered %+v", cred)
		}
		if st, err := f.svc.Factors(ctx, f.a, "u1"); err != nil || st.WebAuthn != 1 || !st.Enrolled() {
			t.Fatalf("Factors = %+v, %v; want one passkey", st, err)
		}

		// Logins advance the counter.
		k.count = 5
		if err := login(t, p, f.a, "u1", k); err != nil {
			t.Fatalf("FinishLogin: %v", err)
		}
		list, err := p.Credentials(ctx, f.a, "u1")
		if err != nil || len(list) != 1 || list[0].SignCount != 5 || list[0].LastUsedAt == nil {
			t.Fatalf("Credentials = %+v, %v", list, err)
		}

		tests := []struct {
			name  string
			count uint32
			want  error
		}{
			{"same counter", 5, mfa.ErrSignCount},
			{"counter went back", 3, mfa.ErrSignCount},
			{"counter advanced", 9, nil},
		}
		for _, tt := range tests {
			k.count = tt.count
			if err := login(t, p, f.a, "u1", k); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("%s: FinishLogin = %v, want %v", tt.name, err, tt.want)
			}
		}

		// A ceremony finishes once: replaying the same assertion fails.
		k.count = 20
		a, err := p.BeginLogin(ctx, f.a, "u1")
		if err != nil {
			t.Fatal(err)
		}
		body := k.get(a, "u1")
		buf := new(bytes.Buffer)
		_, _ = buf.ReadFrom(body.Body)
		again := func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, testOrigin+"/mfa/passkey", bytes.NewReader(buf.Bytes()))
			r.Header.Set("Content-Type", "application/json")
			return r
		}
		if err := p.FinishLogin(ctx, f.a, "u1", again()); err != nil {
			t.Fatalf("FinishLogin: %v", err)
		}
		if err := p.FinishLogin(ctx, f.a, "u1", again()); !errors.Is(err, mfa.ErrNoCeremony) {
			t.Fatalf("replayed FinishLogin = %v, want ErrNoCeremony", err)
		}

		// A wrong origin or another key does not verify.
		k.count = 30
		k.origin = "https://evil.example"
		if err := login(t, p, f.a, "u1", k); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("login from another origin = %v, want ErrInvalid", err)
		}
		k.origin = testOrigin
		other := newSoftKey(t)
		other.id = k.id
		other.count = 40
		if err := login(t, p, f.a, "u1", other); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("login signed by another key = %v, want ErrInvalid", err)
		}

		// Registering the same credential again is refused by exclusion.
		c, err := p.BeginRegistration(ctx, f.a, "u1", "member@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Response.CredentialExcludeList) != 1 {
			t.Errorf("exclude list has %d entries, want 1", len(c.Response.CredentialExcludeList))
		}

		// Tenant B sees nothing of it.
		if list, err := p.Credentials(ctx, f.b, "u1"); err != nil || len(list) != 0 {
			t.Errorf("tenant B Credentials = %+v, %v", list, err)
		}
		if _, err := p.BeginLogin(ctx, f.b, "u1"); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Errorf("tenant B BeginLogin = %v, want ErrNotEnrolled", err)
		}
		if err := p.RemoveCredential(ctx, f.b, "u1", "user:u1", k.id); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Errorf("tenant B RemoveCredential = %v, want ErrNotEnrolled", err)
		}

		if err := p.RemoveCredential(ctx, f.a, "u1", "user:u1", k.id); err != nil {
			t.Fatalf("RemoveCredential: %v", err)
		}
		if st, err := f.svc.Factors(ctx, f.a, "u1"); err != nil || st.WebAuthn != 0 {
			t.Fatalf("Factors after remove = %+v, %v", st, err)
		}

		// Reset removes passkeys too.
		k2 := newSoftKey(t)
		register(t, p, f.a, "u1", k2)
		if err := f.svc.Reset(ctx, f.a, "u1", "user:admin"); err != nil {
			t.Fatal(err)
		}
		if list, err := p.Credentials(ctx, f.a, "u1"); err != nil || len(list) != 0 {
			t.Errorf("Credentials after Reset = %+v, %v", list, err)
		}
		acts := map[string]bool{}
		for _, a := range f.actions(t, f.a) {
			acts[a] = true
		}
		for _, want := range []string{"mfa.webauthn.register", "mfa.webauthn.remove", "mfa.verify.failure", "mfa.reset"} {
			if !acts[want] {
				t.Errorf("audit lacks %s", want)
			}
		}
	})
}
