package access

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkDecide measures a decision under a cached policy with the
// condition `resource.owner_id == principal.id && principal.mfa`. It
// reports the median latency (p50-ns) besides the mean, and fails if the
// hot path compiles anything.
//
// The sub-benchmark "role-only" is the baseline measured in the same run:
// the same decision with no condition, i.e. the role and permission
// look-up alone; the difference is what the CEL condition costs.
func BenchmarkDecide(b *testing.B) {
	for _, bc := range []struct{ name, cond string }{
		{"cel", "resource.owner_id == principal.id && principal.mfa"},
		{"role-only", ""},
	} {
		b.Run(bc.name, func(b *testing.B) { benchmarkDecide(b, bc.cond) })
	}
}

func benchmarkDecide(b *testing.B, cond string) {
	e, err := NewEngine(Limits{})
	if err != nil {
		b.Fatal(err)
	}
	cp, err := e.CompilePolicy(Policy{Rules: []Rule{
		{Role: RoleMember, Permissions: []Permission{VotesCast, ResultsRead}, Condition: cond},
	}})
	if err != nil {
		b.Fatal(err)
	}
	cat := NewCatalog([]Role{{Name: "treasurer", Permissions: []Permission{BillingManage}}})
	in := &Input{
		Principal: Principal{ID: "u1", Roles: []string{"treasurer", "member"}, MFA: true, Units: []string{"north"}},
		Resource:  Resource{Kind: "ballot", ID: "b1", OwnerID: "u1", Status: "open"},
		Request:   Request{Method: "POST", Path: "/ballots/b1/votes", Channel: "web"},
		Now:       time.Now(),
	}
	ctx := context.Background()
	compiles := e.Compiles()
	const sample = 1 << 14
	lat := make([]time.Duration, 0, sample)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if len(lat) < sample {
			start := time.Now()
			d := e.Decide(ctx, cp, cat, in, VotesCast)
			lat = append(lat, time.Since(start))
			if !d.Allow {
				b.Fatalf("denied: %+v", d)
			}
			continue
		}
		if d := e.Decide(ctx, cp, cat, in, VotesCast); !d.Allow {
			b.Fatalf("denied: %+v", d)
		}
	}
	b.StopTimer()
	if n := e.Compiles() - compiles; n != 0 {
		b.Fatalf("Decide compiled %d times", n)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	}
}
