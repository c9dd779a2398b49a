package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs plenum in-process against dataDir and returns exit code,
// stdout and stderr.
func cli(t *testing.T, dataDir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"PLENUM_DATA_DIR": dataDir, "PLENUM_LOG_LEVEL": "error"}
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := cli(t, dir, "migrate"); code != 0 || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	steps := []struct {
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{[]string{"tenant", "create", "--slug", "rue-12", "--name", "Rue de la Paix 12"}, 0, "created tenant rue-12", ""},
		{[]string{"tenant", "create", "--slug", "rue-14", "--name", "Rue de la Paix 14", "--owner", "chair@rue14.example"}, 0, "invited chair@rue14.example as owner", ""},
		{[]string{"tenant", "create", "--slug", "rue-16", "--name", "Rue de la Paix 16", "--owner", "not an address"}, 2, "", "--owner must be a plain e-mail address"},
		{[]string{"tenant", "create", "--slug", "rue-12", "--name", "Again"}, 1, "", "already exists"},
		{[]string{"tenant", "create", "--slug", "Bad Slug", "--name", "x"}, 1, "", "slug"},
		{[]string{"tenant", "create", "--name", "no slug"}, 2, "", "--slug and --name are required"},
		{[]string{"tenant", "list"}, 0, "rue-12", ""},
		{[]string{"tenant", "list", "--json"}, 0, `"slug":"rue-12"`, ""},
		{[]string{"audit", "verify"}, 0, "intact", ""},
		{[]string{"audit", "verify", "--tenant", "rue-12"}, 0, "intact", ""},
		{[]string{"audit", "verify", "--tenant", "nobody"}, 1, "", "not found"},
		{[]string{"audit", "export", "--tenant", "rue-12"}, 0, `"tenant.create"`, ""},
		{[]string{"keys", "rotate", "--tenant", "rue-12"}, 0, "rotated the data key", ""},
		{[]string{"keys", "rotate"}, 0, "rotated the master key", ""},
		{[]string{"audit", "verify"}, 0, "intact", ""},
		{[]string{"tenant", "delete", "--slug", "rue-12"}, 2, "", "--yes"},
		{[]string{"tenant", "delete", "--slug", "rue-12", "--yes"}, 0, "deleted tenant rue-12", ""},
		{[]string{"tenant", "list"}, 0, "SLUG", ""},
		{[]string{"version"}, 0, "plenum ", ""},
		{[]string{"version", "--deps"}, 0, "github.com/gofiber/fiber/v2", ""},
		{[]string{"nonsense"}, 2, "", "unknown command"},
		{[]string{"tenant", "frobnicate"}, 2, "", "unknown subcommand"},
		{[]string{"serve", "--no-such-flag"}, 2, "", "flag provided but not defined"},
		{[]string{"tenant", "create", "--help"}, 0, "", "Usage: plenum tenant create"},
	}
	for _, s := range steps {
		code, out, errOut := cli(t, dir, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.err) {
			t.Errorf("plenum %s = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout ∋ %q, stderr ∋ %q",
				strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.err)
		}
	}
	// After a master key rotation a fresh process still opens everything.
	if code, _, errOut := cli(t, dir, "audit", "verify"); code != 0 {
		t.Fatalf("verify after rotation: %s", errOut)
	}
}

