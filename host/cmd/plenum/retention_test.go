package main

import (
	"strings"
	"testing"
)

// TestRetentionCommand: a dry run on a fresh installation names the
// tenants it looked at and changes nothing; without a retention plugin
// installed it fails closed and says why.
func TestRetentionCommand(t *testing.T) {
	env := map[string]string{"PLENUM_DATA_DIR": t.TempDir()}
	for _, args := range [][]string{{"migrate"}, {"tenant", "create", "--slug", "quai-3", "--name", "Quai 3"}} {
		if code, _, errOut := backupCLI(t, env, args...); code != 0 {
			t.Fatalf("plenum %v: %s", args, errOut)
		}
	}
	code, out, errOut := backupCLI(t, env, "retention", "sweep", "--dry-run")
	if code == 0 || !strings.Contains(out+errOut, "retention-default") {
		t.Fatalf("dry run without a retention plugin: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := backupCLI(t, env, "retention", "sweep", "--bogus"); code == 0 || !strings.Contains(errOut, "bogus") {
		t.Fatalf("bad flag: %d %s", code, errOut)
	}
}
