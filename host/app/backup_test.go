package app_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/lifecycle/backup"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestDailyBackup: the scheduled job writes a verified backup when none is
// a day old, does nothing otherwise, and removes backups past 30 days but
// never the newest.
func TestDailyBackup(t *testing.T) {
	h := testhost.Start(t, testhost.Options{Demo: true})
	ctx := context.Background()
	now := time.Now()
	first, err := h.App.DailyBackup(ctx, now)
	if err != nil || first == "" {
		t.Fatalf("first backup: %q %v", first, err)
	}
	if again, err := h.App.DailyBackup(ctx, now.Add(time.Hour)); err != nil || again != "" {
		t.Fatalf("an hour later: %q %v", again, err)
	}
	second, err := h.App.DailyBackup(ctx, now.Add(25*time.Hour))
	if err != nil || second == "" || second == first {
		t.Fatalf("a day later: %q %v", second, err)
	}
	// Make the first one look 40 days old; the next run removes it.
	old := now.Add(-40 * 24 * time.Hour)
	if err := os.Chtimes(first, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(second, now.Add(-25*time.Hour), now.Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if third, err := h.App.DailyBackup(ctx, now.Add(time.Minute)); err != nil || third == "" {
		t.Fatalf("third: %q %v", third, err)
	}
	files, err := backup.List(h.App.BackupDir())
	if err != nil || len(files) != 2 {
		t.Fatalf("after pruning: %+v %v", files, err)
	}
	for _, f := range files {
		if f.Path == first {
			t.Fatal("the 40-day-old backup was kept")
		}
	}
}
