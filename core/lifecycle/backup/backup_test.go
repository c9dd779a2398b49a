package backup

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/testkit"
)

// testSealer stands in for the keyring: it is enough for the audit log to
// store sealed personal data as bytes.
type testSealer struct{}

func (testSealer) Seal(_ context.Context, scope string, p, _ []byte) ([]byte, error) {
	return append([]byte("sealed:"+scope+":"), p...), nil
}

func (testSealer) Open(_ context.Context, scope string, c, _ []byte) ([]byte, error) {
	return bytes.TrimPrefix(c, []byte("sealed:"+scope+":")), nil
}

// engines names the engine of each side of a round trip.
type engine string

func config(t *testing.T, e engine) store.Config {
	t.Helper()
	if e == "postgres" {
		return testkit.PostgresConfig(t)
	}
	return testkit.SQLiteConfig(t)
}

// fill writes rows into a dozen real tables, covering every column type,
// NULLs, empty and binary bytes, awkward text and enough units for several
// insert batches, plus real audit chains with a signed checkpoint.
func fill(t *testing.T, db *store.DB, units int) {
	t.Helper()
	ctx := context.Background()
	ts := time.Date(2026, 11, 23, 12, 34, 56, 123456000, time.UTC)
	later := ts.Add(36 * time.Hour)
	module := make([]byte, 250<<10) // incompressible: several segments
	if _, err := rand.Read(module); err != nil {
		t.Fatal(err)
	}
	err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		stmts := []struct {
			q    string
			args []any
		}{
			{"INSERT INTO tenants (id, slug, name, host, status, settings, created_at, updated_at, deleted_at, key_destroyed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"t-one", "one", "Rue de l'Église 12 ? ü € \"q\"\nline", nil, "active", `{"a": 1}`, ts, ts, nil, nil}},
			{"INSERT INTO tenants (id, slug, name, host, status, settings, created_at, updated_at, deleted_at, key_destroyed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"t-two", "two", "Two", "two.example", "deleted", `{}`, ts, later, later, later}},
			{"INSERT INTO tenant_keys (tenant_id, aead_keyset, prf_keyset, created_at, rotated_at, destroyed_at) VALUES (?, ?, ?, ?, ?, ?)",
				[]any{"t-one", []byte{0, 1, 2, 255, 0}, []byte{}, ts, nil, nil}},
			{"INSERT INTO tenant_keys (tenant_id, aead_keyset, prf_keyset, created_at, rotated_at, destroyed_at) VALUES (?, ?, ?, ?, ?, ?)",
				[]any{"t-two", nil, nil, ts, later, later}},
			{"INSERT INTO operators (id, email_index, email, password_hash, created_at, updated_at, last_sign_in_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"op-1", []byte("idx1"), []byte("mail1"), "$argon2id$x", ts, ts, nil, true}},
			{"INSERT INTO operators (id, email_index, email, password_hash, created_at, updated_at, last_sign_in_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"op-2", []byte("idx2"), []byte("mail2"), "$argon2id$y", ts, ts, later, false}},
			{"INSERT INTO operator_sessions (id, operator_id, csrf_token, created_at, last_seen_at, expires_at, client) VALUES (?, ?, ?, ?, ?, ?, ?)",
				[]any{"s-1", "op-1", "csrf", ts, ts, later, nil}},
			{"INSERT INTO plugins (name, version, sha256, manifest, module, signed_by, owner_tenant_id, installed_at, installed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"stv", "1.0.0", "abc", `{"name":"stv"}`, module, nil, nil, ts, "operator:cli"}},
			{"INSERT INTO users (tenant_id, id, email_index, email, name, password_hash, status, created_at, updated_at, password_changed_at, last_sign_in_at, sso_subject_index, phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"t-one", "u-1", []byte("ei1"), []byte("e1"), nil, "hash", "active", ts, ts, nil, later, nil, []byte{}}},
			{"INSERT INTO users (tenant_id, id, email_index, email, name, password_hash, status, created_at, updated_at, password_changed_at, last_sign_in_at, sso_subject_index, phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"t-one", "u-2", []byte("ei2"), []byte("e2"), []byte("n2"), nil, "invited", ts, ts, ts, nil, []byte("sso"), []byte("+41")}},
			{"INSERT INTO user_sessions (tenant_id, id, user_id, csrf_token, stage, created_at, last_seen_at, expires_at, idle_seconds, auth_at, mfa_at, method, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				[]any{"t-one", "us-1", "u-1", "c", "full", ts, ts, later, 1800, ts, nil, "password", []byte("ua")}},
			{"INSERT INTO identity_settings (tenant_id, settings, updated_at, updated_by) VALUES (?, ?, ?, ?)",
				[]any{"t-one", `{"min_password": 12}`, ts, "user:u-1"}},
			{"INSERT INTO mfa_totp (tenant_id, user_id, id, secret, confirmed, last_step, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				[]any{"t-one", "u-1", "totp-1", []byte("secret"), true, int64(1) << 40, ts}},
		}
		for i := 0; i < units; i++ {
			stmts = append(stmts, struct {
				q    string
				args []any
			}{"INSERT INTO units (tenant_id, id, label, weight, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
				[]any{"t-one", fmt.Sprintf("unit-%04d", i), fmt.Sprintf("Flat %d", i), "1/3", ts, ts}})
		}
		stmts = append(stmts, struct {
			q    string
			args []any
		}{"INSERT INTO unit_owners (tenant_id, unit_id, user_id, since) VALUES (?, ?, ?, ?)", []any{"t-one", "unit-0000", "u-1", ts}})
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(ctx, db, testSealer{}, audit.NewSigner(priv), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"t-one", "t-two"} {
		sc, err := db.Scoped(tenant)
		if err != nil {
			t.Fatal(err)
		}
		err = sc.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
			for i := 0; i < 3; i++ {
				if _, err := log.Append(ctx, tx, audit.Event{Actor: "system", Action: "test.event", Target: "tenant:" + tenant,
					Details: map[string]string{"i": fmt.Sprint(i)}, IP: "192.0.2.1"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
}

// dump reads every table of db in the backup's portable form.
func dump(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		tables, err := introspect(ctx, tx, db.Dialect())
		if err != nil {
			return err
		}
		for _, ts := range tables {
			// Compare by column name, whatever the physical order.
			var buf bytes.Buffer
			if err := exportTable(ctx, tx, db.Dialect(), sortedColumns(ts), newRowWriter(&buf)); err != nil {
				return err
			}
			out[ts.name] = buf.String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sums reads every table of m from db, in the manifest's column order,
// and returns the checksums.
func sums(t *testing.T, db *store.DB, m *Manifest) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.System().ReadTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		tables, err := introspect(ctx, tx, db.Dialect())
		if err != nil {
			return err
		}
		for _, ts := range tables {
			for _, tb := range m.Tables {
				if tb.Name == ts.name {
					ts.columns = tb.Columns
				}
			}
			rw := newRowWriter(io.Discard)
			if err := exportTable(ctx, tx, db.Dialect(), ts, rw); err != nil {
				return err
			}
			out[ts.name] = rw.sum()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedColumns(ts tableSchema) tableSchema {
	cols := append([]Column(nil), ts.columns...)
	for i := range cols {
		for j := i + 1; j < len(cols); j++ {
			if cols[j].Name < cols[i].Name {
				cols[i], cols[j] = cols[j], cols[i]
			}
		}
	}
	ts.columns = cols
	return ts
}

func rowCount(t *testing.T, db *store.DB) int {
	t.Helper()
	n := 0
	for _, rows := range dump(t, db) {
		n += strings.Count(rows, "\n")
	}
	return n
}

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	tests := []struct{ from, to engine }{
		{"sqlite", "sqlite"},
		{"sqlite", "postgres"},
		{"postgres", "sqlite"},
		{"postgres", "postgres"},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			ctx := context.Background()
			src := testkit.OpenDB(t, config(t, tt.from))
			dst := testkit.OpenDB(t, config(t, tt.to))
			fill(t, src, 250)
			key := mustKey(t)
			var buf bytes.Buffer
			m, err := Create(ctx, src, &buf, key, CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Dialect != src.Dialect() || m.Format != FormatVersion || m.SchemaVersion == 0 {
				t.Fatalf("manifest %+v", m)
			}
			// The snapshot read (one statement on PostgreSQL) writes exactly
			// what a table-by-table read does.
			for table, sum := range sums(t, src, m) {
				for _, tb := range m.Tables {
					if tb.Name == table && tb.SHA256 != sum {
						t.Errorf("table %s: manifest checksum %s, direct read %s", table, tb.SHA256, sum)
					}
				}
			}
			got, err := Restore(ctx, dst, bytes.NewReader(buf.Bytes()), key)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Tables) != len(m.Tables) {
				t.Fatalf("restored manifest has %d tables, want %d", len(got.Tables), len(m.Tables))
			}
			want, have := dump(t, src), dump(t, dst)
			if len(want) != len(have) {
				t.Fatalf("%d tables restored, want %d", len(have), len(want))
			}
			nonEmpty := 0
			for name, rows := range want {
				if have[name] != rows {
					t.Errorf("table %s differs:\nsource: %s\nrestored: %s", name, rows, have[name])
				}
				if rows != "" {
					nonEmpty++
				}
			}
			if nonEmpty < 12 {
				t.Errorf("only %d tables hold rows: the test covers too little", nonEmpty)
			}
			// The restored copy is a working database: its audit chains verify.
			log, err := audit.New(ctx, dst, testSealer{}, nil, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := log.Verify(ctx, audit.VerifyOptions{})
			if err != nil || !rep.OK() || rep.Events != 6 || rep.Checkpoints == 0 {
				t.Fatalf("audit after restore: %+v %v", rep, err)
			}
		})
	}
}

// backupOf returns a filled SQLite database and an encrypted backup of it.
func backupOf(t *testing.T, key []byte, opts CreateOptions) (*store.DB, []byte) {
	t.Helper()
	src := testkit.OpenDB(t, testkit.SQLiteConfig(t))
	fill(t, src, 250)
	var buf bytes.Buffer
	if _, err := Create(context.Background(), src, &buf, key, opts); err != nil {
		t.Fatal(err)
	}
	return src, buf.Bytes()
}

func TestRestoreRefuses(t *testing.T) {
	key := mustKey(t)
	src, good := backupOf(t, key, CreateOptions{})
	_, newer := backupOf(t, key, CreateOptions{editManifest: func(m *Manifest) { m.SchemaVersion++ }})
	_, older := backupOf(t, key, CreateOptions{editManifest: func(m *Manifest) { m.SchemaVersion-- }})
	_, badSum := backupOf(t, key, CreateOptions{editManifest: func(m *Manifest) { m.Tables[0].Rows++ }})
	if len(good) < headerSize+3*(segmentSize+16) {
		t.Fatalf("backup of %d bytes has too few segments for the test", len(good))
	}
	seg := segmentSize + 16
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	swapped := bytes.Clone(good)
	copy(swapped[headerSize:], good[headerSize+seg:headerSize+2*seg])
	copy(swapped[headerSize+seg:], good[headerSize:headerSize+seg])
	tests := []struct {
		name string
		file []byte
		key  []byte
		into *store.DB
		want error
		msg  string
	}{
		{"cut in the middle of a segment", good[:len(good)-100], key, nil, ErrCorrupt, "truncated"},
		{"cut at a segment boundary", good[:headerSize+2*seg], key, nil, ErrCorrupt, "truncated"},
		{"cut after the header", good[:headerSize], key, nil, ErrCorrupt, "final segment missing"},
		{"cut inside the header", good[:headerSize-3], key, nil, ErrCorrupt, "header"},
		{"extra bytes after the final segment", append(bytes.Clone(good), 0), key, nil, ErrCorrupt, "tampered"},
		{"flipped byte in the first segment", flip(headerSize + 10), key, nil, ErrCorrupt, "segment 0"},
		{"flipped byte in a middle segment", flip(headerSize + seg + 500), key, nil, ErrCorrupt, "segment 1"},
		{"flipped byte in the last segment", flip(len(good) - 1), key, nil, ErrCorrupt, "tampered"},
		{"flipped byte in the nonce prefix", flip(len(magic) + 6), key, nil, ErrWrongKey, "wrong backup key"},
		{"reordered segments", swapped, key, nil, ErrCorrupt, "segment 0"},
		{"wrong key", good, mustKey(t), nil, ErrWrongKey, "wrong backup key"},
		{"not a backup", []byte("hello, this is not a backup at all, really"), key, nil, ErrNotBackup, "not a Plenum backup"},
		{"newer schema", newer, key, nil, ErrSchemaMismatch, "newer than the target"},
		{"older schema", older, key, nil, ErrSchemaMismatch, "older than the target"},
		{"manifest disagrees with the rows", badSum, key, nil, ErrCorrupt, "the manifest says"},
		{"non-empty target", good, key, src, ErrNotEmpty, "not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			into := tt.into
			if into == nil {
				into = testkit.OpenDB(t, testkit.SQLiteConfig(t))
			}
			before := rowCount(t, into)
			_, err := Restore(context.Background(), into, bytes.NewReader(tt.file), tt.key)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.msg)
			}
			if after := rowCount(t, into); after != before {
				t.Fatalf("target went from %d to %d rows", before, after)
			}
		})
	}
}

// An interrupted restore, whether by an error or a cancelled context,
// leaves the target without a single row.
func TestInterruptedRestore(t *testing.T) {
	key := mustKey(t)
	_, file := backupOf(t, key, CreateOptions{})
	errStop := errors.New("power cut")
	for _, e := range []engine{"sqlite", "postgres"} {
		tests := []struct {
			name string
			opts func(cancel context.CancelFunc) restoreOptions
			want error
		}{
			{"hook fails after 200 rows", func(context.CancelFunc) restoreOptions {
				return restoreOptions{afterRows: func(n int64) error {
					if n >= 200 {
						return errStop
					}
					return nil
				}}
			}, errStop},
			{"context cancelled after 100 rows", func(cancel context.CancelFunc) restoreOptions {
				return restoreOptions{afterRows: func(n int64) error {
					if n >= 100 {
						cancel()
					}
					return nil
				}}
			}, context.Canceled},
		}
		for _, tt := range tests {
			t.Run(string(e)+"/"+tt.name, func(t *testing.T) {
				dst := testkit.OpenDB(t, config(t, e))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				calls := 0
				opts := tt.opts(cancel)
				hook := opts.afterRows
				opts.afterRows = func(n int64) error { calls++; return hook(n) }
				_, err := restore(ctx, dst, bytes.NewReader(file), key, opts)
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if calls == 0 {
					t.Fatal("the restore never reached the hook")
				}
				if n := rowCount(t, dst); n != 0 {
					t.Fatalf("interrupted restore left %d rows", n)
				}
				// And the target still takes the backup afterwards.
				if _, err := Restore(context.Background(), dst, bytes.NewReader(file), key); err != nil {
					t.Fatalf("restore after interruption: %v", err)
				}
			})
		}
	}
}

func TestVerify(t *testing.T) {
	for _, e := range []engine{"sqlite", "postgres"} {
		t.Run(string(e), func(t *testing.T) {
			key := mustKey(t)
			src := testkit.OpenDB(t, config(t, e))
			fill(t, src, 10)
			var buf bytes.Buffer
			m, err := Create(context.Background(), src, &buf, key, CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(context.Background(), bytes.NewReader(buf.Bytes()), key)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.Tables != len(m.Tables) || rep.Audit == nil || rep.Audit.Events != 6 {
				t.Fatalf("report %+v problems %v audit %+v", rep, rep.Problems, rep.Audit)
			}
			var rows int64
			for _, tb := range m.Tables {
				rows += tb.Rows
			}
			if rep.Rows != rows {
				t.Fatalf("verified %d rows, manifest has %d", rep.Rows, rows)
			}
			b := buf.Bytes()
			b[len(b)/2] ^= 0x80
			if _, err := Verify(context.Background(), bytes.NewReader(b), key); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("tampered backup verified: %v", err)
			}
		})
	}
}

func TestFKOrder(t *testing.T) {
	tests := []struct {
		name   string
		tables []tableSchema
		want   string
		err    string
	}{
		{"independent by name", []tableSchema{{name: "b"}, {name: "a"}}, "a b", ""},
		{"parents first", []tableSchema{{name: "a", refs: []string{"c"}}, {name: "b"}, {name: "c", refs: []string{"b"}}}, "b c a", ""},
		{"self reference", []tableSchema{{name: "a", refs: []string{"a"}}}, "a", ""},
		{"unknown table ignored", []tableSchema{{name: "a", refs: []string{"zz"}}}, "a", ""},
		{"cycle", []tableSchema{{name: "a", refs: []string{"b"}}, {name: "b", refs: []string{"a"}}}, "", "cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fkOrder(tt.tables)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ts := range got {
				names = append(names, ts.name)
			}
			if s := strings.Join(names, " "); s != tt.want {
				t.Fatalf("order %q, want %q", s, tt.want)
			}
		})
	}
}

func TestValues(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	tests := []struct {
		typ  string
		in   any
		want any
	}{
		{TypeInteger, int64(-7), int64(-7)},
		{TypeBoolean, int64(1), true},
		{TypeBoolean, false, false},
		{TypeBytes, []byte{0xff, 0}, "/wA="},
		{TypeTimestamp, ts, "2026-01-02T02:04:05.000000006Z"},
		{TypeTimestamp, "2026-01-02 03:04:05", "2026-01-02T03:04:05.000000000Z"},
		{TypeText, []byte("x"), "x"},
		{TypeJSON, `{"a":1}`, `{"a":1}`},
		{TypeText, nil, nil},
	}
	for _, tt := range tests {
		got, err := encodeValue(tt.typ, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("encodeValue(%s, %#v) = %#v, %v; want %#v", tt.typ, tt.in, got, err, tt.want)
		}
	}
	if _, err := encodeValue(TypeInteger, "seven"); err == nil {
		t.Error("a string in an integer column was accepted")
	}
}

// A backup taken while writers run is one snapshot: a writer that adds a
// unit and its owner in one transaction never leaves a backup with more of
// one than of the other.
func TestCreateIsOneSnapshot(t *testing.T) {
	for _, e := range []engine{"sqlite", "postgres"} {
		t.Run(string(e), func(t *testing.T) {
			db := testkit.OpenDB(t, config(t, e))
			fill(t, db, 1)
			key := mustKey(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				ts := time.Now().UTC()
				for i := 0; ; i++ {
					err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
						id := fmt.Sprintf("w-%06d", i)
						if _, err := tx.ExecContext(ctx, "INSERT INTO units (tenant_id, id, label, weight, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", "t-one", id, id, "1/1", ts, ts); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "INSERT INTO unit_owners (tenant_id, unit_id, user_id, since) VALUES (?, ?, ?, ?)", "t-one", id, "u-1", ts)
						return err
					})
					if ctx.Err() != nil {
						done <- nil
						return
					}
					if err != nil {
						done <- err
						return
					}
				}
			}()
			for i := 0; i < 5; i++ {
				m, err := Create(context.Background(), db, io.Discard, key, CreateOptions{})
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				rows := map[string]int64{}
				for _, tb := range m.Tables {
					rows[tb.Name] = tb.Rows
				}
				if rows["units"] != rows["unit_owners"] {
					t.Errorf("backup %d holds %d units and %d owners", i, rows["units"], rows["unit_owners"])
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("writer: %v", err)
			}
		})
	}
}
