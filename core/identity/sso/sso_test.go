package sso

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/testkit"
	"github.com/plenum-vote/plenum/testkit/oidctest"
)

// events records identity events, checking each is on a tenant chain.
type events struct {
	mu  sync.Mutex
	evs []identity.Event
}

func (e *events) Record(_ context.Context, tx *store.Tx, ev identity.Event) error {
	if tx.TenantID() == "" {
		return errors.New("event outside a tenant")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
	return nil
}

func (e *events) actions() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.evs {
		out = append(out, ev.Action)
	}
	return out
}

type noChanges struct{}

func (noChanges) Record(context.Context, *store.Tx, tenancy.Change) error { return nil }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	svc  *Service
	rec  *events
	clk  *clock
	a, b string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	master, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := crypto.NewKeyring(ctx, db, master)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{rec: &events{}, clk: &clock{t: time.Now().UTC()}}
	ten := tenancy.NewService(db, keys, noChanges{}, nil)
	for i, id := range []*string{&f.a, &f.b} {
		tn, err := ten.Create(ctx, tenancy.CreateRequest{Slug: fmt.Sprintf("assoc-%d", i), Name: "Association", Actor: "system"})
		if err != nil {
			t.Fatal(err)
		}
		*id = tn.ID
	}
	f.svc = NewService(db, keys, f.rec, Options{Now: f.clk.now})
	return f
}

func oidcProvider(name, issuer string) Provider {
	return Provider{Name: name, Kind: OIDC, DisplayName: "Corp login", Enabled: true,
		Config: Config{Issuer: issuer, ClientID: "plenum", RoleClaim: "groups", RoleMapping: map[string]string{"board-members": "board"}}}
}

func TestProviderStorage(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		meta := identity.RequestMeta{}
		if err := f.svc.Save(ctx, f.a, "user:1", oidcProvider("corp", "https://idp.example.org"), "s3cret", meta); err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Get(ctx, f.a, "corp")
		if err != nil {
			t.Fatal(err)
		}
		if !p.HasSecret || !p.Enabled || p.Config.RoleMapping["board-members"] != "board" || p.Config.Issuer != "https://idp.example.org" {
			t.Errorf("stored provider: %+v", p)
		}
		row, err := f.svc.getRow(ctx, f.a, "corp")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(row.ClientSecret), "s3cret") {
			t.Error("client secret stored in clear")
		}
		if s, err := f.svc.clientSecret(ctx, row); err != nil || s != "s3cret" {
			t.Errorf("client secret: %q %v", s, err)
		}
		// An update without a secret keeps the stored one.
		upd := oidcProvider("corp", "https://idp2.example.org")
		upd.DisplayName = "New name"
		if err := f.svc.Save(ctx, f.a, "user:1", upd, "", meta); err != nil {
			t.Fatal(err)
		}
		row, _ = f.svc.getRow(ctx, f.a, "corp")
		if s, err := f.svc.clientSecret(ctx, row); err != nil || s != "s3cret" || row.DisplayName != "New name" {
			t.Errorf("after update: %q %v %q", s, err, row.DisplayName)
		}
		if err := f.svc.SetEnabled(ctx, f.a, "user:1", "corp", false, meta); err != nil {
			t.Fatal(err)
		}
		if list, err := f.svc.Enabled(ctx, f.a); err != nil || len(list) != 0 {
			t.Errorf("enabled after disable: %v %v", list, err)
		}
		if list, err := f.svc.List(ctx, f.a); err != nil || len(list) != 1 || list[0].Enabled {
			t.Errorf("list: %v %v", list, err)
		}
		if _, _, err := f.svc.BeginOIDC(ctx, f.a, "corp", "https://plenum.example/cb", "/t/x/"); !errors.Is(err, ErrDisabled) {
			t.Errorf("begin with a disabled provider: %v", err)
		}
		// Tenant B sees nothing of A's.
		if _, err := f.svc.Get(ctx, f.b, "corp"); !errors.Is(err, ErrNotFound) {
			t.Errorf("B reads A's provider: %v", err)
		}
		if err := f.svc.SetEnabled(ctx, f.b, "user:2", "corp", true, meta); !errors.Is(err, ErrNotFound) {
			t.Errorf("B enables A's provider: %v", err)
		}
		if list, err := f.svc.List(ctx, f.b); err != nil || len(list) != 0 {
			t.Errorf("B's list: %v %v", list, err)
		}
		want := []string{"sso.provider.create", "sso.provider.update", "sso.provider.disable"}
		if got := f.rec.actions(); !reflect.DeepEqual(got, want) {
			t.Errorf("audit: %v, want %v", got, want)
		}
	})
}

