package voting_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/testkit"
)

func TestParseWeight(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "12.5": "25/2", "0.125": "1/8", "1/3": "1/3", "2/4": "1/2", " 7 ": "7", "0": "0",
		"1000000000000000000000": "1000000000000000000000",
	} {
		w, err := voting.ParseWeight(in)
		if err != nil || w.String() != want {
			t.Errorf("ParseWeight(%q) = %s, %v; want %s", in, w, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1e3", "+2", "1/0", "abc", "0x10", "1.2.3", "NaN", "Inf", "1 / 3", "1234567890123456789012345678901"} {
		if _, err := voting.ParseWeight(in); !errors.Is(err, voting.ErrInvalid) {
			t.Errorf("ParseWeight(%q) accepted", in)
		}
	}
}

type events struct {
	mu  sync.Mutex
	evs []audit.Event
}

func (e *events) AppendBatch(ctx context.Context, tx *store.Tx, evs []audit.Event) ([]audit.Record, error) {
	for _, ev := range evs {
		if _, err := e.Append(ctx, tx, ev); err != nil {
			return nil, err
		}
	}
	return make([]audit.Record, len(evs)), nil
}

func (e *events) Append(_ context.Context, tx *store.Tx, ev audit.Event) (audit.Record, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
	return audit.Record{}, nil
}

type userStub struct {
	bun.BaseModel `bun:"table:users"`
	store.Owned
	ID         string    `bun:"id,pk"`
	EmailIndex []byte    `bun:"email_index"`
	Email      []byte    `bun:"email"`
	Status     string    `bun:"status"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

func setup(t *testing.T, db *store.DB) (a, b, ua, ub string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for i, id := range []string{"a0000000-0000-7000-8000-000000000000", "b0000000-0000-7000-8000-000000000000"} {
		tn := &tenancy.Tenant{ID: id, Slug: fmt.Sprintf("t%d", i), Name: "T", Status: tenancy.Active, CreatedAt: now, UpdatedAt: now}
		if err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewInsert().Model(tn).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sc, _ := db.Scoped(id)
		user := &userStub{ID: fmt.Sprintf("user-%d", i), EmailIndex: []byte{byte(i)}, Email: []byte{1}, Status: "active", CreatedAt: now, UpdatedAt: now}
		if err := sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.Insert(ctx, user) }); err != nil {
			t.Fatal(err)
		}
	}
	return "a0000000-0000-7000-8000-000000000000", "b0000000-0000-7000-8000-000000000000", "user-0", "user-1"
}

func TestUnits(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b, ua, ub := setup(t, db)
		rec := &events{}
		units := voting.NewUnits(db, rec, nil)
		third, _ := voting.ParseWeight("1/3")
		half, _ := voting.ParseWeight("0.5")
		u1, err := units.Create(ctx, a, "user:admin", "  Flat   1A ", third)
		if err != nil {
			t.Fatal(err)
		}
		u2, err := units.Create(ctx, a, "user:admin", "Flat 2B", half)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := units.Create(ctx, a, "user:admin", "Flat 1A", third); !errors.Is(err, voting.ErrExists) {
			t.Fatalf("duplicate label: %v", err)
		}
		if _, err := units.Create(ctx, a, "user:admin", "Flat\x07", third); !errors.Is(err, voting.ErrInvalid) {
			t.Fatalf("control character: %v", err)
		}
		list, err := units.List(ctx, a)
		if err != nil || len(list) != 2 || list[0].Label != "Flat 1A" || list[0].Weight.String() != "1/3" || list[1].Weight.String() != "1/2" {
			t.Fatalf("list = %+v, %v", list, err)
		}
		// One owner of two units votes once for each.
		for _, id := range []string{u1.ID, u2.ID} {
			if err := units.AddOwner(ctx, a, "user:admin", id, ua); err != nil {
				t.Fatal(err)
			}
		}
		if err := units.AddOwner(ctx, a, "user:admin", u1.ID, ua); err != nil {
			t.Fatalf("adding an owner again: %v", err)
		}
		mine, err := units.UnitsOf(ctx, a, ua)
		if err != nil || len(mine) != 2 {
			t.Fatalf("units of owner: %+v %v", mine, err)
		}
		// Tenant B sees none of it and cannot reach it.
		if l, err := units.List(ctx, b); err != nil || len(l) != 0 {
			t.Fatalf("tenant B lists %v %v", l, err)
		}
		if err := units.AddOwner(ctx, b, "user:x", u1.ID, ub); !errors.Is(err, voting.ErrNotFound) {
			t.Fatalf("B adding to A's unit: %v", err)
		}
		if err := units.Update(ctx, b, "user:x", u1.ID, "Taken", third); !errors.Is(err, voting.ErrNotFound) {
			t.Fatalf("B updating A's unit: %v", err)
		}
		if err := units.Delete(ctx, b, "user:x", u1.ID); !errors.Is(err, voting.ErrNotFound) {
			t.Fatalf("B deleting A's unit: %v", err)
		}
		bu, err := units.Create(ctx, b, "user:x", "B1", third)
		if err != nil {
			t.Fatal(err)
		}
		if err := units.AddOwner(ctx, b, "user:x", bu.ID, ua); err == nil {
			t.Fatal("A's user made owner of B's unit")
		}
		if mine, err := units.UnitsOf(ctx, b, ua); err != nil || len(mine) != 0 {
			t.Fatalf("B's units of A's user: %v %v", mine, err)
		}
		// Update, remove owner, delete.
		if err := units.Update(ctx, a, "user:admin", u1.ID, "Flat 1A", half); err != nil {
			t.Fatal(err)
		}
		if err := units.RemoveOwner(ctx, a, "user:admin", u2.ID, ua); err != nil {
			t.Fatal(err)
		}
		if err := units.Delete(ctx, a, "user:admin", u1.ID); err != nil {
			t.Fatal(err)
		}
		owners, err := units.Owners(ctx, a)
		if err != nil || len(owners) != 0 {
			t.Fatalf("owners after removal: %v %v", owners, err)
		}
		if len(rec.evs) < 7 {
			t.Fatalf("only %d audit events", len(rec.evs))
		}
	})
}

// FuzzParseWeight: a weight parses to a non-negative rational whose
// canonical form parses back to itself, or is refused as ErrInvalid.
func FuzzParseWeight(f *testing.F) {
	for _, s := range []string{"1", "12.5", "1/3", "0x10", "-1", "1e9", "00012.5000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := voting.ParseWeight(s)
		if err != nil {
			if !errors.Is(err, voting.ErrInvalid) {
				t.Fatalf("error outside ErrInvalid: %v", err)
			}
			return
		}
		if w.Rat().Sign() < 0 {
			t.Fatalf("negative weight from %q", s)
		}
		back, err := voting.ParseWeight(w.String())
		if err != nil || back.String() != w.String() {
			t.Fatalf("%q -> %s -> %v, %v", s, w, back, err)
		}
	})
}
