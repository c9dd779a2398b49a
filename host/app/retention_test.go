package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestRetentionSweep runs the sweep with the real retention-default plugin
// (built from source, through the wasm runtime): a deleted workspace is
// kept through its grace period and crypto-shredded after it; an active
// one is kept; a dry run changes nothing.
func TestRetentionSweep(t *testing.T) {
	testhost.StartEach(t, testhost.Options{Tally: true}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		active := h.CreateTenant(t, "active", "Active Co-op")
		gone := h.CreateTenant(t, "gone", "Gone Co-op")
		if _, err := h.App.Tenants.Delete(ctx, gone.ID, "test"); err != nil {
			t.Fatal(err)
		}
		at := func(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }
		const day = 24 * time.Hour
		if rep, err := h.App.Sweeper(at(day)).Sweep(ctx, false); err != nil || len(rep.Shredded) != 0 {
			t.Fatalf("a day after deletion: %+v %v", rep, err)
		}
		dry, err := h.App.Sweeper(at(31*day)).Sweep(ctx, true)
		if err != nil || !slices.Contains(dry.Shredded, gone.ID) || slices.Contains(dry.Shredded, active.ID) {
			t.Fatalf("dry run: %+v %v", dry, err)
		}
		if _, err := h.App.Keys.Seal(ctx, gone.ID, []byte("x"), nil); err != nil {
			t.Fatalf("the dry run destroyed a key: %v", err)
		}
		rep, err := h.App.Sweeper(at(31*day)).Sweep(ctx, false)
		if err != nil || !slices.Contains(rep.Shredded, gone.ID) {
			t.Fatalf("31 days after deletion: %+v %v", rep, err)
		}
		if _, err := h.App.Keys.Seal(ctx, gone.ID, []byte("x"), nil); !errors.Is(err, crypto.ErrKeyDestroyed) {
			t.Fatalf("deleted tenant's key after the grace period: %v", err)
		}
		if _, err := h.App.Keys.Seal(ctx, active.ID, []byte("x"), nil); err != nil {
			t.Fatalf("active tenant's key: %v", err)
		}
	})
}
