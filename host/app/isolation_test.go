package app_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/identity/sso"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/registry"
	"github.com/plenum-vote/plenum/testkit/oidctest"
	"github.com/plenum-vote/plenum/testkit/plugin"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// headRow and checkpointRow reach the audit log's tenant-owned tables the
// way any scoped query would.
type headRow struct {
	bun.BaseModel `bun:"table:audit_heads"`
	store.Owned
	Seq int64 `bun:"seq"`
}

// scopedProbe counts, inside tenant A's scope, the rows of one
// tenant-owned table that belong to tenant B (identified by B's row ids or
// simply by B's tenant id). Every tenant-owned table must have a probe:
// TestIsolation fails when a table with a tenant_id column has none, so
// new tables join this test as they are added.
type scopedProbe func(ctx context.Context, tx *store.Tx, other string) (int, error)

var scopedProbes = map[string]scopedProbe{
	"audit_events": func(ctx context.Context, tx *store.Tx, other string) (int, error) {
		n, err := tx.Select((*audit.Record)(nil)).WhereOr("tenant_id = ?", other).Count(ctx)
		return int(n), err
	},
	"audit_heads":            probe[headRow](),
	"tenant_plugins":         probe[registry.Binding](),
	"audit_checkpoints":      probe[audit.Checkpoint](),
	"users":                  probe[UsersProbe](),
	"user_sessions":          probe[UserSessionsProbe](),
	"user_devices":           probe[UserDevicesProbe](),
	"user_tokens":            probe[UserTokensProbe](),
	"signin_attempts":        probe[SigninAttemptsProbe](),
	"identity_settings":      probe[IdentitySettingsProbe](),
	"access_roles":           probe[AccessRolesProbe](),
	"access_assignments":     probe[AccessAssignmentsProbe](),
	"access_policy_versions": probe[AccessPolicyVersionsProbe](),
	"access_policy_head":     probe[AccessPolicyHeadProbe](),
	"mfa_totp":               probe[MfaTotpProbe](),
	"mfa_recovery_codes":     probe[MfaRecoveryCodesProbe](),
	"mfa_codes":              probe[MfaCodesProbe](),
	"mfa_webauthn":           probe[MfaWebauthnProbe](),
	"mfa_webauthn_sessions":  probe[MfaWebauthnSessionsProbe](),
	"units":                  probe[voting.Unit](),
	"unit_owners":            probe[UnitOwnersProbe](),
	"sso_providers":          probe[SsoProvidersProbe](),
	"sso_states":             probe[SsoStatesProbe](),
	"ballots":                probe[voting.Ballot](),
	"ballot_rights":          probe[BallotRightsProbe](),
	"votes":                  probe[voting.Vote](),
	"vote_resolutions":       probe[voting.Resolution](),
	"proxies":                probe[voting.Proxy](),
}

// probe counts B's rows of T's table with a condition that would widen
// an unscoped query ("OR tenant_id = B").
func probe[T any]() scopedProbe {
	return func(ctx context.Context, tx *store.Tx, other string) (int, error) {
		n, err := tx.Select((*T)(nil)).WhereOr("tenant_id = ?", other).Count(ctx)
		return int(n), err
	}
}

