package voting_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting"
)

func TestParseUnitsCSV(t *testing.T) {
	in := "Owner_Name,unit,weight,owner_email\n" +
		"Ada,Flat 1,1/3,ADA@example.org\n" +
		"Bob,Flat 1,1/3,bob@example.org\n" +
		",Flat 2,12.5,\n" +
		"Eve,Flat 3,-1,eve@example.org\n" +
		"Cat,Flat 1,1/2,cat@example.org\n" +
		"Dan,Flat 4,1,not-an-address\n" +
		"\n"
	rows, problems, err := voting.ParseUnitsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s=%s%v", r.Label, r.Weight, r.Owners))
	}
	want := "Flat 1=1/3[{ada@example.org Ada} {bob@example.org Bob}];Flat 2=25/2[]"
	if strings.Join(got, ";") != want {
		t.Errorf("rows = %q, want %q", strings.Join(got, ";"), want)
	}
	if len(problems) != 3 {
		t.Errorf("problems = %q", problems)
	}
	for name, in := range map[string]string{
		"no header": "",
		"no weight": "unit,owner_email\nA,a@b.example\n",
		"not csv":   "unit,weight\n\"A,1\n",
		"too large": "unit,weight\n" + strings.Repeat("x", voting.MaxUnitBytes),
		"too many":  "unit,weight\n" + strings.Repeat("A,1\n", voting.MaxUnitRows+1),
	} {
		if _, _, err := voting.ParseUnitsCSV(strings.NewReader(in)); !errors.Is(err, voting.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWriteUnitsCSVRoundTrip(t *testing.T) {
	third, _ := voting.ParseWeight("1/3")
	units := []voting.Unit{{ID: "u1", Label: "Flat 1", Weight: third}, {ID: "u2", Label: "=HYPERLINK(\"x\")", Weight: voting.OneWeight()}}
	owners := map[string][]voting.Owner{"u1": {{Email: "ada@example.org", Name: "Ada"}, {Email: "bob@example.org", Name: "+Bob"}}}
	var buf bytes.Buffer
	if err := voting.WriteUnitsCSV(&buf, units, owners); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `'=HYPERLINK`) || !strings.Contains(out, `'+Bob`) {
		t.Fatalf("formula not defused:\n%s", out)
	}
	rows, problems, err := voting.ParseUnitsCSV(strings.NewReader(out))
	if err != nil || len(problems) != 0 || len(rows) != 2 || len(rows[0].Owners) != 2 || rows[0].Weight.String() != "1/3" {
		t.Fatalf("round trip: %+v %q %v", rows, problems, err)
	}
}

func FuzzParseUnitsCSV(f *testing.F) {
	f.Add("unit,weight,owner_email,owner_name\nFlat 1,1/3,a@b.example,A\n")
	f.Add("weight,unit\n\"1\",\"\"\"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, _, err := voting.ParseUnitsCSV(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, voting.ErrInvalid) {
				t.Fatalf("error outside ErrInvalid: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Label == "" || seen[r.Label] || r.Weight.Rat().Sign() < 0 {
				t.Fatalf("bad row %+v", r)
			}
			seen[r.Label] = true
		}
	})
}
