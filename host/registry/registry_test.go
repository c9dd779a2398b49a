package registry_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/host/registry"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
	"github.com/plenum-vote/plenum/testkit"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

const manifest = `{"name":"majority","version":"0.1.0","abi":1,"hooks":["tally"],
	"config_schema":{"type":"object","additionalProperties":false,"properties":{"explain":{"type":"boolean"}}}}`

func signed(t *testing.T, module []byte, key ed25519.PrivateKey, doc string) []byte {
	t.Helper()
	m, err := sdk.ParseManifest([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := sdk.Sign(m, module, key); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	return b
}

func TestRegistry(t *testing.T) {
	module := plugin.Build(t, filepath.Join("..", "..", "plugins", "majority"))
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mk, _ := crypto.NewMasterKey()
		keys, err := crypto.NewKeyring(ctx, db, mk)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"tenant-a", "tenant-b"} {
			db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return keys.CreateKey(ctx, tx, s) })
		}
		log, err := audit.New(ctx, db, keys, nil, audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		pub, key, _ := ed25519.GenerateKey(rand.Reader)
		_, stranger, _ := ed25519.GenerateKey(rand.Reader)
		reg, err := registry.New(db, log, registry.Options{Trusted: []ed25519.PublicKey{pub}})
		if err != nil {
			t.Fatal(err)
		}
		good := signed(t, module, key, manifest)

		refusals := []struct {
			name string
			req  registry.InstallRequest
			want string
		}{
			{"unsigned", registry.InstallRequest{Module: module, Manifest: []byte(manifest)}, "not signed"},
			{"untrusted signer", registry.InstallRequest{Module: module, Manifest: signed(t, module, stranger, manifest)}, "does not verify"},
			{"signature of other bytes", registry.InstallRequest{Module: append(append([]byte{}, module...), 0), Manifest: good}, "refused"},
			{"bad manifest", registry.InstallRequest{Module: module, Manifest: []byte(`{"name":"x"}`), AllowUnsigned: true}, "manifest"},
			{"not wasm", registry.InstallRequest{Module: []byte("nope"), Manifest: []byte(manifest), AllowUnsigned: true}, "does not compile"},
		}
		for _, r := range refusals {
			if _, err := reg.Install(ctx, r.req); !errors.Is(err, registry.ErrRefused) || !strings.Contains(err.Error(), r.want) {
				t.Errorf("%s: %v, want ErrRefused mentioning %q", r.name, err, r.want)
			}
		}
		p, err := reg.Install(ctx, registry.InstallRequest{Module: module, Manifest: good, Actor: "operator:test"})
		if err != nil {
			t.Fatal(err)
		}
		if p.SignedBy == nil || *p.SignedBy != sdk.KeyID(pub) {
			t.Fatalf("signed by %v", p.SignedBy)
		}
		if _, err := reg.Install(ctx, registry.InstallRequest{Module: module, Manifest: good}); err != nil {
			t.Fatalf("reinstall of the same bytes: %v", err)
		}
		other := strings.Replace(manifest, `"abi":1`, `"abi":1,"description":"changed"`, 1)
		if _, err := reg.Install(ctx, registry.InstallRequest{Module: module, Manifest: []byte(other), AllowUnsigned: true}); !errors.Is(err, registry.ErrExists) {
			t.Fatalf("other manifest under an installed version: %v", err)
		}
		if ps, err := reg.List(ctx); err != nil || len(ps) != 1 || ps[0].Module != nil {
			t.Fatalf("List = %d, %v", len(ps), err)
		}

		for _, bad := range []registry.EnableRequest{
			{TenantID: "tenant-a", Hook: "scan_upload", Plugin: "majority", Version: "0.1.0"},
			{TenantID: "tenant-a", Hook: "tally", Plugin: "majority", Version: "0.1.0", Config: []byte(`{"explain":"yes"}`)},
			{TenantID: "tenant-a", Hook: "tally", Plugin: "majority", Version: "9.9.9"},
			{TenantID: "", Hook: "tally", Plugin: "majority", Version: "0.1.0"},
		} {
			if _, err := reg.Enable(ctx, bad); err == nil {
				t.Errorf("Enable(%+v) accepted", bad)
			}
		}
		if _, err := reg.Enable(ctx, registry.EnableRequest{TenantID: "tenant-a", Hook: "tally", Plugin: "majority", Version: "0.1.0", Config: []byte(`{"explain":true}`), Actor: "user:1"}); err != nil {
			t.Fatal(err)
		}
		if bs, _ := reg.Bindings(ctx, "tenant-a"); len(bs) != 1 || bs[0].PluginName != "majority" {
			t.Fatalf("tenant A bindings %+v", bs)
		}
		if bs, _ := reg.Bindings(ctx, "tenant-b"); len(bs) != 0 {
			t.Fatalf("tenant B sees tenant A's bindings: %+v", bs)
		}
		if err := reg.Disable(ctx, "tenant-b", "tally", "user:2"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("tenant B disabled A's plugin: %v", err)
		}
		if err := reg.Disable(ctx, "tenant-a", "tally", "user:1"); err != nil {
			t.Fatal(err)
		}
		rep, err := log.Verify(ctx, audit.VerifyOptions{})
		if err != nil || !rep.OK() {
			t.Fatalf("audit: %+v %v", rep, err)
		}
		var buf strings.Builder
		log.ExportECS(ctx, &buf, audit.ExportOptions{})
		for _, a := range []string{"plugin.install", "plugin.enable", "plugin.disable"} {
			if !strings.Contains(buf.String(), `"action":"`+a+`"`) {
				t.Errorf("no %s event", a)
			}
		}
	})
}

