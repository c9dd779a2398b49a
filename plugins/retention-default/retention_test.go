package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

func TestSweep(t *testing.T) {
	now := int64(1_800_000_000)
	recs := []sdk.RetentionRecord{
		{Class: "tenant", ID: "deleted-31d", Deleted: now - 31*day},
		{Class: "tenant", ID: "deleted-10d", Deleted: now - 10*day},
		{Class: "tenant", ID: "held", Deleted: now - 400*day, LegalHold: true},
		{Class: "tenant", ID: "inactive-181d", Created: now - 900*day, LastActivity: now - 181*day},
		{Class: "tenant", ID: "warn-30", Created: now - 900*day, LastActivity: now - 150*day},
		{Class: "tenant", ID: "warn-7", Created: now - 900*day, LastActivity: now - 173*day},
		{Class: "tenant", ID: "active", Created: now - 900*day, LastActivity: now - 5*day},
		{Class: "backup", ID: "old-backup", Created: now - 31*day},
		{Class: "backup", ID: "new-backup", Created: now - 2*day},
		{Class: "user", ID: "gone-user", Deleted: now - 40*day},
		{Class: "ballot", ID: "open-ballot", Created: now - 50*day},
		{Class: "ballot", ID: "old-ballot", Closed: now - 11*365*day},
	}
	want := map[string]string{
		"deleted-31d": "crypto_shred", "deleted-10d": "keep", "held": "keep", "inactive-181d": "delete",
		"warn-30": "warn", "warn-7": "warn", "active": "keep", "old-backup": "delete", "new-backup": "keep",
		"gone-user": "anonymise", "open-ballot": "keep", "old-ballot": "delete",
	}
	out, err := sweep(&sdk.RetentionInput{Now: now, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Decisions) != len(recs) {
		t.Fatalf("%d decisions for %d records", len(out.Decisions), len(recs))
	}
	for _, d := range out.Decisions {
		if d.Action != want[d.ID] {
			t.Errorf("%s: %s (%s), want %s", d.ID, d.Action, d.Reason, want[d.ID])
		}
	}
	sdk.NativeConfig = []byte(`{"grace_days":45}`)
	defer func() { sdk.NativeConfig = nil }()
	if _, err := sweep(&sdk.RetentionInput{Now: now}); err == nil {
		t.Fatal("a grace period beyond the promised 30 days was accepted")
	}
}

// The retention examples in schemas/examples are this plugin's golden files.
func TestGoldenExamples(t *testing.T) {
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "retention"), func(b []byte) (any, error) {
		var in sdk.RetentionInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return sweep(&in)
	})
}
