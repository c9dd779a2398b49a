package voting_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/core/voting"
)

// FuzzRules feeds arbitrary rule documents (as a stored ballot or a form
// could produce) and choices through Normalize and Choice.Check: they
// refuse with ErrInvalid or accept, never panic, and what they accept
// describes and hashes.
func FuzzRules(f *testing.F) {
	f.Add(`{"kind":"motion","threshold":{"num":2,"den":3},"opens_at":"2026-05-01T09:00:00Z","closes_at":"2026-05-02T09:00:00Z"}`, "yes")
	f.Add(`{"kind":"election","method":"irv","seats":1,"options":[{"label":"Ann"},{"label":"Ben"},{"label":"Cy"}],"opens_at":"2026-05-01T09:00:00Z","closes_at":"2026-05-02T09:00:00Z"}`, "c2,c1")
	f.Add(`{"kind":"election","method":"plurality","seats":2,"max_marks":9,"options":[{"id":"a","label":"A"},{"id":"a","label":"B"}]}`, "a,a")
	f.Fuzz(func(t *testing.T, doc, choice string) {
		var r voting.Rules
		if json.Unmarshal([]byte(doc), &r) != nil {
			return
		}
		if err := r.Normalize(); err != nil {
			if !errors.Is(err, voting.ErrInvalid) {
				t.Fatalf("Normalize: %v", err)
			}
			return
		}
		if len(r.Describe()) == 0 || len(r.Hash()) != 64 {
			t.Fatal("accepted rules without a description or hash")
		}
		c := voting.Choice{Choice: choice, Ranking: strings.Split(choice, ",")}
		if err := c.Check(&r); err != nil && !errors.Is(err, voting.ErrInvalid) {
			t.Fatalf("Check: %v", err)
		}
		if c.Check(&r) == nil && r.Kind == voting.Election && len(c.Ranking) > r.Marks() {
			t.Fatalf("accepted %d marks, at most %d", len(c.Ranking), r.Marks())
		}
	})
}
