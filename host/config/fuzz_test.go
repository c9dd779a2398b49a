package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadFile feeds arbitrary bytes as the configuration file: Load must
// return a configuration or an error, never panic, and an accepted
// configuration must validate.
func FuzzLoadFile(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:9000\n"))
	f.Add([]byte("database:\n  driver: postgres\n  dsn: postgres://u@h/db\n"))
	f.Add([]byte("trusted_proxies: [10.0.0.0/8, 192.0.2.1]\ncheckpoint_interval: 5m\n"))
	f.Add([]byte("log: {level: debug, format: text}\n"))
	f.Add([]byte("- not\n- a map\n"))
	f.Add([]byte("\x00\xff"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("f", flag.ContinueOnError)
		fl := Register(fs)
		if err := fs.Parse([]string{"--config", p}); err != nil {
			t.Fatal(err)
		}
		c, err := fl.Load(func(string) string { return "" })
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted a configuration that does not validate: %v", verr)
			}
		}
	})
}
