package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

func TestProvisionSSO(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newUserFixture(t, db)
		meta := identity.RequestMeta{IP: "192.0.2.7"}

		invited, _, err := f.users.Invite(ctx, f.tenantA, "system", "invited@example.org", "", meta)
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := f.users.Invite(ctx, f.tenantA, "system", "active@example.org", "", meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok, memberPW, false, meta); err != nil {
			t.Fatal(err)
		}
		disabled, _, err := f.users.Invite(ctx, f.tenantA, "system", "gone@example.org", "", meta)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.users.SetDisabled(ctx, f.tenantA, "system", disabled.ID, true, meta); err != nil {
			t.Fatal(err)
		}

		var newID string
		steps := []struct {
			name                    string
			tenant                  *string
			provider, subject, mail string
			wantErr                 error
			wantCreated             bool
			wantID                  *string // nil: any
			action                  string  // audit event expected, "" none
		}{
			{"new identity is created", &f.tenantA, "corp", "sub-1", "New.Person@Example.org", nil, true, nil, "user.sso.create"},
			{"same subject finds the same user", &f.tenantA, "corp", "sub-1", "changed@example.org", nil, false, &newID, ""},
			{"invited user is linked and activated", &f.tenantA, "corp", "sub-2", "invited@example.org", nil, false, &invited.ID, "user.sso.link"},
			{"an account with a password is never linked by address", &f.tenantA, "corp", "sub-3", "ACTIVE@example.org", identity.ErrSSOLinkRefused, false, nil, ""},
			{"disabled user is refused", &f.tenantA, "corp", "sub-4", "gone@example.org", identity.ErrInvalidCredentials, false, nil, ""},
			{"linked address does not move to another subject", &f.tenantA, "other", "sub-9", "invited@example.org", identity.ErrSSOLinked, false, nil, ""},
			{"bad address", &f.tenantA, "corp", "sub-5", "not an address", identity.ErrInvalid, false, nil, ""},
			{"no subject", &f.tenantA, "corp", "", "x@example.org", identity.ErrInvalid, false, nil, ""},
			{"same subject in another tenant is another user", &f.tenantB, "corp", "sub-1", "new.person@example.org", nil, true, nil, "user.sso.create"},
		}
		for _, st := range steps {
			before := 0
			if st.action != "" {
				before = f.rec.count(st.action, "success", "")
			}
			u, created, err := f.users.ProvisionSSO(ctx, *st.tenant, st.provider, st.subject, st.mail, "Pat Example", meta, nil)
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Errorf("%s: error %v, want %v", st.name, err, st.wantErr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if created != st.wantCreated || u.Status != identity.Active || u.TenantID != *st.tenant {
				t.Errorf("%s: created=%v status=%s tenant=%s", st.name, created, u.Status, u.TenantID)
			}
			if st.wantID != nil && u.ID != *st.wantID {
				t.Errorf("%s: user %s, want %s", st.name, u.ID, *st.wantID)
			}
			if st.action != "" && f.rec.count(st.action, "success", "") != before+1 {
				t.Errorf("%s: no %s event", st.name, st.action)
			}
			if newID == "" {
				newID = u.ID
				if u.HasPassword || u.Email != "new.person@example.org" || u.Name != "Pat Example" {
					t.Errorf("created user: %+v", u)
				}
			}
		}
		if _, err := f.users.Authenticate(ctx, f.tenantA, "new.person@example.org", memberPW, meta); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("password sign-in of an SSO-only user: %v", err)
		}
		// A disabled user who was linked is refused by subject too.
		if err := f.users.SetDisabled(ctx, f.tenantA, "system", invited.ID, true, meta); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.users.ProvisionSSO(ctx, f.tenantA, "corp", "sub-2", "invited@example.org", "", meta, nil); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("disabled linked user: %v", err)
		}
		// Enabling the linked user makes them active again (they have an
		// SSO identity, though no password).
		if err := f.users.SetDisabled(ctx, f.tenantA, "system", invited.ID, false, meta); err != nil {
			t.Fatal(err)
		}
		if u, err := f.users.Get(ctx, f.tenantA, invited.ID); err != nil || u.Status != identity.Active {
			t.Errorf("re-enabled linked user: %+v %v", u, err)
		}
	})
}