// Start-up failures are one line that says what is wrong.
func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := cli(t, dir, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	badCfg := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badCfg, []byte("listen: [oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherKey := t.TempDir()
	if code, _, errOut := cli(t, otherKey, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	// A database migrated by a future Plenum.
	newer := t.TempDir()
	if code, _, errOut := cli(t, newer, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	future, err := sql.Open("sqlite", filepath.Join(newer, "plenum.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := future.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', CURRENT_TIMESTAMP)"); err != nil {
		t.Fatal(err)
	}
	future.Close()
	tests := []struct {
		name string
		args []string
		prep func(t *testing.T)
		want string
	}{
		{"malformed config", []string{"tenant", "list", "--config", badCfg}, nil, "config file"},
		{"database cannot be opened", []string{"tenant", "list", "--db-dsn", "/nonexistent/x/plenum.db"}, nil, "directory"},
		{"wrong master key", []string{"tenant", "list"}, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(otherKey, "master.key"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "master.key"), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "master key"},
		{"schema newer than the binary", []string{"tenant", "list", "--data-dir", newer}, nil, "newer plenum"},
		{"missing master key", []string{"tenant", "list"}, func(t *testing.T) {
			if err := os.Remove(filepath.Join(dir, "master.key")); err != nil {
				t.Fatal(err)
			}
		}, "master key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prep != nil {
				tt.prep(t)
			}
			code, _, errOut := cli(t, dir, tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d stderr %q, want 1 and %q", code, errOut, tt.want)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
				t.Errorf("error spans %d lines: %q", n+1, errOut)
			}
		})
	}
}

// TestPluginCommands follows a plugin author: build, inspect, keygen,
// sign, verify, call.
func TestPluginCommands(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "..", "plugins", "majority")
	wasmFile := filepath.Join(dir, "majority.wasm")
	manifest := filepath.Join(dir, "plugin.json")
	b, err := os.ReadFile(filepath.Join(src, "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "in.json")
	os.WriteFile(input, []byte(`{"ballot_id":"poll-2025-0042","rule":"simple_majority","quorum":5,"votes":[
		{"voter":"u-1001","choice":"yes","weight":{"num":1,"den":1}},{"voter":"u-1002","choice":"no","weight":{"num":1,"den":1}},
		{"voter":"u-1003","choice":"yes","weight":{"num":1,"den":1}},{"voter":"u-1004","choice":"abstain","weight":{"num":1,"den":1}},
		{"voter":"u-1005","choice":"yes","weight":{"num":1,"den":1}}]}`), 0o644)
	key := filepath.Join(dir, "author.key")
	code, out, errOut := cli(t, dir, "plugin", "keygen", "--out", key)
	if code != 0 {
		t.Fatal(errOut)
	}
	pub := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "public key") {
			pub = strings.TrimSpace(strings.TrimPrefix(line, "public key"))
		}
	}
	other := filepath.Join(dir, "other.key")
	_, otherOut, _ := cli(t, dir, "plugin", "keygen", "--out", other)
	otherPub := strings.TrimSpace(strings.TrimPrefix(strings.Split(otherOut, "\n")[1], "public key"))
	steps := []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"plugin", "build", src, "--out", wasmFile}, 0, "built", ""},
		{[]string{"plugin", "inspect", wasmFile, "--manifest", manifest}, 0, "plenum_abi_v1_call", ""},
		{[]string{"plugin", "verify", wasmFile, "--manifest", manifest, "--trust", pub}, 1, "", "not signed"},
		{[]string{"plugin", "sign", wasmFile, "--manifest", manifest, "--key", key}, 0, "signed majority 0.1.0", ""},
		{[]string{"plugin", "verify", wasmFile, "--manifest", manifest, "--trust", pub}, 0, "signature valid", ""},
		{[]string{"plugin", "verify", wasmFile, "--manifest", manifest, "--trust", otherPub}, 1, "", "does not verify"},
		{[]string{"plugin", "call", wasmFile, "tally", "--input", input, "--manifest", manifest}, 0, `"decision": "pass"`, "took"},
		{[]string{"plugin", "call", wasmFile, "nonsense", "--input", input}, 1, "", "unknown hook"},
		{[]string{"plugin", "inspect", input}, 1, "", "does not compile"},
		{[]string{"plugin"}, 2, "", "Usage: plenum plugin"},
	}
	for _, s := range steps {
		code, out, errOut := cli(t, dir, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.err) {
			t.Errorf("plenum %s = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout ∋ %q, stderr ∋ %q",
				strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.err)
		}
	}
	// The operator installs it (trusting the author's key) and enables it
	// for a tenant with a config the plugin accepts.
	data := filepath.Join(dir, "data")
	env := func(args ...string) (int, string, string) { return cli(t, data, args...) }
	if code, _, errOut := env("tenant", "list"); code != 1 || !strings.Contains(errOut, "migrate") {
		// a fresh data dir must be migrated first
		t.Logf("fresh data dir: %d %s", code, errOut)
	}
	if code, _, errOut := env("migrate"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := env("tenant", "create", "--slug", "coop", "--name", "Co-op"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := env("plugin", "install", wasmFile, "--manifest", filepath.Join(src, "plugin.json")); code != 1 || !strings.Contains(errOut, "not signed") {
		t.Fatalf("unsigned install: %d %s", code, errOut)
	}
	var out2, err2 bytes.Buffer
	code2 := run(context.Background(), []string{"plugin", "install", wasmFile, "--manifest", manifest}, &out2, &err2, func(k string) string {
		return map[string]string{"PLENUM_DATA_DIR": data, "PLENUM_LOG_LEVEL": "error", "PLENUM_PLUGIN_TRUSTED_KEYS": pub}[k]
	})
	if code2 != 0 || !strings.Contains(out2.String(), "installed majority 0.1.0") {
		t.Fatalf("signed install: %d %s %s", code2, out2.String(), err2.String())
	}
	for _, s := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"plugin", "list"}, 0, "majority", ""},
		{[]string{"plugin", "enable", "--tenant", "coop", "--hook", "scan_upload", "--plugin", "majority@0.1.0"}, 1, "", "does not implement"},
		{[]string{"plugin", "enable", "--tenant", "coop", "--hook", "tally", "--plugin", "majority@0.1.0"}, 0, "now decides tally", ""},
		{[]string{"plugin", "list", "--tenant", "coop"}, 0, "majority", ""},
		{[]string{"plugin", "disable", "--tenant", "coop", "--hook", "tally"}, 0, "disabled", ""},
		{[]string{"audit", "verify"}, 0, "intact", ""},
	} {
		code, out, errOut := env(s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.err) {
			t.Errorf("plenum %s = %d\nstdout: %s\nstderr: %s", strings.Join(s.args, " "), code, out, errOut)
		}
	}
	// A changed module no longer verifies.
	mod, _ := os.ReadFile(wasmFile)
	mod[len(mod)-1] ^= 1
	os.WriteFile(wasmFile, mod, 0o644)
	if code, _, errOut := cli(t, dir, "plugin", "verify", wasmFile, "--manifest", manifest, "--trust", pub); code != 1 || !strings.Contains(errOut, "does not verify") {
		t.Fatalf("tampered module: %d %s", code, errOut)
	}
}

