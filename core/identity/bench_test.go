package identity_test

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/testkit"
)

// BenchmarkAuthenticate measures whole sign-ins at the production
// password parameters (Argon2id, 19 MiB, t=2, p=1) from all cores: the
// reported signins/s is what one host sustains, bounded by hashing.
func BenchmarkAuthenticate(b *testing.B) {
	db := testkit.OpenDB(b, testkit.SQLiteConfig(b))
	f := &userFixture{db: db, keys: newTestKeys(b), rec: &tenantEvents{}, mail: &notices{}, clk: &clock{t: time.Now()}}
	f.users = identity.NewUsers(db, f.keys, f.rec, identity.NewDBLimiter(db, nil), f.mail, names{},
		identity.UserOptions{Hasher: identity.NewPasswordHasher(identity.OWASPParams())})
	f.tenantA = f.tenant(b, "a")
	ctx := context.Background()
	const users = 64
	for i := range users {
		_, tok, err := f.users.Invite(ctx, f.tenantA, "system", fmt.Sprintf("u%d@example.org", i), "", identity.RequestMeta{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.users.SetPasswordWithLink(ctx, f.tenantA, tok, memberPW, false, identity.RequestMeta{}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := f.users.Authenticate(ctx, f.tenantA, fmt.Sprintf("u%d@example.org", i%users), memberPW,
				identity.RequestMeta{IP: fmt.Sprintf("198.51.100.%d", i%250)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "signins/s")
}

// BenchmarkLimiterReserve measures the lockout check: one upsert on the
// key's row (database) or one script call (Redis), per attempt.
func BenchmarkLimiterReserve(b *testing.B) {
	lo := identity.DefaultSettings().Lockout
	lo.AccountThreshold, lo.IPThreshold = 100, 10000
	run := func(b *testing.B, l identity.AttemptLimiter, tenantID string) {
		ctx := context.Background()
		lat := make([]time.Duration, 0, 4096)
		i := 0
		for b.Loop() {
			key := fmt.Sprintf("account:%d", i%512)
			i++
			t0 := time.Now()
			if _, err := l.Reserve(ctx, tenantID, key, "", lo); err != nil {
				b.Fatal(err)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, time.Since(t0))
			}
			if err := l.Succeed(ctx, tenantID, key, true); err != nil {
				b.Fatal(err)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		}
	}
	for _, c := range testkit.Databases(b) {
		b.Run(c.Name, func(b *testing.B) {
			db := testkit.OpenDB(b, c.Config)
			f := &userFixture{db: db, clk: &clock{t: time.Now()}}
			run(b, identity.NewDBLimiter(db, nil), f.tenant(b, "a"))
		})
	}
}