func TestRunner(t *testing.T) {
	majority := plugin.Build(t, filepath.Join("..", "..", "plugins", "majority"))
	panics := plugin.Build(t, filepath.Join("..", "..", "testkit", "plugin", "testdata", "hostile", "panic"))
	loop := plugin.Build(t, filepath.Join("..", "..", "testkit", "plugin", "testdata", "hostile", "loop"))
	db := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	ctx := context.Background()
	mk, _ := crypto.NewMasterKey()
	keys, _ := crypto.NewKeyring(ctx, db, mk)
	for _, s := range []string{"tenant-a", "tenant-b"} {
		db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return keys.CreateKey(ctx, tx, s) })
	}
	log, _ := audit.New(ctx, db, keys, nil, audit.Options{})
	reg, _ := registry.New(db, log, registry.Options{})
	install := func(module []byte, name, owner string) {
		t.Helper()
		m := `{"name":"` + name + `","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"deadline_ms":5000}}`
		if _, err := reg.Install(ctx, registry.InstallRequest{Module: module, Manifest: []byte(m), AllowUnsigned: true, OwnerTenantID: owner}); err != nil {
			t.Fatal(err)
		}
		tenant := owner
		if tenant == "" {
			tenant = "tenant-a"
		}
		if _, err := reg.Enable(ctx, registry.EnableRequest{TenantID: tenant, Hook: "tally", Plugin: name, Version: "1.0.0"}); err != nil {
			t.Fatal(err)
		}
	}
	rt := plugin.NewRuntime(t, wasm.Caps{})
	run := registry.NewRunner(reg, rt)
	var w wire.Writer
	(&sdk.TallyInput{Rule: "simple_majority", Votes: []sdk.Vote{{Voter: "u", Choice: "yes", Weight: sdk.One()}}}).AppendWire(&w)

	if _, err := run.Call(ctx, "tenant-b", sdk.HookTally, w.Bytes()); !errors.Is(err, registry.ErrNoPlugin) {
		t.Fatalf("no binding: %v", err)
	}
	install(majority, "majority", "")
	out, err := run.Call(ctx, "tenant-a", sdk.HookTally, w.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var res sdk.TallyOutput
	if err := res.ReadWire(wire.NewReader(out)); err != nil || res.Decision != "pass" {
		t.Fatalf("%+v %v", res, err)
	}
	// A failing plugin is a typed error and an audit event of the tenant.
	install(panics, "panics", "")
	if _, err := run.Call(ctx, "tenant-a", sdk.HookTally, []byte{0}); !errors.Is(err, wasm.ErrTrap) {
		t.Fatalf("panicking plugin: %v", err)
	}
	var buf strings.Builder
	log.ExportECS(ctx, &buf, audit.ExportOptions{TenantID: "tenant-a"})
	if !strings.Contains(buf.String(), `"action":"plugin.failure"`) || strings.Contains(buf.String(), "hostile plugin panics") {
		t.Fatalf("failure event missing, or the guest's message recorded:\n%s", buf.String())
	}
	// A tenant's private plugin runs under the strictest limits whatever
	// its manifest asks for: the infinite loop stops at 100 ms, not 5 s.
	// The error names the deadline applied (timing the call would also
	// time the module's first compilation, which a loaded machine slows).
	install(loop, "my-loop", "tenant-b")
	if _, err := run.Call(ctx, "tenant-b", sdk.HookTally, nil); !errors.Is(err, wasm.ErrTimeout) || !strings.Contains(err.Error(), "deadline 100ms") {
		t.Fatalf("private loop: %v (want a timeout at the strict 100 ms deadline)", err)
	}
	// Tenant A cannot enable B's private plugin.
	if _, err := reg.Enable(ctx, registry.EnableRequest{TenantID: "tenant-a", Hook: "tally", Plugin: "my-loop", Version: "1.0.0"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("cross-tenant private plugin: %v", err)
	}
}