func TestValidate(t *testing.T) {
	ok := oidcProvider("corp", "https://idp.example.org")
	cases := []struct {
		name string
		edit func(p *Provider)
		ok   bool
	}{
		{"valid", func(*Provider) {}, true},
		{"loopback http issuer", func(p *Provider) { p.Config.Issuer = "http://127.0.0.1:5556" }, true},
		{"plain http issuer", func(p *Provider) { p.Config.Issuer = "http://idp.example.org" }, false},
		{"issuer with query", func(p *Provider) { p.Config.Issuer = "https://idp.example.org/?x=1" }, false},
		{"bad name", func(p *Provider) { p.Name = "Corp!" }, false},
		{"short name", func(p *Provider) { p.Name = "c" }, false},
		{"no display name", func(p *Provider) { p.DisplayName = "" }, false},
		{"no client id", func(p *Provider) { p.Config.ClientID = "" }, false},
		{"scope with space", func(p *Provider) { p.Config.Scopes = []string{"a b"} }, false},
		{"unknown kind", func(p *Provider) { p.Kind = "ldap" }, false},
		{"saml without metadata", func(p *Provider) { p.Kind = SAML }, false},
		{"saml with metadata url", func(p *Provider) { p.Kind = SAML; p.Config.SAMLMetadataURL = "https://idp.example.org/md" }, true},
		{"domain with @", func(p *Provider) { p.Config.AllowedDomains = []string{"a@b"} }, false},
		{"domain normalised", func(p *Provider) { p.Config.AllowedDomains = []string{" @Example.ORG "} }, true},
		{"empty role mapping value", func(p *Provider) { p.Config.RoleMapping = map[string]string{"x": ""} }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := ok
			p.Config.RoleMapping = map[string]string{"board-members": "board"}
			c.edit(&p)
			err := p.Validate()
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate() = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestMapRoles(t *testing.T) {
	cfg := Config{RoleClaim: "groups", RoleMapping: map[string]string{"board-members": "board", "admins": "admin", "all": "member", "staff": "member"}}
	nested := cfg
	nested.RoleClaim = "realm_access.roles"
	cases := []struct {
		name   string
		cfg    Config
		claims map[string]any
		want   []string
	}{
		{"list", cfg, map[string]any{"groups": []any{"admins", "board-members", "other"}}, []string{"admin", "board"}},
		{"single string", cfg, map[string]any{"groups": "admins"}, []string{"admin"}},
		{"duplicates collapse", cfg, map[string]any{"groups": []any{"all", "staff"}}, []string{"member"}},
		{"no claim", cfg, map[string]any{}, nil},
		{"wrong type", cfg, map[string]any{"groups": 42.0}, nil},
		{"non-string items ignored", cfg, map[string]any{"groups": []any{1.0, "admins", nil}}, []string{"admin"}},
		{"case matters", cfg, map[string]any{"groups": []any{"Admins"}}, nil},
		{"nested claim", nested, map[string]any{"realm_access": map[string]any{"roles": []any{"admins"}}}, []string{"admin"}},
		{"no mapping configured", Config{RoleClaim: "groups"}, map[string]any{"groups": []any{"admins"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MapRoles(c.cfg, c.claims); !reflect.DeepEqual(got, c.want) {
				t.Errorf("MapRoles = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDomainAllowed(t *testing.T) {
	cases := []struct {
		domains []string
		email   string
		want    bool
	}{
		{nil, "a@anything.example", true},
		{[]string{"example.org"}, "a@example.org", true},
		{[]string{"example.org"}, "a@EXAMPLE.org", true},
		{[]string{"example.org"}, "a@sub.example.org", false},
		{[]string{"example.org"}, "a@example.org.evil.test", false},
		{[]string{"example.org"}, "no-at-sign", false},
		{[]string{"example.org", "example.net"}, "x@example.net", true},
	}
	for _, c := range cases {
		if got := DomainAllowed(Config{AllowedDomains: c.domains}, c.email); got != c.want {
			t.Errorf("DomainAllowed(%v, %q) = %v, want %v", c.domains, c.email, got, c.want)
		}
	}
}

func TestStateSingleUseAndExpiry(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		st := State{Provider: "corp", Nonce: "n", Verifier: "v", ReturnTo: "/t/x/"}
		state, err := f.svc.newState(ctx, f.a, st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.consumeState(ctx, f.b, "corp", state); !errors.Is(err, ErrState) {
			t.Errorf("state in another tenant: %v", err)
		}
		got, err := f.svc.consumeState(ctx, f.a, "corp", state)
		if err != nil || got.Nonce != "n" || got.Verifier != "v" || got.ReturnTo != "/t/x/" {
			t.Fatalf("consume: %+v %v", got, err)
		}
		if _, err := f.svc.consumeState(ctx, f.a, "corp", state); !errors.Is(err, ErrState) {
			t.Errorf("second use: %v", err)
		}
		// Another provider's state, and an expired one, are refused (and
		// used up).
		other, _ := f.svc.newState(ctx, f.a, st)
		if _, err := f.svc.consumeState(ctx, f.a, "else", other); !errors.Is(err, ErrState) {
			t.Errorf("wrong provider: %v", err)
		}
		old, _ := f.svc.newState(ctx, f.a, st)
		f.clk.add(10*time.Minute + time.Second)
		if _, err := f.svc.consumeState(ctx, f.a, "corp", old); !errors.Is(err, ErrState) {
			t.Errorf("expired: %v", err)
		}
		for _, bad := range []string{"", "unknown", strings.Repeat("x", 200)} {
			if _, err := f.svc.consumeState(ctx, f.a, "corp", bad); !errors.Is(err, ErrState) {
				t.Errorf("state %q: %v", bad, err)
			}
		}
	})
}

// signIn runs BeginOIDC, lets the test provider answer, and calls
// FinishOIDC with what came back.
func signIn(t *testing.T, f *fixture, name string) (*Identity, error) {
	t.Helper()
	ctx := context.Background()
	const callback = "http://127.0.0.1:1/t/x/sso/corp/callback"
	authURL, state, err := f.svc.BeginOIDC(ctx, f.a, name, callback, "/t/x/")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") != state {
		t.Fatalf("authorization URL lacks PKCE, nonce or state: %s", authURL)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), callback) {
		t.Fatalf("provider answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return f.svc.FinishOIDC(ctx, f.a, name, callback, back.Query().Get("state"), back.Query().Get("code"))
}

func TestOIDCFlow(t *testing.T) {
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	ctx := context.Background()
	f := newFixture(t, db)
	user := oidctest.User{Subject: "u-1", Email: "pat@example.org", EmailVerified: true, Name: "Pat", Groups: []string{"board-members"}}
	op := oidctest.Start(t, "plenum", "s3cret", user)
	p := oidcProvider("corp", op.URL)
	p.Config.AllowedDomains = []string{"example.org"}
	if err := f.svc.Save(ctx, f.a, "user:1", p, "s3cret", identity.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	id, err := signIn(t, f, "corp")
	if err != nil {
		t.Fatal(err)
	}
	want := &Identity{Provider: "corp", Subject: "u-1", Email: "pat@example.org", Name: "Pat", Roles: []string{"board"}, ReturnTo: "/t/x/"}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("identity %+v, want %+v", id, want)
	}

	refusals := []struct {
		name   string
		tamper func(map[string]any)
		user   *oidctest.User
		secret string
		want   error
	}{
		{name: "wrong nonce", tamper: func(c map[string]any) { c["nonce"] = "forged" }, want: ErrRejected},
		{name: "no nonce", tamper: func(c map[string]any) { delete(c, "nonce") }, want: ErrRejected},
		{name: "wrong audience", tamper: func(c map[string]any) { c["aud"] = "someone-else" }, want: ErrRejected},
		{name: "wrong issuer", tamper: func(c map[string]any) { c["iss"] = "https://evil.example" }, want: ErrRejected},
		{name: "expired token", tamper: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, want: ErrRejected},
		{name: "unverified e-mail", user: &oidctest.User{Subject: "u-2", Email: "sam@example.org"}, want: ErrRejected},
		{name: "e-mail verified as string", user: &oidctest.User{Subject: "u-3", Email: "lee@example.org", EmailVerified: true}, tamper: func(c map[string]any) { c["email_verified"] = "true" }},
		{name: "domain not allowed", user: &oidctest.User{Subject: "u-4", Email: "eve@evil.test", EmailVerified: true}, want: ErrRejected},
		{name: "wrong client secret", secret: "wrong", want: ErrRejected},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			op.Tamper(r.tamper)
			defer op.Tamper(nil)
			if r.user != nil {
				op.SetUser(*r.user)
				defer op.SetUser(user)
			}
			if r.secret != "" {
				if err := f.svc.Save(ctx, f.a, "user:1", p, r.secret, identity.RequestMeta{}); err != nil {
					t.Fatal(err)
				}
				defer f.svc.Save(ctx, f.a, "user:1", p, "s3cret", identity.RequestMeta{})
			}
			_, err := signIn(t, f, "corp")
			if r.want == nil && err != nil || r.want != nil && !errors.Is(err, r.want) {
				t.Errorf("error %v, want %v", err, r.want)
			}
			if err != nil && strings.Contains(err.Error(), "@") {
				t.Errorf("error message holds an address: %v", err)
			}
		})
	}
}

func TestSAMLKeyPairIsStable(t *testing.T) {
	key, err := newSAMLKey()
	if err != nil {
		t.Fatal(err)
	}
	_, c1, err := samlKeyPair(key, "https://plenum.example/t/x/sso/idp/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	_, c2, err := samlKeyPair(key, "https://plenum.example/t/x/sso/idp/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	if !c1.Equal(c2) {
		t.Error("the same key gave two certificates: the metadata would change on every request")
	}
	if _, _, err := samlKeyPair("not a key", "x"); err == nil {
		t.Error("garbage accepted as a key")
	}
}