// The probe models reach each tenant table by name, as a scoped query would.
type (
	UsersProbe struct {
		bun.BaseModel `bun:"table:users"`
		store.Owned
	}
	UserSessionsProbe struct {
		bun.BaseModel `bun:"table:user_sessions"`
		store.Owned
	}
	UserDevicesProbe struct {
		bun.BaseModel `bun:"table:user_devices"`
		store.Owned
	}
	UserTokensProbe struct {
		bun.BaseModel `bun:"table:user_tokens"`
		store.Owned
	}
	SigninAttemptsProbe struct {
		bun.BaseModel `bun:"table:signin_attempts"`
		store.Owned
	}
	IdentitySettingsProbe struct {
		bun.BaseModel `bun:"table:identity_settings"`
		store.Owned
	}
	AccessRolesProbe struct {
		bun.BaseModel `bun:"table:access_roles"`
		store.Owned
	}
	AccessAssignmentsProbe struct {
		bun.BaseModel `bun:"table:access_assignments"`
		store.Owned
	}
	AccessPolicyVersionsProbe struct {
		bun.BaseModel `bun:"table:access_policy_versions"`
		store.Owned
	}
	AccessPolicyHeadProbe struct {
		bun.BaseModel `bun:"table:access_policy_head"`
		store.Owned
	}
	MfaTotpProbe struct {
		bun.BaseModel `bun:"table:mfa_totp"`
		store.Owned
	}
	MfaRecoveryCodesProbe struct {
		bun.BaseModel `bun:"table:mfa_recovery_codes"`
		store.Owned
	}
	MfaCodesProbe struct {
		bun.BaseModel `bun:"table:mfa_codes"`
		store.Owned
	}
	MfaWebauthnProbe struct {
		bun.BaseModel `bun:"table:mfa_webauthn"`
		store.Owned
	}
	UnitOwnersProbe struct {
		bun.BaseModel `bun:"table:unit_owners"`
		store.Owned
	}
	MfaWebauthnSessionsProbe struct {
		bun.BaseModel `bun:"table:mfa_webauthn_sessions"`
		store.Owned
	}
	SsoProvidersProbe struct {
		bun.BaseModel `bun:"table:sso_providers"`
		store.Owned
	}
	SsoStatesProbe struct {
		bun.BaseModel `bun:"table:sso_states"`
		store.Owned
	}
	BallotRightsProbe struct {
		bun.BaseModel `bun:"table:ballot_rights"`
		store.Owned
	}
)

// platformTables have a tenant_id column but are platform data, reached
// only through store.System: the keyring's wrapped keys.
var platformTables = map[string]string{
	"tenant_keys": "wrapped data keys, read only by core/crypto through System()",
}

// routeCase is a request that tenant A's owner, signed in, makes in A's
// space while naming something of tenant B. {a} is A's slug; {buser},
// {bsession} and {btoken} are a user id, a session id and a link token of
// B. Forms are posted with A's CSRF token.
type routeCase struct {
	method, path string
	form         url.Values
	// want is the status the request must get; 0 accepts any answer below
	// 500 (the point of those cases is only that B stays untouched).
	want int
	// fresh runs the request on a separate signed-in client (sign-out).
	fresh bool
}