// TestNewcomerPath follows sdk/README.md: scaffold a plugin, test it,
// build, sign, install with the author's key trusted, enable for a tenant.
func TestNewcomerPath(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	dir := filepath.Join(work, "quorum-check")
	data := filepath.Join(work, "data")
	keyFile := filepath.Join(work, "author.key")
	var pub string
	step := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		env := map[string]string{"PLENUM_DATA_DIR": data, "PLENUM_LOG_LEVEL": "error", "PLENUM_PLUGIN_TRUSTED_KEYS": pub}
		if code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] }); code != 0 {
			t.Fatalf("plenum %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
		return out.String()
	}
	step("plugin", "new", dir, "--hook", "tally", "--plenum", repo)
	if out := step("plugin", "test", dir); !strings.Contains(out, "1 passed, 0 failed") {
		t.Fatalf("plugin test: %s", out)
	}
	step("plugin", "build", dir)
	out := step("plugin", "keygen", "--out", keyFile)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "public key") {
			pub = strings.TrimSpace(strings.TrimPrefix(line, "public key"))
		}
	}
	wasmFile, manifest := filepath.Join(dir, "plugin.wasm"), filepath.Join(dir, "plugin.json")
	step("plugin", "sign", wasmFile, "--manifest", manifest, "--key", keyFile)
	step("migrate")
	step("tenant", "create", "--slug", "rue-12", "--name", "Rue de la Paix 12")
	step("plugin", "install", wasmFile, "--manifest", manifest)
	if out := step("plugin", "enable", "--tenant", "rue-12", "--hook", "tally", "--plugin", "quorum-check@0.1.0"); !strings.Contains(out, "now decides tally") {
		t.Fatal(out)
	}
	// A broken fixture is reported.
	os.WriteFile(filepath.Join(dir, "testdata", "example.output.json"), []byte(`{"decision":"fail"}`), 0o644)
	var outb, errb bytes.Buffer
	if code := run(context.Background(), []string{"plugin", "test", dir}, &outb, &errb, func(string) string { return "" }); code != 1 || !strings.Contains(outb.String(), "0 passed, 1 failed") {
		t.Fatalf("failing fixture: %d %s %s", code, outb.String(), errb.String())
	}
}
