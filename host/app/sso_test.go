package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"html"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit/oidctest"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// ssoBrowser is a cookie-keeping client that follows redirects across the
// host and the provider, remembering every URL it was sent to.
type ssoBrowser struct {
	*http.Client
	hops []*url.URL
}

func newBrowser() *ssoBrowser {
	jar, _ := cookiejar.New(nil)
	b := &ssoBrowser{}
	b.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.hops = append(b.hops, req.URL)
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// get fetches u, following redirects, and returns the last response with
// its body.
func (b *ssoBrowser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	b.hops = nil
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// noFollow returns a client sharing b's cookies that does not follow
// redirects.
func (b *ssoBrowser) noFollow() *http.Client {
	return &http.Client{Jar: b.Jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestOIDCSignIn(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		tn := h.CreateTenant(t, "lakeside", "Lakeside Gardens")
		base := h.URL + "/t/lakeside"
		const ownerPW = "seven quiet lanterns over the marsh"
		h.CreateUser(t, tn, "owner@lakeside.example", ownerPW, "owner")
		alice := oidctest.User{Subject: "alice-0001", Email: "Alice@Lakeside.example", EmailVerified: true, Name: "Alice Example", Groups: []string{"vote-officers", "unknown-group"}}
		op := oidctest.Start(t, "plenum-lakeside", "client secret 42", alice)

		// The owner configures the provider on the admin page.
		csrf := h.SignIn(t, h.Client, "lakeside", "owner@lakeside.example", ownerPW)
		form := url.Values{"csrf": {csrf}, "op": {"save"}, "kind": {"oidc"}, "name": {"lakeside-idp"}, "display_name": {"Lakeside account"},
			"issuer": {op.URL}, "client_id": {"plenum-lakeside"}, "client_secret": {"client secret 42"}, "role_claim": {"groups"},
			"role_mapping": {"vote-officers = board\nghosts = nosuchrole"}, "allowed_domains": {"lakeside.example"}, "enabled": {"1"}}
		resp, err := h.Client.PostForm(base+"/admin/sso", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save provider: %d", resp.StatusCode)
		}
		resp, page := h.Get(t, "/t/lakeside/admin/sso")
		if resp.StatusCode != 200 || !strings.Contains(page, "lakeside-idp") || strings.Contains(page, "client secret 42") {
			t.Fatalf("admin page: %d %.300s", resp.StatusCode, page)
		}
		// A refused setting is a form error, not a failure.
		bad := url.Values{"csrf": {csrf}, "op": {"save"}, "name": {"x"}, "display_name": {"X"}, "issuer": {"ftp://x"}, "client_id": {"c"}}
		resp, err = h.Client.PostForm(base+"/admin/sso", bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("invalid provider: %d", resp.StatusCode)
		}

		// The sign-in page offers the provider.
		br := newBrowser()
		if _, page := br.get(t, base+"/signin"); !strings.Contains(page, `href="/t/lakeside/sso/lakeside-idp"`) || !strings.Contains(page, "Lakeside account") {
			t.Errorf("sign-in page has no SSO button: %.500s", page)
		}

		// Alice signs in through the provider and lands home, signed in.
		resp, _ = br.get(t, base+"/sso/lakeside-idp")
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/t/lakeside/" {
			t.Fatalf("sign-in ended at %s with %d (hops %v)", resp.Request.URL, resp.StatusCode, br.hops)
		}
		var callback *url.URL
		for _, u := range br.hops {
			if strings.HasSuffix(u.Path, "/sso/lakeside-idp/callback") {
				callback = u
			}
		}
		if callback == nil || callback.Query().Get("code") == "" {
			t.Fatalf("no callback among %v", br.hops)
		}
		acc, err := br.noFollow().Get(base + "/account")
		if err != nil {
			t.Fatal(err)
		}
		acc.Body.Close()
		if acc.StatusCode != http.StatusOK {
			t.Fatalf("account after SSO: %d", acc.StatusCode)
		}

		// Alice was created just in time, active, without a password, with
		// the mapped role that exists (and no other).
		users, err := h.App.Users.List(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		var u *identity.User
		for i := range users {
			if users[i].Email == "alice@lakeside.example" {
				u = &users[i]
			}
		}
		if u == nil || u.Status != identity.Active || u.HasPassword || u.Name != "Alice Example" {
			t.Fatalf("provisioned user: %+v", u)
		}
		if roles, err := h.App.Access.RolesOf(ctx, tn.ID, u.ID); err != nil || !slices.Equal(roles, []string{"board"}) {
			t.Errorf("roles: %v %v", roles, err)
		}
		sessions, err := h.App.Users.Sessions(ctx, tn.ID, u.ID)
		if err != nil || len(sessions) != 1 || sessions[0].Method != "oidc:lakeside-idp" {
			t.Errorf("sessions: %+v %v", sessions, err)
		}
		actions := auditActions(t, h, tn.ID)
		for _, want := range []string{"user.sso.create", "role.assign", "user.signin", "sso.provider.create"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit log lacks %s: %v", want, actions)
			}
		}

		// Replaying the callback (state bound to the browser again) fails:
		// the state was used.
		br.Jar.SetCookies(mustURL(t, base+"/"), []*http.Cookie{{Name: "plenum_sso", Value: callback.Query().Get("state"), Path: "/t/lakeside"}})
		rep, err := br.noFollow().Get(callback.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rep.Body)
		rep.Body.Close()
		if rep.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "not valid any more") {
			t.Errorf("replayed callback: %d %.300s", rep.StatusCode, body)
		}
		// A callback whose state is not this browser's is refused too.
		other := newBrowser()
		if resp, _ := other.get(t, callback.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback in another browser: %d", resp.StatusCode)
		}

		// A second sign-in finds the same user; nothing new is created.
		if resp, _ := newBrowser().get(t, base+"/sso/lakeside-idp"); resp.StatusCode != 200 || resp.Request.URL.Path != "/t/lakeside/" {
			t.Errorf("second sign-in: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		if again, _ := h.App.Users.List(ctx, tn.ID); len(again) != len(users) {
			t.Errorf("second sign-in created a user: %d then %d", len(users), len(again))
		}

		// Refusals: a clear page, no session, no new user.
		refusals := []struct {
			name   string
			tamper func(map[string]any)
			user   *oidctest.User
		}{
			{name: "wrong nonce", tamper: func(c map[string]any) { c["nonce"] = "forged" }},
			{name: "wrong audience", tamper: func(c map[string]any) { c["aud"] = "another-client" }},
			{name: "unverified e-mail", user: &oidctest.User{Subject: "bob-0002", Email: "bob@lakeside.example", Name: "Bob"}},
			{name: "domain not allowed", user: &oidctest.User{Subject: "eve-0003", Email: "eve@elsewhere.example", EmailVerified: true}},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				op.Tamper(r.tamper)
				defer op.Tamper(nil)
				if r.user != nil {
					op.SetUser(*r.user)
					defer op.SetUser(alice)
				}
				b := newBrowser()
				resp, page := b.get(t, base+"/sso/lakeside-idp")
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "was not accepted") {
					t.Errorf("status %d: %.300s", resp.StatusCode, page)
				}
				for _, leak := range []string{"bob@", "eve@", "alice@", "code="} {
					if strings.Contains(page, leak) {
						t.Errorf("error page shows %q", leak)
					}
				}
				if acc, err := b.noFollow().Get(base + "/account"); err != nil || acc.StatusCode != http.StatusSeeOther {
					t.Errorf("account after refusal: %v %v", acc.StatusCode, err)
				}
				if again, _ := h.App.Users.List(ctx, tn.ID); len(again) != len(users) {
					t.Errorf("refused sign-in created a user")
				}
			})
		}

		// A disabled provider cannot be used.
		resp, err = h.Client.PostForm(base+"/admin/sso", url.Values{"csrf": {csrf}, "op": {"disable"}, "name": {"lakeside-idp"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp, _ := newBrowser().get(t, base+"/sso/lakeside-idp"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("disabled provider: %d", resp.StatusCode)
		}
		if _, page := newBrowser().get(t, base+"/signin"); strings.Contains(page, "/sso/lakeside-idp") {
			t.Error("sign-in page offers a disabled provider")
		}
	})
}

// auditActions lists the tenant's recent audit actions.
func auditActions(t *testing.T, h *testhost.Host, tenantID string) []string {
	t.Helper()
	sc, err := h.App.DB.Scoped(tenantID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = sc.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		recs, err := h.App.Audit.List(ctx, tx, audit.ListOptions{Limit: 1000})
		for _, r := range recs {
			out = append(out, r.Action)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// samlIdP is a SAML identity provider for the test: crewjam/saml's, with
// a session provider that signs in one fixed user and a service-provider
// provider that reads the host's metadata.
type samlIdP struct {
	URL     string
	session *saml.Session
}

func startSAMLIdP(t *testing.T, session *saml.Session) *samlIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &samlIdP{session: session}
	idp := &saml.IdentityProvider{Key: key, Signer: key, Certificate: cert, Logger: log.New(io.Discard, "", 0),
		ServiceProviderProvider: p, SessionProvider: p}
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", idp.ServeMetadata)
	mux.HandleFunc("/sso", idp.ServeSSO)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	idp.MetadataURL = *mustURL(t, srv.URL+"/metadata")
	idp.SSOURL = *mustURL(t, srv.URL+"/sso")
	return p
}

// GetSession signs in the fixed user.
func (p *samlIdP) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	return p.session
}

// GetServiceProvider reads the service provider's metadata from its
// entity id, which is its metadata URL.
func (p *samlIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	resp, err := http.Get(id)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, os.ErrNotExist
	}
	ed := new(saml.EntityDescriptor)
	return ed, xml.NewDecoder(resp.Body).Decode(ed)
}

var (
	samlFormAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	samlFormInput  = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)
)