// tenantRoutes has a case for every route under /t/:slug: the test fails
// when a route is missing, so new routes join this test as they are added.
var tenantRoutes = map[string]routeCase{
	"GET /t/:slug/":                               {method: "GET", path: "/t/{a}/", want: 200},
	"GET /t/:slug/signin":                         {method: "GET", path: "/t/{a}/signin", want: 303},
	"POST /t/:slug/signin":                        {method: "POST", path: "/t/{a}/signin", form: url.Values{"email": {"owner@bravo.example"}, "password": {bPassword}}, want: 403},
	"POST /t/:slug/signout":                       {method: "POST", path: "/t/{a}/signout", want: 303, fresh: true},
	"GET /t/:slug/reset":                          {method: "GET", path: "/t/{a}/reset", want: 200},
	"POST /t/:slug/reset":                         {method: "POST", path: "/t/{a}/reset", form: url.Values{"email": {"member@bravo.example"}}, want: 403},
	"GET /t/:slug/link/:token":                    {method: "GET", path: "/t/{a}/link/{btoken}", want: 410},
	"POST /t/:slug/link":                          {method: "POST", path: "/t/{a}/link", form: url.Values{"token": {"{btoken}"}, "password": {bPassword}, "confirm": {bPassword}}, want: 403},
	"GET /t/:slug/mfa":                            {method: "GET", path: "/t/{a}/mfa", want: 303},
	"POST /t/:slug/mfa":                           {method: "POST", path: "/t/{a}/mfa", form: url.Values{"method": {"totp"}, "code": {"123456"}}, want: 303},
	"POST /t/:slug/mfa/email":                     {method: "POST", path: "/t/{a}/mfa/email", want: 303},
	"GET /t/:slug/account":                        {method: "GET", path: "/t/{a}/account", want: 200},
	"POST /t/:slug/account/totp":                  {method: "POST", path: "/t/{a}/account/totp", want: 200},
	"POST /t/:slug/account/totp/confirm":          {method: "POST", path: "/t/{a}/account/totp/confirm", form: url.Values{"code": {"000000"}}, want: 422},
	"POST /t/:slug/account/passkeys/begin":        {method: "POST", path: "/t/{a}/account/passkeys/begin", want: 200},
	"POST /t/:slug/account/passkeys/finish":       {method: "POST", path: "/t/{a}/account/passkeys/finish", form: url.Values{"user": {"{buser}"}}, want: 422},
	"POST /t/:slug/account/passkeys/remove":       {method: "POST", path: "/t/{a}/account/passkeys/remove", form: url.Values{"credential": {"AAAA"}}, want: 404},
	"POST /t/:slug/mfa/passkey/begin":             {method: "POST", path: "/t/{a}/mfa/passkey/begin", want: 303},
	"POST /t/:slug/mfa/passkey/finish":            {method: "POST", path: "/t/{a}/mfa/passkey/finish", want: 303},
	"GET /t/:slug/reauth":                         {method: "GET", path: "/t/{a}/reauth?return=/t/bravo/admin/users", want: 200},
	"POST /t/:slug/reauth":                        {method: "POST", path: "/t/{a}/reauth", form: url.Values{"password": {bPassword}, "return": {"/t/bravo/admin/users"}}, want: 401},
	"POST /t/:slug/mfa/sms":                       {method: "POST", path: "/t/{a}/mfa/sms", want: 303},
	"POST /t/:slug/account/phone":                 {method: "POST", path: "/t/{a}/account/phone", form: url.Values{"phone": {"+41 44 123 45 67"}}, want: 303},
	"POST /t/:slug/account/recovery":              {method: "POST", path: "/t/{a}/account/recovery", want: 200},
	"POST /t/:slug/account/password":              {method: "POST", path: "/t/{a}/account/password", form: url.Values{"current": {bPassword}, "next": {"another long passphrase for alpha"}}, want: 422},
	"POST /t/:slug/account/sessions/revoke":       {method: "POST", path: "/t/{a}/account/sessions/revoke", form: url.Values{"session": {"{bsession}"}}, want: 404},
	"POST /t/:slug/account/sessions/revoke-all":   {method: "POST", path: "/t/{a}/account/sessions/revoke-all", want: 303},
	"GET /t/:slug/admin":                          {method: "GET", path: "/t/{a}/admin", want: 303},
	"GET /t/:slug/admin/users":                    {method: "GET", path: "/t/{a}/admin/users", want: 200},
	"POST /t/:slug/admin/users/invite":            {method: "POST", path: "/t/{a}/admin/users/invite", form: url.Values{"email": {"newcomer@alpha.example"}, "role": {"member"}}, want: 303},
	"POST /t/:slug/admin/users/import":            {method: "POST", path: "/t/{a}/admin/users/import", want: 422},
	"POST /t/:slug/admin/users/:id":               {method: "POST", path: "/t/{a}/admin/users/{buser}", form: url.Values{"op": {"disable"}}, want: 404},
	"POST /t/:slug/admin/users/:id/roles":         {method: "POST", path: "/t/{a}/admin/users/{buser}/roles", form: url.Values{"op": {"assign"}, "role": {"owner"}}, want: 404},
	"GET /t/:slug/admin/units":                    {method: "GET", path: "/t/{a}/admin/units", want: 200},
	"GET /t/:slug/admin/units.csv":                {method: "GET", path: "/t/{a}/admin/units.csv", want: 200},
	"POST /t/:slug/admin/units":                   {method: "POST", path: "/t/{a}/admin/units", form: url.Values{"label": {"Flat 9"}, "weight": {"1/4"}}, want: 303},
	"POST /t/:slug/admin/units/import":            {method: "POST", path: "/t/{a}/admin/units/import", want: 422},
	"POST /t/:slug/admin/units/:id":               {method: "POST", path: "/t/{a}/admin/units/{bunit}", form: url.Values{"op": {"delete"}}, want: 404},
	"GET /t/:slug/admin/roles":                    {method: "GET", path: "/t/{a}/admin/roles", want: 200},
	"POST /t/:slug/admin/roles":                   {method: "POST", path: "/t/{a}/admin/roles", form: url.Values{"name": {"treasurer"}, "perm": {"results.read"}}, want: 303},
	"GET /t/:slug/admin/policy":                   {method: "GET", path: "/t/{a}/admin/policy", want: 200},
	"POST /t/:slug/admin/policy":                  {method: "POST", path: "/t/{a}/admin/policy", form: url.Values{"expected": {"0"}, "policy": {`{"rules":[{"role":"board","permissions":["ballots.manage"],"condition":"principal.mfa"}]}`}}},
	"POST /t/:slug/admin/policy/check":            {method: "POST", path: "/t/{a}/admin/policy/check", form: url.Values{"policy": {`{"rules":[]}`}}, want: 200},
	"POST /t/:slug/admin/policy/explain":          {method: "POST", path: "/t/{a}/admin/policy/explain", form: url.Values{"role": {"member"}, "permission": {"votes.cast"}, "principal": {"{buser}"}}, want: 200},
	"POST /t/:slug/admin/policy/rollback":         {method: "POST", path: "/t/{a}/admin/policy/rollback", form: url.Values{"expected": {"5"}, "to": {"1"}}},
	"GET /t/:slug/admin/security":                 {method: "GET", path: "/t/{a}/admin/security", want: 200},
	"POST /t/:slug/admin/security":                {method: "POST", path: "/t/{a}/admin/security", form: url.Values{"min_password_length": {"14"}}},
	"GET /t/:slug/sso/:provider":                  {method: "GET", path: "/t/{a}/sso/bravo-idp", want: 404},
	"GET /t/:slug/sso/:provider/callback":         {method: "GET", path: "/t/{a}/sso/bravo-idp/callback?state=forged&code=forged", want: 400},
	"POST /t/:slug/sso/:provider/saml/acs":        {method: "POST", path: "/t/{a}/sso/bravo-idp/saml/acs", form: url.Values{"RelayState": {"forged"}, "SAMLResponse": {"Zm9yZ2Vk"}}, want: 400},
	"GET /t/:slug/sso/:provider/saml/metadata":    {method: "GET", path: "/t/{a}/sso/bravo-idp/saml/metadata", want: 404},
	"GET /t/:slug/admin/sso":                      {method: "GET", path: "/t/{a}/admin/sso", want: 200},
	"POST /t/:slug/admin/sso":                     {method: "POST", path: "/t/{a}/admin/sso", form: url.Values{"op": {"disable"}, "name": {"bravo-idp"}}, want: 404},
	"GET /t/:slug/account/export":                 {method: "GET", path: "/t/{a}/account/export", want: 200},
	"GET /t/:slug/ballots/:id":                    {method: "GET", path: "/t/{a}/ballots/{bballot}", want: 404},
	"POST /t/:slug/ballots/:id/vote":              {method: "POST", path: "/t/{a}/ballots/{bballot}/vote", form: url.Values{"unit": {"{bunit}"}, "choice": {"yes"}}, want: 404},
	"POST /t/:slug/ballots/:id/proxy":             {method: "POST", path: "/t/{a}/ballots/{bballot}/proxy", form: url.Values{"unit": {"{bunit}"}, "email": {"member@bravo.example"}}, want: 404},
	"GET /t/:slug/ballots/:id/results":            {method: "GET", path: "/t/{a}/ballots/{bdone}/results", want: 404},
	"POST /t/:slug/proxies/:id/revoke":            {method: "POST", path: "/t/{a}/proxies/{bproxy}/revoke", want: 404},
	"GET /t/:slug/admin/ballots":                  {method: "GET", path: "/t/{a}/admin/ballots", want: 200},
	"POST /t/:slug/admin/ballots":                 {method: "POST", path: "/t/{a}/admin/ballots", form: url.Values{"op": {"preview"}, "kind": {"motion"}}, want: 200},
	"GET /t/:slug/admin/ballots/:id":              {method: "GET", path: "/t/{a}/admin/ballots/{bballot}", want: 404},
	"POST /t/:slug/admin/ballots/:id":             {method: "POST", path: "/t/{a}/admin/ballots/{bballot}", form: url.Values{"op": {"close"}}, want: 404},
	"POST /t/:slug/admin/ballots/:id/paper":       {method: "POST", path: "/t/{a}/admin/ballots/{bballot}/paper", form: url.Values{"unit": {"{bunit}"}, "choice": {"no"}}, want: 404},
	"GET /t/:slug/admin/ballots/:id/scan/:vote":   {method: "GET", path: "/t/{a}/admin/ballots/{bdone}/scan/{bvote}", want: 404},
	"GET /t/:slug/admin/ballots/:id/results.csv":  {method: "GET", path: "/t/{a}/admin/ballots/{bdone}/results.csv", want: 404},
	"GET /t/:slug/admin/ballots/:id/results.json": {method: "GET", path: "/t/{a}/admin/ballots/{bdone}/results.json", want: 404},
}

