package redisstate_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/host/redisstate"
	"github.com/plenum-vote/plenum/testkit"
)

const tenant = "a0000000-0000-7000-8000-000000000000"

// TestReserveConcurrent: of many parallel attempts on one key, exactly the
// threshold may go ahead, and the key ends up locked.
func TestReserveConcurrent(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	l := redisstate.NewLimiter(rdb, prefix, nil)
	lo := identity.DefaultSettings().Lockout
	ctx := context.Background()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := l.Reserve(ctx, tenant, "account:abc", "user-1", lo)
			if err != nil {
				t.Error(err)
				return
			}
			if v.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if int(allowed.Load()) != lo.AccountThreshold {
		t.Fatalf("%d attempts allowed, threshold %d", allowed.Load(), lo.AccountThreshold)
	}
	v, err := l.Reserve(ctx, tenant, "account:abc", "", lo)
	if err != nil || v.Allowed || v.LockedUntil.IsZero() {
		t.Fatalf("after the burst: %+v, %v", v, err)
	}
	locks, err := l.Locks(ctx, tenant)
	if err != nil || len(locks) != 1 || locks[0].UserID != "user-1" || locks[0].Key != "account:abc" {
		t.Fatalf("locks = %+v, %v", locks, err)
	}
	// Another tenant's key of the same name is untouched.
	if v, err := l.Reserve(ctx, "b0000000-0000-7000-8000-000000000000", "account:abc", "", lo); err != nil || !v.Allowed {
		t.Fatalf("other tenant: %+v, %v", v, err)
	}
	if err := l.Unlock(ctx, tenant, "user-1"); err != nil {
		t.Fatal(err)
	}
	if v, err := l.Reserve(ctx, tenant, "account:abc", "", lo); err != nil || !v.Allowed || v.Count != 1 {
		t.Fatalf("after unlock: %+v, %v", v, err)
	}
}

// TestFailLocksAtThreshold: sequential failures lock the key on the
// threshold-th failure, with a lock that doubles each time.
func TestFailLocksAtThreshold(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := redisstate.NewLimiter(rdb, prefix, clock)
	lo := identity.DefaultSettings().Lockout
	ctx := context.Background()
	for round, want := range []time.Duration{5 * time.Minute, 10 * time.Minute} {
		var until time.Time
		for i := range lo.AccountThreshold {
			v, err := l.Reserve(ctx, tenant, "account:k", "u", lo)
			if err != nil || !v.Allowed {
				t.Fatalf("round %d attempt %d: %+v %v", round, i, v, err)
			}
			if until, err = l.Fail(ctx, tenant, "account:k", v.Count, lo.AccountThreshold, lo); err != nil {
				t.Fatal(err)
			}
		}
		if got := until.Sub(clock()); got != want {
			t.Fatalf("round %d: locked for %s, want %s", round, got, want)
		}
		mu.Lock()
		now = until.Add(time.Second)
		mu.Unlock()
	}
	if err := l.Succeed(ctx, tenant, "account:k", true); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReserve measures the lockout check over Redis: one script call
// per attempt.
func BenchmarkReserve(b *testing.B) {
	rdb, prefix := testkit.Redis(b)
	l := redisstate.NewLimiter(rdb, prefix, nil)
	lo := identity.DefaultSettings().Lockout
	lo.AccountThreshold = 100
	ctx := context.Background()
	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		key := "account:" + strconv.Itoa(i%512)
		i++
		t0 := time.Now()
		if _, err := l.Reserve(ctx, tenant, key, "", lo); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		if err := l.Succeed(ctx, tenant, key, true); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	}
}
