package identity_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

type events struct {
	mu  sync.Mutex
	evs []identity.Event
}

func (e *events) Record(_ context.Context, tx *store.Tx, ev identity.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if tx.TenantID() != "platform" {
		return errors.New("operator event outside the platform chain")
	}
	e.evs = append(e.evs, ev)
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const pw = "a long enough operator password"

func TestOperators(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, _ := crypto.NewMasterKey()
		keys, err := crypto.NewKeyring(ctx, db, m)
		if err != nil {
			t.Fatal(err)
		}
		rec := &events{}
		clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
		ops := identity.NewOperators(db, keys, rec, identity.OperatorOptions{
			Now: clk.now, Hasher: identity.NewPasswordHasher(identity.ArgonParams{Memory: 64, Time: 1, Threads: 1}),
		})
		op, err := ops.Create(ctx, "Ops@Example.org", pw, "system")
		if err != nil {
			t.Fatal(err)
		}
		if op.Email != "ops@example.org" {
			t.Fatalf("email %q", op.Email)
		}
		for _, c := range []struct{ email, pw string }{
			{"OPS@example.org", pw}, {"not an address", pw}, {"x@example.org", "too short"},
			{"Name <x@example.org>", pw},
		} {
			if _, err := ops.Create(ctx, c.email, c.pw, "system"); err == nil {
				t.Errorf("Create(%q) succeeded", c.email)
			}
		}
		if n, _ := ops.Count(ctx); n != 1 {
			t.Fatalf("Count = %d", n)
		}
		// The e-mail address is not stored in clear.
		err = db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var raw []byte
			if err := tx.QueryRowContext(ctx, "SELECT email FROM operators").Scan(&raw); err != nil {
				return err
			}
			if bytes.Contains(raw, []byte("ops@")) {
				t.Error("e-mail stored in clear")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		meta := identity.RequestMeta{IP: "192.0.2.1", UserAgent: "test", RequestID: "r1"}
		for _, c := range []struct{ email, pw string }{
			{"ops@example.org", "wrong password entirely"}, {"nobody@example.org", pw}, {"", ""}, {"ops@example.org", ""},
		} {
			if _, _, err := ops.SignIn(ctx, c.email, c.pw, meta); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("SignIn(%q) = %v, want ErrInvalidCredentials", c.email, err)
			}
		}
		tok, sess, err := ops.SignIn(ctx, "OPS@example.org ", pw, meta)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Email != "ops@example.org" || sess.CSRFToken == "" || strings.Contains(sess.ID, tok) {
			t.Fatalf("session %+v", sess)
		}
		got, err := ops.Session(ctx, tok)
		if err != nil || got.OperatorID != op.ID || got.CSRFToken != sess.CSRFToken {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		if _, err := ops.Session(ctx, tok+"x"); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("forged token: %v", err)
		}
		// Idle timeout, sliding with use.
		clk.add(20 * time.Minute)
		if _, err := ops.Session(ctx, tok); err != nil {
			t.Fatalf("after 20 min: %v", err)
		}
		clk.add(20 * time.Minute)
		if _, err := ops.Session(ctx, tok); err != nil {
			t.Fatalf("20 min after last use: %v", err)
		}
		clk.add(31 * time.Minute)
		if _, err := ops.Session(ctx, tok); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("after 31 idle minutes: %v", err)
		}
		// Absolute timeout even when active.
		tok, _, err = ops.SignIn(ctx, "ops@example.org", pw, meta)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 25; i++ {
			clk.add(29 * time.Minute)
			_, err = ops.Session(ctx, tok)
			if err != nil {
				break
			}
		}
		if !errors.Is(err, identity.ErrNoSession) {
			t.Fatal("session outlived the absolute timeout")
		}
		// Sign-out ends the session.
		tok, _, _ = ops.SignIn(ctx, "ops@example.org", pw, meta)
		if err := ops.SignOut(ctx, tok, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := ops.Session(ctx, tok); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("after sign-out: %v", err)
		}
		// Audit: creation, failures, sign-ins and sign-out, no e-mail inside.
		var fails, oks int
		for _, ev := range rec.evs {
			if strings.Contains(ev.Target+ev.Actor, "@") || strings.Contains(strings.Join(mapValues(ev.Details), ""), "@") {
				t.Errorf("e-mail address in audit event %+v", ev)
			}
			if ev.Action == "operator.signin" {
				if ev.Outcome == "failure" {
					fails++
				} else {
					oks++
				}
			}
		}
		if fails != 4 || oks != 3 {
			t.Errorf("sign-in events: %d failures, %d successes; want 4, 3", fails, oks)
		}
	})
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
