package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

// ballots is a small RCTab-style election: no majority in round 1, Cleo
// excluded, her ballots decide for Ben.
const ballots = "rank1,rank2,rank3,count\n" +
	"Ana,undervote,undervote,4\n" +
	"Ben,Ana,,3\n" +
	"Cleo,Ben,,2\n" +
	"overvote,Ana,,1\n"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTally(t *testing.T) {
	csv := writeFile(t, "mayor.csv", ballots)
	bad := writeFile(t, "bad.csv", "rank1,rank2,count\nAna,Ben,2\nBen,,many\n")
	txt := writeFile(t, "mayor.txt", ballots)
	tests := []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout
		err  string   // substring of stderr
	}{
		{"irv", []string{"tally", csv}, 0, []string{"elected: Ben", "round 1: ", "Cleo has the fewest and is excluded", "1 at an overvote"}, ""},
		{"overvote skipped", []string{"tally", "--config", `{"overvote":"skip"}`, csv}, 0, []string{"Ana and Ben tie", "decision: tie"}, ""},
		{"json", []string{"tally", "--json", csv}, 0, []string{`"decision": "elected"`}, ""},
		{"stv", []string{"tally", "--method", "stv", csv}, 0, []string{"elected: "}, ""},
		{"format flag", []string{"tally", "--format", "csv", txt}, 0, []string{"elected: Ben"}, ""},
		{"unknown extension", []string{"tally", txt}, 2, nil, "--format"},
		{"bad line", []string{"tally", bad}, 1, nil, "line 3"},
		{"unknown method", []string{"tally", "--method", "borda", csv}, 2, nil, "unknown method"},
		{"bad config", []string{"tally", "--config", `{"overvote":"guess"}`, csv}, 1, nil, "overvote"},
		{"config not json", []string{"tally", "--config", `{`, csv}, 2, nil, "not valid JSON"},
		{"missing file", []string{"tally", filepath.Join(t.TempDir(), "none.csv")}, 1, nil, "no such file"},
		{"no file", []string{"tally"}, 2, nil, "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, t.TempDir(), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tt.code, out, errOut)
			}
			for _, s := range tt.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errOut, tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, errOut)
			}
		})
	}
}

// The same count through the irv plugin built to wasm gives the same
// output as the native count.
func TestTallyPlugin(t *testing.T) {
	csv := writeFile(t, "mayor.csv", ballots)
	dir := filepath.Join("..", "..", "..", "plugins", "irv")
	wasmFile := writeFile(t, "irv.wasm", string(plugin.Build(t, dir)))
	var outs [2]sdk.TallyOutput
	for i, args := range [][]string{
		{"tally", "--json", csv},
		{"tally", "--json", "--plugin", wasmFile, "--manifest", filepath.Join(dir, "plugin.json"), csv},
	} {
		code, out, errOut := cli(t, t.TempDir(), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &outs[i]); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	a, _ := json.Marshal(outs[0])
	b, _ := json.Marshal(outs[1])
	if string(a) != string(b) || len(outs[0].Elected) != 1 || outs[0].Elected[0] != "Ben" {
		t.Fatalf("native and plugin differ:\n%s\n%s", a, b)
	}
}
