package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/testkit"
)

func TestValidateSlug(t *testing.T) {
	tests := []struct {
		slug string
		ok   bool
	}{
		{"demo", true},
		{"rue-de-la-paix-12", true},
		{"a", true},
		{"9lives", true},
		{"", false},
		{"-lead", false},
		{"trail-", false},
		{"Upper", false},
		{"with space", false},
		{"ünïcode", false},
		{"admin", false},
		{"operator", false},
		{strings.Repeat("a", 48), true},
		{strings.Repeat("a", 49), false},
		{"../etc", false},
	}
	for _, tt := range tests {
		err := tenancy.ValidateSlug(tt.slug)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok=%v", tt.slug, err, tt.ok)
		}
		if err != nil && !errors.Is(err, tenancy.ErrInvalid) {
			t.Errorf("ValidateSlug(%q) error %v does not wrap ErrInvalid", tt.slug, err)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"Résidence Les Tilleuls", true},
		{"Co-op 北京", true},
		{"", false},
		{"   ", false},
		{"bad\x00byte", false},
		{"tab\tinside", false},
		{string([]byte{0xff, 0xfe}), false},
		{strings.Repeat("x", 200), true},
		{strings.Repeat("x", 201), false},
	}
	for _, tt := range tests {
		if err := tenancy.ValidateName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// keys and recorder stand in for the keyring and audit log, which have
// their own tests; here they record calls and can be told to fail.
type keys struct {
	mu      sync.Mutex
	created []string
	fail    bool
}

func (k *keys) CreateKey(_ context.Context, _ bun.Tx, scope string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail {
		return errors.New("key store down")
	}
	k.created = append(k.created, scope)
	return nil
}

type recorder struct {
	mu      sync.Mutex
	changes []tenancy.Change
	fail    bool
}

func (r *recorder) Record(_ context.Context, tx *store.Tx, c tenancy.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("audit down")
	}
	if !strings.HasSuffix(c.Target, tx.TenantID()) {
		return errors.New("recorded on the wrong chain")
	}
	r.changes = append(r.changes, c)
	return nil
}

func TestService(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		k, r := &keys{}, &recorder{}
		svc := tenancy.NewService(db, k, r, func() time.Time { return now })

		a, err := svc.Create(ctx, tenancy.CreateRequest{Slug: "alpha", Name: "Alpha Co-op", Host: "Alpha.Example.org", Actor: "operator:1"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != tenancy.Active || !a.CreatedAt.Equal(now) || *a.Host != "alpha.example.org" {
			t.Fatalf("created %+v", a)
		}
		if len(k.created) != 1 || k.created[0] != a.ID {
			t.Fatalf("keys created %v, want [%s]", k.created, a.ID)
		}
		if len(r.changes) != 1 || r.changes[0].Action != "tenant.create" || r.changes[0].Actor != "operator:1" {
			t.Fatalf("audit %+v", r.changes)
		}
		if _, err := svc.Create(ctx, tenancy.CreateRequest{Slug: "alpha", Name: "Again"}); !errors.Is(err, tenancy.ErrExists) {
			t.Fatalf("duplicate slug: %v, want ErrExists", err)
		}
		if _, err := svc.Create(ctx, tenancy.CreateRequest{Slug: "beta", Name: "Beta", Host: "alpha.example.org"}); !errors.Is(err, tenancy.ErrExists) {
			t.Fatalf("duplicate host: %v, want ErrExists", err)
		}
		for _, req := range []tenancy.CreateRequest{
			{Slug: "Bad Slug", Name: "x"}, {Slug: "ok", Name: ""}, {Slug: "ok", Name: "x", Host: "not a host"},
		} {
			if _, err := svc.Create(ctx, req); !errors.Is(err, tenancy.ErrInvalid) {
				t.Errorf("Create(%+v) = %v, want ErrInvalid", req, err)
			}
		}

		got, err := svc.BySlug(ctx, "alpha")
		if err != nil || got.ID != a.ID || got.Name != "Alpha Co-op" {
			t.Fatalf("BySlug = %+v, %v", got, err)
		}
		if got, err := svc.ByHost(ctx, "ALPHA.example.org"); err != nil || got.ID != a.ID {
			t.Fatalf("ByHost = %+v, %v", got, err)
		}
		for _, slug := range []string{"nope", "", "DROP TABLE", "alpha'--"} {
			if _, err := svc.BySlug(ctx, slug); !errors.Is(err, tenancy.ErrNotFound) {
				t.Errorf("BySlug(%q) = %v, want ErrNotFound", slug, err)
			}
		}

		if s, err := svc.SetStatus(ctx, a.ID, tenancy.Suspended, "operator:1"); err != nil || s.Status != tenancy.Suspended {
			t.Fatalf("suspend = %+v, %v", s, err)
		}
		if _, err := svc.SetStatus(ctx, a.ID, tenancy.Deleted, "operator:1"); !errors.Is(err, tenancy.ErrInvalid) {
			t.Fatalf("SetStatus(Deleted) = %v, want ErrInvalid", err)
		}
		d, err := svc.Delete(ctx, a.ID, "operator:1")
		if err != nil || d.Status != tenancy.Deleted || d.DeletedAt == nil || !d.DeletedAt.Equal(now) {
			t.Fatalf("delete = %+v, %v", d, err)
		}
		if _, err := svc.Delete(ctx, a.ID, "operator:1"); !errors.Is(err, tenancy.ErrInvalid) {
			t.Fatalf("second delete = %v", err)
		}
		if ts, err := svc.List(ctx, false); err != nil || len(ts) != 0 {
			t.Fatalf("List without deleted = %v, %v", ts, err)
		}
		if ts, err := svc.List(ctx, true); err != nil || len(ts) != 1 {
			t.Fatalf("List with deleted = %v, %v", ts, err)
		}
		if _, err := svc.Get(ctx, "0190-unknown"); !errors.Is(err, tenancy.ErrNotFound) {
			t.Fatalf("Get unknown = %v", err)
		}
		if n := len(r.changes); n != 3 {
			t.Fatalf("%d audit events, want 3 (create, suspend, delete; none for refusals)", n)
		}
	})
}

// A failure anywhere in creation leaves no tenant behind.
func TestCreateIsAtomic(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, tc := range []struct {
			name string
			k    *keys
			r    *recorder
		}{
			{"key fails", &keys{fail: true}, &recorder{}},
			{"audit fails", &keys{}, &recorder{fail: true}},
		} {
			svc := tenancy.NewService(db, tc.k, tc.r, nil)
			if _, err := svc.Create(ctx, tenancy.CreateRequest{Slug: "gamma", Name: "Gamma"}); err == nil {
				t.Fatalf("%s: Create succeeded", tc.name)
			}
			if _, err := svc.BySlug(ctx, "gamma"); !errors.Is(err, tenancy.ErrNotFound) {
				t.Fatalf("%s: tenant left behind: %v", tc.name, err)
			}
		}
	})
}

func TestContext(t *testing.T) {
	if _, ok := tenancy.FromContext(context.Background()); ok {
		t.Fatal("empty context carries a tenant")
	}
	tn := &tenancy.Tenant{ID: "x", Slug: "x"}
	got, ok := tenancy.FromContext(tenancy.WithTenant(context.Background(), tn))
	if !ok || got != tn {
		t.Fatal("tenant not carried")
	}
}