const (
	aPassword = "tangerine kites drift over quiet harbours"
	bPassword = "velvet comets hum beneath copper skies"
)

func TestIsolation(t *testing.T) {
	// Localhost: a host name, so that the passkey routes exist too.
	testhost.StartEach(t, testhost.Options{Localhost: true, Tally: true}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		a := h.CreateTenant(t, "alpha", "Alpha Housing Co-op")
		b := h.CreateTenant(t, "bravo", "Bravo Residents")
		// Each tenant enables a plugin, so tenant_plugins has rows of both.
		module := plugin.Build(t, filepath.Join("..", "..", "plugins", "majority"))
		manifest, err := os.ReadFile(filepath.Join("..", "..", "plugins", "majority", "plugin.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.App.Registry.Install(ctx, registry.InstallRequest{Module: module, Manifest: manifest, AllowUnsigned: true}); err != nil {
			t.Fatal(err)
		}
		for _, tn := range []string{a.ID, b.ID} {
			if _, err := h.App.Registry.Enable(ctx, registry.EnableRequest{TenantID: tn, Hook: "tally", Plugin: "majority", Version: "0.1.0"}); err != nil {
				t.Fatal(err)
			}
		}
		// Both tenants have users, sessions, factors, roles, policies,
		// settings, pending invitations and failed sign-ins.
		h.CreateUser(t, a, "owner@alpha.example", aPassword, "owner")
		h.CreateUser(t, b, "owner@bravo.example", bPassword, "owner")
		bMember := h.CreateUser(t, b, "member@bravo.example", bPassword, "member")
		_, bToken, err := h.App.Users.Invite(ctx, b.ID, "system", "pending@bravo.example", "", identity.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range []*tenancy.Tenant{a, b} {
			if _, err := h.App.Access.SavePolicy(ctx, tn.ID, "system", 0, access.Policy{Rules: []access.Rule{{Role: "board", Permissions: []access.Permission{access.BallotsManage}, Condition: "principal.mfa"}}}, "first"); err != nil {
				t.Fatal(err)
			}
			if err := h.App.Access.SaveRole(ctx, tn.ID, "system", access.Role{Name: "clerk", Permissions: []access.Permission{access.UsersRead}}); err != nil {
				t.Fatal(err)
			}
			if err := h.App.Users.SaveSettings(ctx, tn.ID, "system", identity.DefaultSettings(), identity.RequestMeta{}); err != nil {
				t.Fatal(err)
			}
			_, _ = h.App.Users.Authenticate(ctx, tn.ID, "nobody@example.org", "wrong password here", identity.RequestMeta{IP: "192.0.2.1"})
		}
		// Both tenants have a single sign-on provider; B a sign-in under way.
		op := oidctest.Start(t, "plenum", "client secret", oidctest.User{})
		for _, tn := range []*tenancy.Tenant{a, b} {
			p := sso.Provider{Name: tn.Slug + "-idp", Kind: sso.OIDC, DisplayName: "Corp", Enabled: true, Config: sso.Config{Issuer: op.URL, ClientID: "plenum"}}
			if err := h.App.SSO.Save(ctx, tn.ID, "system", p, "client secret", identity.RequestMeta{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := h.App.SSO.BeginOIDC(ctx, b.ID, "bravo-idp", h.URL+"/t/bravo/sso/bravo-idp/callback", "/t/bravo/"); err != nil {
			t.Fatal(err)
		}
		units := voting.NewUnits(h.App.DB, h.App.Audit, nil)
		var bUnit string
		for _, x := range []struct {
			tn   *tenancy.Tenant
			user string
		}{{a, mustOwner(t, h, a)}, {b, bMember.ID}} {
			u, err := units.Create(ctx, x.tn.ID, "system", "Flat 1", voting.OneWeight())
			if err != nil {
				t.Fatal(err)
			}
			if err := units.AddOwner(ctx, x.tn.ID, "system", u.ID, x.user); err != nil {
				t.Fatal(err)
			}
			bUnit = u.ID
		}
		// Both tenants have ballots: one open with a proxy, one published
		// with online and paper votes (a double vote resolved) and a scan.
		var bBallot, bDone, bVote, bProxy string
		for _, x := range []struct {
			tn    *tenancy.Tenant
			voter string
		}{{a, mustOwner(t, h, a)}, {b, bMember.ID}} {
			units, err := h.App.Units.UnitsOf(ctx, x.tn.ID, x.voter)
			if err != nil || len(units) != 1 {
				t.Fatalf("units of voter: %v %v", units, err)
			}
			rules := voting.Rules{Kind: voting.Motion, OpensAt: time.Now().Add(-time.Minute), ClosesAt: time.Now().Add(time.Hour), Meeting: "AGM"}
			open, err := h.App.Ballots.Create(ctx, x.tn.ID, "system", "Bravo secret motion", rules)
			if err != nil {
				t.Fatal(err)
			}
			done, err := h.App.Ballots.Create(ctx, x.tn.ID, "system", "Bravo finished motion", rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{open.ID, done.ID} {
				if err := h.App.Ballots.Open(ctx, x.tn.ID, "system", id); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.App.Ballots.Cast(ctx, x.tn.ID, voting.CastRequest{BallotID: done.ID, UnitID: units[0].ID, UserID: x.voter, Choice: voting.Choice{Choice: "yes"}}); err != nil {
				t.Fatal(err)
			}
			vote, err := h.App.Ballots.EnterPaper(ctx, x.tn.ID, "system", voting.PaperRequest{BallotID: done.ID, UnitID: units[0].ID, Choice: voting.Choice{Choice: "no"}, Scan: []byte("%PDF-1.4 bravo")})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.App.Ballots.Close(ctx, x.tn.ID, "system", done.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := h.App.Ballots.Tally(ctx, x.tn.ID, "system", done.ID); err != nil {
				t.Fatal(err)
			}
			if err := h.App.Ballots.Publish(ctx, x.tn.ID, "system", done.ID); err != nil {
				t.Fatal(err)
			}
			// The proxy holder is another member of the same tenant.
			holder := mustOwner(t, h, b)
			if x.tn == a {
				holder = h.CreateUser(t, a, "holder@alpha.example", aPassword, "member").ID
			}
			p, err := h.App.Ballots.Appoint(ctx, x.tn.ID, x.voter, units[0].ID, holder, open.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			bBallot, bDone, bVote, bProxy = open.ID, done.ID, vote, p.ID
		}
		if _, err := h.App.MFA.GenerateRecoveryCodes(ctx, b.ID, bMember.ID, "system"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.App.MFA.IssueCode(ctx, b.ID, bMember.ID, mfa.Email, "signin"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.App.MFA.BeginTOTP(ctx, b.ID, bMember.ID, "member@bravo.example"); err != nil {
			t.Fatal(err)
		}
		aCSRF := h.SignIn(t, h.Client, a.Slug, "owner@alpha.example", aPassword)
		bClient := h.NewClient()
		h.SignIn(t, bClient, b.Slug, "owner@bravo.example", bPassword)
		bSessions, err := h.App.Users.Sessions(ctx, b.ID, mustOwner(t, h, b))
		if err != nil || len(bSessions) != 1 {
			t.Fatalf("B's sessions: %v %v", bSessions, err)
		}
		if _, err := h.App.Audit.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}

		// Every tenant-owned table has a probe, and A sees none of B's rows.
		for _, table := range tenantTables(t, h.App.DB) {
			probe, ok := scopedProbes[table]
			if !ok {
				if _, platform := platformTables[table]; !platform {
					t.Errorf("table %s has tenant_id but no isolation probe: add one to scopedProbes", table)
				}
				continue
			}
			for _, pair := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				s, err := h.App.DB.Scoped(pair[0])
				if err != nil {
					t.Fatal(err)
				}
				err = s.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					n, err := probe(ctx, tx, pair[1])
					if n != 0 {
						t.Errorf("%s: tenant %s sees %d rows of tenant %s", table, pair[0], n, pair[1])
					}
					return err
				})
				if err != nil {
					t.Fatalf("%s: %v", table, err)
				}
			}
		}

		// Every tenant route has a case; asked in A's space by A's owner,
		// nothing of B's comes back and nothing of B's changes.
		repl := strings.NewReplacer("{a}", a.Slug, "{buser}", bMember.ID, "{bsession}", bSessions[0].ID, "{btoken}", bToken, "{bunit}", bUnit,
			"{bballot}", bBallot, "{bdone}", bDone, "{bvote}", bVote, "{bproxy}", bProxy)
		for _, r := range h.App.Server.App().GetRoutes(true) {
			if !strings.HasPrefix(r.Path, "/t/:slug") || r.Method == "HEAD" || r.Method == "USE" {
				continue
			}
			key := r.Method + " " + r.Path
			rc, ok := tenantRoutes[key]
			if !ok {
				t.Errorf("route %s has no isolation case: add one to tenantRoutes", key)
				continue
			}
			client, csrf := h.Client, aCSRF
			if rc.fresh {
				client = h.NewClient()
				csrf = h.SignIn(t, client, a.Slug, "owner@alpha.example", aPassword)
			}
			var req *http.Request
			if rc.method == "POST" {
				form := url.Values{"csrf": {csrf}}
				for k, vs := range rc.form {
					for _, v := range vs {
						form.Add(k, repl.Replace(v))
					}
				}
				req, _ = http.NewRequest("POST", h.URL+repl.Replace(rc.path), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req, _ = http.NewRequest(rc.method, h.URL+repl.Replace(rc.path), nil)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if rc.want != 0 && resp.StatusCode != rc.want {
				t.Errorf("%s: status %d, want %d: %.200s", key, resp.StatusCode, rc.want, body)
			}
			if resp.StatusCode >= 500 {
				t.Errorf("%s: status %d", key, resp.StatusCode)
			}
			for _, leak := range []string{b.Name, b.ID, "owner@bravo.example", "member@bravo.example", "pending@bravo.example", bBallot, bDone} {
				if strings.Contains(body, leak) {
					t.Errorf("%s in A's space shows B's data (%q)", key, leak)
				}
			}
		}

		// A's session token means nothing in B's space, even when sent
		// there by hand.
		var aToken string
		for _, ck := range h.Client.Jar.Cookies(mustURL(t, h.URL+"/t/"+a.Slug+"/")) {
			if ck.Name == "plenum_s" {
				aToken = ck.Value
			}
		}
		req, _ := http.NewRequest("GET", h.URL+"/t/"+b.Slug+"/account", nil)
		req.Header.Set("Cookie", "plenum_s="+aToken)
		resp, err := h.NewClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/"+b.Slug+"/signin" {
			t.Errorf("A's session in B's space: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}

		// B is as it was.
		if u, err := h.App.Users.Get(ctx, b.ID, bMember.ID); err != nil || u.Status != identity.Active {
			t.Errorf("B's member after A's requests: %+v %v", u, err)
		}
		if roles, err := h.App.Access.RolesOf(ctx, b.ID, bMember.ID); err != nil || len(roles) != 1 || roles[0] != "member" {
			t.Errorf("B's member's roles: %v %v", roles, err)
		}
		if v, err := h.App.Access.CurrentPolicy(ctx, b.ID); err != nil || v.Version != 1 {
			t.Errorf("B's policy: %d %v", v.Version, err)
		}
		if set, err := h.App.Users.Settings(ctx, b.ID); err != nil || set.MinPasswordLength != 12 {
			t.Errorf("B's settings: %+v %v", set, err)
		}
		if list, err := h.App.Users.Sessions(ctx, b.ID, mustOwner(t, h, b)); err != nil || len(list) != 1 {
			t.Errorf("B's sessions: %v %v", list, err)
		}
		if _, err := h.App.Users.Link(ctx, b.ID, bToken); err != nil {
			t.Errorf("B's invitation: %v", err)
		}
		if list, err := h.App.Units.List(ctx, b.ID); err != nil || len(list) != 1 {
			t.Errorf("B's units: %v %v", list, err)
		}
		if p, err := h.App.SSO.Get(ctx, b.ID, "bravo-idp"); err != nil || !p.Enabled {
			t.Errorf("B's sso provider: %+v %v", p, err)
		}
	})
}

func mustOwner(t *testing.T, h *testhost.Host, tn *tenancy.Tenant) string {
	t.Helper()
	ids, err := h.App.Access.Holders(context.Background(), tn.ID, "owner")
	if err != nil || len(ids) != 1 {
		t.Fatalf("owner of %s: %v %v", tn.Slug, ids, err)
	}
	return ids[0]
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tenantTables lists the tables that have a tenant_id column.
func tenantTables(t *testing.T, db *store.DB) []string {
	t.Helper()
	var names []string
	err := db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var q string
		if db.Dialect() == store.Postgres {
			q = "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'tenant_id'"
		} else {
			q = "SELECT m.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c WHERE m.type = 'table' AND c.name = 'tenant_id'"
		}
		return tx.NewRaw(q).Scan(ctx, &names)
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no tenant tables found")
	}
	return names
}

// On PostgreSQL every tenant-owned table has row-level security enabled,
// forced on the owner, and a policy.
func TestRowLevelSecurityOnEveryTenantTable(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		if h.App.DB.Dialect() != store.Postgres {
			t.Skip("row-level security exists on PostgreSQL only")
		}
		for _, table := range tenantTables(t, h.App.DB) {
			if _, platform := platformTables[table]; platform {
				continue
			}
			var enabled, forced bool
			var policies int
			err := h.App.DB.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				if err := tx.QueryRowContext(ctx, `SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_class AS c
					JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = ?`, table).Scan(&enabled, &forced); err != nil {
					return err
				}
				return tx.QueryRowContext(ctx, "SELECT count(*) FROM pg_policies WHERE schemaname = current_schema() AND tablename = ?", table).Scan(&policies)
			})
			if err != nil {
				t.Fatal(err)
			}
			if !enabled || !forced || policies == 0 {
				t.Errorf("%s: rls enabled=%v forced=%v policies=%d", table, enabled, forced, policies)
			}
		}
	})
}
