package access

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func fuzzInput() *Input {
	return &Input{
		Principal: Principal{ID: "u1", Roles: []string{"member", "board"}, MFA: true, Units: []string{"north", "south"}, Attributes: map[string]string{"seat": "treasury"}},
		Resource:  Resource{Kind: "ballot", ID: "b1", OwnerID: "u1", Unit: "north", Status: "open", Attributes: map[string]string{"confidential": "no"}},
		Request:   Request{Method: "POST", Path: "/ballots/b1", IP: "192.0.2.1", Country: "FR", Channel: "web"},
		Now:       time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
}

// FuzzCheck checks that no expression makes Check or Eval panic, that
// issues have positions, and that what Check accepts evaluates within its
// budget.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"resource.owner_id == principal.id && principal.mfa",
		"principal.units.exists(u, u == resource.unit)",
		"principal.rolez == 1",
		"now > timestamp('2026-01-01T00:00:00Z') && request.country in ['FR']",
		"((((((((((((((((((true))))))))))))))))))",
	} {
		f.Add(s)
	}
	e, err := NewEngine(Limits{CacheSize: 256})
	if err != nil {
		f.Fatal(err)
	}
	in := fuzzInput()
	f.Fuzz(func(t *testing.T, expr string) {
		c, issues := e.Compile(expr)
		if (c == nil) == (issues == nil) {
			t.Fatalf("Compile(%q) = %v, %v: want exactly one of them", expr, c, issues)
		}
		for _, is := range issues {
			if is.Line < 1 || is.Column < 1 || is.Message == "" {
				t.Fatalf("Compile(%q): issue without position or message: %+v", expr, is)
			}
		}
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, _ = e.Eval(ctx, c, in)
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("Eval(%q) took %v", expr, d)
		}
		_ = e.falseClause(ctx, c, in)
	})
}

// FuzzSavePolicyJSON runs what SavePolicy does before touching the
// database (decode, validate and compile, run the test cases) on
// arbitrary JSON: it must never panic, and an accepted policy must
// survive a JSON round trip.
func FuzzSavePolicyJSON(f *testing.F) {
	f.Add([]byte(`{"rules":[{"role":"member","permissions":["votes.cast"],"condition":"principal.mfa"}],` +
		`"tests":[{"name":"t","principal":{"id":"u1","roles":["member"],"mfa":true},"permission":"votes.cast","allow":true}]}`))
	f.Add([]byte(`{"rules":[{"role":"Bad","permissions":["x.y"],"condition":"principal.rolez"}]}`))
	f.Add([]byte(`{"rules":[]} trailing`))
	e, err := NewEngine(Limits{CacheSize: 256})
	if err != nil {
		f.Fatal(err)
	}
	cat := NewCatalog([]Role{{Name: "treasurer", Permissions: []Permission{BillingManage}}})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			return
		}
		cp, err := e.CompilePolicy(p)
		if err != nil {
			if _, ok := err.(*ValidationError); !ok {
				t.Fatalf("CompilePolicy error %T, want *ValidationError", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.RunTests(ctx, cp, cat); err != nil {
			if _, ok := err.(*TestFailure); !ok {
				t.Fatalf("RunTests error %T, want *TestFailure", err)
			}
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePolicy(out)
		if err != nil || len(q.Rules) != len(p.Rules) || len(q.Tests) != len(p.Tests) {
			t.Fatalf("round trip of %s: %v", out, err)
		}
	})
}
