package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plenum.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nlog:\n  level: warn\ndata_dir: /from/file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f := Register(fs)
	if err := fs.Parse([]string{"--config", file, "--data-dir", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.Load(env(map[string]string{"PLENUM_LISTEN": "127.0.0.1:9100", "PLENUM_DATA_DIR": "/from/env"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9100" {
		t.Errorf("Listen = %q, want env to win over file", c.Listen)
	}
	if c.DataDir != "/from/flag" {
		t.Errorf("DataDir = %q, want flag to win", c.DataDir)
	}
	if c.Log.Level != "warn" {
		t.Errorf("Log.Level = %q, want file value", c.Log.Level)
	}
	if c.Database.DSN != filepath.Join("/from/flag", "plenum.db") || c.MasterKeyFile != filepath.Join("/from/flag", "master.key") {
		t.Errorf("derived paths not under data dir: %q %q", c.Database.DSN, c.MasterKeyFile)
	}
	if c.BaseURL != "http://127.0.0.1:9100" {
		t.Errorf("BaseURL = %q", c.BaseURL)
	}
	if c.CheckpointInterval != time.Minute {
		t.Errorf("CheckpointInterval = %s", c.CheckpointInterval)
	}
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown field", []string{"--config", write("a.yaml", "listn: x\n")}, nil, "field listn not found"},
		{"bad yaml", []string{"--config", write("b.yaml", "listen: [\n")}, nil, "config file"},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, "config file"},
		{"bad listen", []string{"--listen", "8080"}, nil, "not host:port"},
		{"bad base url", []string{"--base-url", "ftp://x"}, nil, "base_url"},
		{"bad driver", []string{"--db-driver", "mysql"}, nil, "not supported"},
		{"postgres without dsn", []string{"--db-driver", "postgres"}, nil, "DSN is empty"},
		{"bad level", []string{"--log-level", "loud"}, nil, "log level"},
		{"bad proxy", nil, map[string]string{"PLENUM_TRUSTED_PROXIES": "10.0.0.0/33"}, "trusted proxy"},
		{"bad bool", nil, map[string]string{"PLENUM_DEMO": "maybe"}, "PLENUM_DEMO"},
		{"bad interval", nil, map[string]string{"PLENUM_CHECKPOINT_INTERVAL": "10ms"}, "checkpoint_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			f := Register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			_, err := f.Load(env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load() error = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}
