package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/lifecycle/backup"
	"github.com/plenum-vote/plenum/testkit"
)

// backupCLI runs plenum in-process with env as its environment.
func backupCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if env["PLENUM_LOG_LEVEL"] == "" {
		env["PLENUM_LOG_LEVEL"] = "error"
	}
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBackupCommands(t *testing.T) {
	engines := []struct {
		name string
		env  func(t *testing.T, dir string) map[string]string
	}{
		{"sqlite", func(t *testing.T, dir string) map[string]string {
			return map[string]string{"PLENUM_DATA_DIR": dir}
		}},
		{"postgres", func(t *testing.T, dir string) map[string]string {
			cfg := testkit.PostgresConfig(t)
			return map[string]string{"PLENUM_DATA_DIR": dir, "PLENUM_DATABASE_DRIVER": "postgres", "PLENUM_DATABASE_DSN": cfg.DSN}
		}},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			dir := t.TempDir()
			src := eng.env(t, dir)
			for _, args := range [][]string{
				{"migrate"},
				{"tenant", "create", "--slug", "rue-12", "--name", "Rue de la Paix 12"},
			} {
				if code, _, errOut := backupCLI(t, src, args...); code != 0 {
					t.Fatalf("plenum %v: %s", args, errOut)
				}
			}
			file := filepath.Join(t.TempDir(), "one"+backup.FileExt)
			keyFile := filepath.Join(dir, "backup.key")
			code, out, errOut := backupCLI(t, src, "backup", "create", "--out", file)
			if code != 0 || !strings.Contains(out, "wrote backup "+file) || !strings.Contains(errOut, "generated a new backup key") {
				t.Fatalf("backup create = %d\n%s\n%s", code, out, errOut)
			}
			if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("backup key file: %v %v", st, err)
			}
			keyText, err := os.ReadFile(keyFile)
			if err != nil {
				t.Fatal(err)
			}
			tampered := filepath.Join(t.TempDir(), "tampered"+backup.FileExt)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			if err := os.WriteFile(tampered, b, 0o600); err != nil {
				t.Fatal(err)
			}

			fresh := t.TempDir()
			withKey := map[string]string{"PLENUM_DATA_DIR": fresh, backup.EnvKey: strings.TrimSpace(string(keyText))}
			steps := []struct {
				name string
				env  map[string]string
				args []string
				code int
				out  string // substring of stdout
				err  string // substring of stderr
			}{
				{"second create reuses the key", src, []string{"backup", "create"}, 0, "wrote backup " + filepath.Join(dir, "backups"), ""},
				{"create before migrate", map[string]string{"PLENUM_DATA_DIR": t.TempDir()}, []string{"backup", "create"}, 1, "", "plenum migrate"},
				{"list", src, []string{"backup", "list"}, 0, backup.FileExt, ""},
				{"list an empty directory", src, []string{"backup", "list", "--dir", t.TempDir()}, 0, "no backups", ""},
				{"verify", src, []string{"backup", "verify", file}, 0, "intact", ""},
				{"verify a tampered file", src, []string{"backup", "verify", tampered}, 1, "", "tampered"},
				{"verify without a file", src, []string{"backup", "verify"}, 2, "", "exactly one backup FILE"},
				{"create over an existing file", src, []string{"backup", "create", "--out", file}, 1, "", "already exists"},
				{"create with --out and --dir", src, []string{"backup", "create", "--out", "a", "--dir", "b"}, 2, "", "not both"},
				{"restore without --yes", src, []string{"backup", "restore", file}, 2, "", "--yes"},
				{"restore into a non-empty database", src, []string{"backup", "restore", file, "--yes"}, 1, "", "not empty"},
				{"restore without a key", map[string]string{"PLENUM_DATA_DIR": t.TempDir()}, []string{"backup", "restore", file, "--yes"}, 1, "", "no backup key"},
				{"restore with another key", map[string]string{"PLENUM_DATA_DIR": t.TempDir(), backup.EnvKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, []string{"backup", "restore", file, "--yes"}, 1, "", "wrong backup key"},
				{"restore a tampered file", map[string]string{"PLENUM_DATA_DIR": t.TempDir(), backup.EnvKey: strings.TrimSpace(string(keyText))}, []string{"backup", "restore", tampered, "--yes"}, 1, "", "tampered"},
				{"restore into a fresh SQLite database", withKey, []string{"backup", "restore", file, "--yes"}, 0, "put the original installation's master key", ""},
			}
			for _, s := range steps {
				code, out, errOut := backupCLI(t, s.env, s.args...)
				if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.err) {
					t.Errorf("%s: plenum %s = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout ∋ %q, stderr ∋ %q",
						s.name, strings.Join(s.args, " "), code, out, errOut, s.code, s.out, s.err)
				}
			}
			// With the original master key the restored copy is the installation.
			copyFile(t, filepath.Join(dir, "master.key"), filepath.Join(fresh, "master.key"))
			for _, s := range []struct {
				args []string
				out  string
			}{
				{[]string{"tenant", "list"}, "rue-12"},
				{[]string{"audit", "verify"}, "intact"},
				{[]string{"audit", "verify", "--tenant", "rue-12"}, "intact"},
			} {
				if code, out, errOut := backupCLI(t, withKey, s.args...); code != 0 || !strings.Contains(out, s.out) {
					t.Errorf("restored copy: plenum %v = %d\n%s\n%s", s.args, code, out, errOut)
				}
			}
		})
	}
}
