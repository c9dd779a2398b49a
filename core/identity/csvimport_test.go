package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/identity"
)

func TestParseInvitees(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		want     []string // "email|name|role"
		problems int
		err      bool
	}{
		{name: "no header", in: "ada@example.org,Ada Lovelace\nbob@example.org,Bob\n", want: []string{"ada@example.org|Ada Lovelace|", "bob@example.org|Bob|"}},
		{name: "header any order with role", in: "Name,Role,E-mail\nAda,board,ADA@example.org\n", want: []string{"ada@example.org|Ada|board"}},
		{name: "bom and crlf", in: "\ufeffemail,name\r\nada@example.org,Ada\r\n", want: []string{"ada@example.org|Ada|"}},
		{name: "blank lines skipped", in: "ada@example.org,Ada\n\n\nbob@example.org,\n", want: []string{"ada@example.org|Ada|", "bob@example.org||"}},
		{name: "bad address reported", in: "not-an-address,X\nada@example.org,Ada\n", want: []string{"ada@example.org|Ada|"}, problems: 1},
		{name: "display-name address refused", in: "\"Ada <ada@example.org>\",Ada\n", problems: 1},
		{name: "duplicate reported", in: "ada@example.org,A\nAda@Example.org,B\n", want: []string{"ada@example.org|A|"}, problems: 1},
		{name: "control characters in name", in: "ada@example.org,\"Ada\x07\"\n", problems: 1},
		{name: "right-to-left override in name", in: "ada@example.org,Ada\u202egnp.exe\n", problems: 1},
		{name: "bad role", in: "email,name,role\nada@example.org,Ada,Owner; DROP TABLE users\n", problems: 1},
		{name: "sql and script strings stay text", in: "ada@example.org,\"Robert'); DROP TABLE users;--<script>\"\n", want: []string{"ada@example.org|Robert'); DROP TABLE users;--<script>|"}},
		{name: "header without email", in: "name,role\nAda,member\n", err: true},
		{name: "not csv", in: "ada@example.org,\"unterminated\n", err: true},
		{name: "too large", in: strings.Repeat("x", identity.MaxImportBytes+10), err: true},
		{name: "too many rows", in: strings.Repeat("a@example.org,A\n", identity.MaxImportRows+1), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems, err := identity.ParseInvitees(strings.NewReader(tc.in))
			if tc.err {
				if !errors.Is(err, identity.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var flat []string
			for _, g := range got {
				flat = append(flat, g.Email+"|"+g.Name+"|"+g.Role)
			}
			if strings.Join(flat, ";") != strings.Join(tc.want, ";") {
				t.Errorf("invitees = %q, want %q", flat, tc.want)
			}
			if len(problems) != tc.problems {
				t.Errorf("problems = %q, want %d", problems, tc.problems)
			}
		})
	}
}

// FuzzParseInvitees: any input gives rows with plain, normalised
// addresses and clean names, or a clear error; never a panic.
func FuzzParseInvitees(f *testing.F) {
	f.Add("email,name,role\nada@example.org,Ada,member\n")
	f.Add("\ufeffa@b.example,\"x,y\"\n")
	f.Add("\"\"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, _, err := identity.ParseInvitees(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, identity.ErrInvalid) {
				t.Fatalf("error outside ErrInvalid: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Email == "" || r.Email != strings.ToLower(r.Email) || strings.ContainsAny(r.Email, " <>\r\n") || seen[r.Email] {
				t.Fatalf("bad row %+v", r)
			}
			seen[r.Email] = true
			if strings.ContainsAny(r.Name, "\x00\r\n\u202e") {
				t.Fatalf("name with control characters: %q", r.Name)
			}
		}
	})
}