// samlRound starts a SAML sign-in with client c and returns where the
// identity provider's page would post, and what.
func samlRound(t *testing.T, c *http.Client, start string) (string, url.Values) {
	t.Helper()
	resp, err := c.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	resp, err = c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := samlFormAction.FindStringSubmatch(string(page))
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("identity provider answered %d: %.300s", resp.StatusCode, page)
	}
	form := url.Values{}
	for _, in := range samlFormInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(in[1], html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), form
}

func TestSAMLSignIn(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		tn := h.CreateTenant(t, "lakeside", "Lakeside Gardens")
		base := h.URL + "/t/lakeside"
		const ownerPW = "seven quiet lanterns over the marsh"
		h.CreateUser(t, tn, "owner@lakeside.example", ownerPW, "owner")
		idp := startSAMLIdP(t, &saml.Session{ID: "idp-session-1", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
			NameID: "carol-7f3a", NameIDFormat: string(saml.PersistentNameIDFormat), UserEmail: "carol@lakeside.example",
			UserCommonName: "Carol Example", Groups: []string{"vote-officers"}})

		csrf := h.SignIn(t, h.Client, "lakeside", "owner@lakeside.example", ownerPW)
		resp, err := h.Client.PostForm(base+"/admin/sso", url.Values{"csrf": {csrf}, "op": {"save"}, "kind": {"saml"}, "name": {"lakeside-saml"},
			"display_name": {"Lakeside SAML"}, "metadata_url": {idp.URL + "/metadata"}, "role_claim": {"eduPersonAffiliation"},
			"role_mapping": {"vote-officers = board"}, "allowed_domains": {"lakeside.example"}, "enabled": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save provider: %d", resp.StatusCode)
		}
		resp, md := h.Get(t, "/t/lakeside/sso/lakeside-saml/saml/metadata")
		if resp.StatusCode != 200 || !strings.Contains(md, "/t/lakeside/sso/lakeside-saml/saml/acs") {
			t.Fatalf("metadata: %d %.300s", resp.StatusCode, md)
		}

		// Carol signs in; the identity provider's page posts to the ACS
		// (without any CSRF token of ours).
		br := newBrowser().noFollow()
		action, form := samlRound(t, br, base+"/sso/lakeside-saml")
		if action != base+"/sso/lakeside-saml/saml/acs" || form.Get("SAMLResponse") == "" || form.Get("RelayState") == "" {
			t.Fatalf("post form: %s %v", action, form)
		}
		resp, err = br.PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/lakeside/" {
			t.Fatalf("acs: %d to %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if acc, err := br.Get(base + "/account"); err != nil || acc.StatusCode != http.StatusOK {
			t.Fatalf("account after SAML: %v %v", acc.StatusCode, err)
		}
		users, err := h.App.Users.List(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		var u *identity.User
		for i := range users {
			if users[i].Email == "carol@lakeside.example" {
				u = &users[i]
			}
		}
		if u == nil || u.Status != identity.Active || u.HasPassword || u.Name != "Carol Example" {
			t.Fatalf("provisioned user: %+v", u)
		}
		if roles, err := h.App.Access.RolesOf(ctx, tn.ID, u.ID); err != nil || !slices.Equal(roles, []string{"board"}) {
			t.Errorf("roles: %v %v", roles, err)
		}
		if s, err := h.App.Users.Sessions(ctx, tn.ID, u.ID); err != nil || len(s) != 1 || s[0].Method != "saml:lakeside-saml" {
			t.Errorf("sessions: %+v %v", s, err)
		}
		if actions := auditActions(t, h, tn.ID); !slices.Contains(actions, "user.sso.create") {
			t.Errorf("audit log lacks user.sso.create: %v", actions)
		}

		// The same response posted again is refused: its relay state is used.
		resp, err = newBrowser().noFollow().PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed response: %d", resp.StatusCode)
		}

		// A response altered on the way fails: the assertion is encrypted
		// to our key and signed, so one changed character of it is enough.
		other := newBrowser().noFollow()
		action, form = samlRound(t, other, base+"/sso/lakeside-saml")
		raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
		i := strings.LastIndex(string(raw), "CipherValue>")
		if err != nil || i < 0 || strings.Contains(string(raw), "carol@") {
			t.Fatalf("response not encrypted: %v %.300s", err, raw)
		}
		i += len("CipherValue>") + 40
		flip := byte('A')
		if raw[i] == 'A' {
			flip = 'B'
		}
		raw[i] = flip
		form.Set("SAMLResponse", base64.StdEncoding.EncodeToString(raw))
		resp, err = other.PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "was not accepted") || strings.Contains(string(body), "mallory") {
			t.Errorf("altered response: %d %.300s", resp.StatusCode, body)
		}
		if again, _ := h.App.Users.List(ctx, tn.ID); len(again) != len(users) {
			t.Error("altered response created a user")
		}

		// A provider signing with a key other than the metadata's is
		// refused: the metadata (given as XML) names the rogue's URLs but
		// the genuine provider's certificate.
		rogue := startSAMLIdP(t, &saml.Session{ID: "rogue-1", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
			NameID: "mallory", NameIDFormat: string(saml.PersistentNameIDFormat), UserEmail: "mallory@lakeside.example"})
		mdResp, err := http.Get(idp.URL + "/metadata")
		if err != nil {
			t.Fatal(err)
		}
		genuine, _ := io.ReadAll(mdResp.Body)
		mdResp.Body.Close()
		forged := strings.ReplaceAll(string(genuine), idp.URL, rogue.URL)
		resp, err = h.Client.PostForm(base+"/admin/sso", url.Values{"csrf": {csrf}, "op": {"save"}, "kind": {"saml"}, "name": {"rogue-saml"},
			"display_name": {"Rogue"}, "metadata_xml": {forged}, "enabled": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save rogue provider: %d", resp.StatusCode)
		}
		third := newBrowser().noFollow()
		action, form = samlRound(t, third, base+"/sso/rogue-saml")
		resp, err = third.PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("response signed by a key not in the metadata: %d", resp.StatusCode)
		}
		if again, _ := h.App.Users.List(ctx, tn.ID); len(again) != len(users) {
			t.Error("rogue provider created a user")
		}
	})
}
