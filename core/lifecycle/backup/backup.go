// Package backup writes and restores consistent, portable, encrypted
// logical snapshots of a whole Plenum database.
//
// A backup holds every table's rows as JSON Lines with typed values inside
// a gzip-compressed tar archive, together with a manifest (format and
// schema version, engine of origin, row counts and SHA-256 checksums). The
// archive is encrypted with AES-256-GCM in authenticated segments, so a
// truncated, reordered or altered file is refused. The same backup
// restores into SQLite or PostgreSQL, whichever engine made it.
//
// See README.md in this directory for the file format.
package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// FormatVersion is the version of the archive layout and manifest this
// package writes and reads.
const FormatVersion = 1

// Names of the entries of the archive.
const (
	manifestName = "manifest.json"
	tablePrefix  = "tables/"
	tableSuffix  = ".jsonl"
)

// timeLayout is RFC 3339 in UTC with nanoseconds, fixed width so that the
// same instant is always the same text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// insertBatch is how many rows one INSERT statement carries on restore,
// and insertBytes roughly how many bytes of text and binary values: a
// batch ends at whichever comes first.
const (
	insertBatch = 100
	insertBytes = 4 << 20
)

// ErrSchemaMismatch is returned when a backup's schema version differs
// from the target database's.
var ErrSchemaMismatch = errors.New("backup: schema version differs")

// ErrNotEmpty is returned when the restore target already holds rows.
var ErrNotEmpty = errors.New("backup: target database is not empty")

// Manifest describes a backup. It is the first entry of the archive.
type Manifest struct {
	// Format is FormatVersion of the writer.
	Format int `json:"format"`
	// SchemaVersion is the highest migration applied to the database
	// that was backed up.
	SchemaVersion int `json:"schema_version"`
	// Dialect is the engine the backup was taken from.
	Dialect store.Dialect `json:"dialect"`
	// CreatedAt is when the snapshot was taken.
	CreatedAt time.Time `json:"created_at"`
	// Tables lists every table of the backup, by name.
	Tables []Table `json:"tables"`
}

// Table describes one table of a backup.
type Table struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
	// Rows is the number of lines of the table's JSON Lines file.
	Rows int64 `json:"rows"`
	// SHA256 is the hex SHA-256 of the table's JSON Lines file.
	SHA256 string `json:"sha256"`
}

// CreateOptions tune Create.
type CreateOptions struct {
	// Now is the clock for the manifest's CreatedAt; default time.Now.
	Now func() time.Time

	// editManifest lets tests alter the manifest before it is written.
	editManifest func(*Manifest)
}

// Create writes an encrypted backup of the whole database to w under key
// (KeySize bytes) and returns its manifest.
//
// # Notes
//
// Every table is read inside one read-only system transaction, and the
// backup is one consistent snapshot even while writers run. On SQLite the
// transaction is the snapshot (WAL). On PostgreSQL the store runs its
// transactions at READ COMMITTED and offers no way to ask for REPEATABLE
// READ (its scope settings are the first statement, after which the level
// cannot change), so every table is read by one single statement, which
// sees one snapshot (see snapshotPostgres).
//
// The rows are spooled to a private temporary directory before they are
// archived, so that the manifest can come first; the spool is removed
// before Create returns.
func Create(ctx context.Context, db *store.DB, w io.Writer, key []byte, opts CreateOptions) (*Manifest, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if _, _, err := subkeys(key); err != nil {
		return nil, fmt.Errorf("create backup: %w", err)
	}
	cur, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("create backup: %w", err)
	}
	if cur == 0 {
		return nil, errors.New("create backup: the database is not migrated")
	}
	dir, err := os.MkdirTemp("", "plenum-backup-*")
	if err != nil {
		return nil, fmt.Errorf("create backup: spool directory: %w", err)
	}
	defer os.RemoveAll(dir)

	m := &Manifest{Format: FormatVersion, SchemaVersion: cur, Dialect: db.Dialect()}
	err = db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		m.CreatedAt = opts.Now().UTC()
		tables, err := introspect(ctx, tx, db.Dialect())
		if err != nil {
			return err
		}
		files := make([]*os.File, len(tables))
		bufs := make([]*bufio.Writer, len(tables))
		outs := make([]*rowWriter, len(tables))
		defer func() {
			for _, f := range files {
				if f != nil {
					_ = f.Close()
				}
			}
		}()
		for i, ts := range tables {
			if files[i], err = os.Create(filepath.Join(dir, fmt.Sprintf("%d", i))); err != nil {
				return fmt.Errorf("spool %s: %w", ts.name, err)
			}
			bufs[i] = bufio.NewWriter(files[i])
			outs[i] = newRowWriter(bufs[i])
		}
		if db.Dialect() == store.Postgres {
			err = snapshotPostgres(ctx, tx, tables, outs)
		} else {
			for i, ts := range tables {
				if err = exportTable(ctx, tx, db.Dialect(), ts, outs[i]); err != nil {
					break
				}
			}
		}
		if err != nil {
			return err
		}
		for i, ts := range tables {
			err := bufs[i].Flush()
			if cerr := files[i].Close(); err == nil {
				err = cerr
			}
			files[i] = nil
			if err != nil {
				return fmt.Errorf("spool %s: %w", ts.name, err)
			}
			m.Tables = append(m.Tables, Table{Name: ts.name, Columns: ts.columns, Rows: outs[i].rows, SHA256: outs[i].sum()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create backup: %w", err)
	}
	if opts.editManifest != nil {
		opts.editManifest(m)
	}
	if err := writeArchive(w, key, m, dir); err != nil {
		return nil, fmt.Errorf("create backup: %w", err)
	}
	return m, nil
}

func writeArchive(w io.Writer, key []byte, m *Manifest, dir string) error {
	ew, err := newEncryptWriter(w, key)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(ew)
	tw := tar.NewWriter(zw)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	hdr := &tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(mb)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archive manifest: %w", err)
	}
	if _, err := tw.Write(mb); err != nil {
		return fmt.Errorf("archive manifest: %w", err)
	}
	for i, t := range m.Tables {
		if err := archiveFile(tw, filepath.Join(dir, fmt.Sprintf("%d", i)), tablePrefix+t.Name+tableSuffix, m.CreatedAt); err != nil {
			return fmt.Errorf("archive %s: %w", t.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress archive: %w", err)
	}
	return ew.Close()
}

func archiveFile(tw *tar.Writer, path, name string, mod time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// rowWriter writes rows as JSON Lines and keeps their count and SHA-256.
type rowWriter struct {
	w    io.Writer
	h    hash.Hash
	rows int64
	line bytes.Buffer
	enc  *json.Encoder
	out  []any
}

func newRowWriter(w io.Writer) *rowWriter {
	rw := &rowWriter{w: w, h: sha256.New()}
	rw.enc = json.NewEncoder(&rw.line)
	rw.enc.SetEscapeHTML(false)
	return rw
}

// write encodes one row of driver values, in the order of cols.
func (rw *rowWriter) write(table string, cols []Column, vals []any) error {
	rw.out = rw.out[:0]
	for i, c := range cols {
		v, err := encodeValue(c.Type, vals[i])
		if err != nil {
			return fmt.Errorf("read %s.%s: %w", table, c.Name, err)
		}
		rw.out = append(rw.out, v)
	}
	rw.line.Reset()
	if err := rw.enc.Encode(rw.out); err != nil { // Encode ends the line with \n
		return fmt.Errorf("encode %s: %w", table, err)
	}
	rw.h.Write(rw.line.Bytes())
	if _, err := rw.w.Write(rw.line.Bytes()); err != nil {
		return fmt.Errorf("spool %s: %w", table, err)
	}
	rw.rows++
	return nil
}

func (rw *rowWriter) sum() string { return hex.EncodeToString(rw.h.Sum(nil)) }

// orderBy lists the sort keys of ts: its primary key, or every column,
// text compared byte by byte on both engines.
func orderBy(d store.Dialect, ts tableSchema) string {
	types := make(map[string]string, len(ts.columns))
	for _, c := range ts.columns {
		types[c.Name] = c.Type
	}
	order := ts.pk
	if len(order) == 0 {
		for _, c := range ts.columns {
			order = append(order, c.Name)
		}
	}
	keys := make([]string, len(order))
	for i, k := range order {
		keys[i] = quoteIdent(k)
		if d == store.Postgres && (types[k] == TypeText || types[k] == TypeJSON) {
			keys[i] += ` COLLATE "C"`
		}
	}
	return strings.Join(keys, ", ")
}

// exportTable writes the rows of ts to rw, one JSON array per line in
// column order, sorted by primary key (byte order for text).
func exportTable(ctx context.Context, tx bun.Tx, d store.Dialect, ts tableSchema, rw *rowWriter) error {
	cols := make([]string, len(ts.columns))
	for i, c := range ts.columns {
		cols[i] = quoteIdent(c.Name)
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(ts.name) + " ORDER BY " + orderBy(d, ts)
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read %s: %w", ts.name, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", ts.name, err)
		}
		if err := rw.write(ts.name, ts.columns, vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", ts.name, err)
	}
	return nil
}

// parseTimestamp reads a timestamp in one of the text forms SQLite may
// hold it in.
func parseTimestamp(s string) (time.Time, error) {
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999 -0700 MST",
		"2006-01-02",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is in no known form", s)
}

// encodeValue turns a scanned driver value into its portable JSON form.
func encodeValue(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case TypeInteger:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
	case TypeBytes:
		switch x := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(x)), nil
		}
	case TypeTimestamp:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Format(timeLayout), nil
		case string:
			t, err := parseTimestamp(x)
			if err != nil {
				return nil, err
			}
			return t.UTC().Format(timeLayout), nil
		}
	default: // text, json
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	}
	return nil, fmt.Errorf("%T value in a %s column", v, typ)
}

// decodeValue turns a portable JSON value back into a Go value for an
// INSERT into a column of type typ.
func decodeValue(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case TypeInteger:
		if n, ok := v.(json.Number); ok {
			return n.Int64()
		}
	case TypeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case TypeBytes:
		if s, ok := v.(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
	case TypeTimestamp:
		if s, ok := v.(string); ok {
			return time.Parse(time.RFC3339Nano, s)
		}
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%T value for a %s column", v, typ)
}

// restoreOptions let tests interrupt a restore.
type restoreOptions struct {
	// afterRows is called after each batch of rows is inserted with the
	// total so far; an error aborts the restore.
	afterRows func(n int64) error
}

// Restore reads a backup made by Create and writes its rows into db,
// which must be migrated to the backup's schema version and hold no rows.
//
// The whole file is decrypted, authenticated and checked against its
// manifest into a private temporary directory before anything is written;
// then every row is inserted in one system transaction, tables in
// foreign-key order, so a failed or interrupted restore leaves db as it
// was. It refuses a wrong key (ErrWrongKey), a damaged file (ErrCorrupt,
// ErrNotBackup), another schema version (ErrSchemaMismatch) and a
// non-empty target (ErrNotEmpty).
func Restore(ctx context.Context, db *store.DB, r io.Reader, key []byte) (*Manifest, error) {
	return restore(ctx, db, r, key, restoreOptions{})
}

func restore(ctx context.Context, db *store.DB, r io.Reader, key []byte, opts restoreOptions) (*Manifest, error) {
	dir, err := os.MkdirTemp("", "plenum-restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore: spool directory: %w", err)
	}
	defer os.RemoveAll(dir)
	m, err := unpack(r, key, dir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	cur, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := checkVersion(m.SchemaVersion, cur); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	err = db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		target, err := introspect(ctx, tx, db.Dialect())
		if err != nil {
			return err
		}
		if err := matchSchema(m, target); err != nil {
			return err
		}
		for _, ts := range target {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(ts.name)).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", ts.name, err)
			}
			if n > 0 {
				return fmt.Errorf("%w: table %s has %d rows; restore into a freshly migrated database", ErrNotEmpty, ts.name, n)
			}
		}
		ordered, err := fkOrder(target)
		if err != nil {
			return err
		}
		idx := map[string]int{}
		for i, t := range m.Tables {
			idx[t.Name] = i
		}
		var total int64
		for _, ts := range ordered {
			i := idx[ts.name]
			if err := insertTable(ctx, tx, ts, m.Tables[i], filepath.Join(dir, fmt.Sprintf("%d", i)), &total, opts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return m, nil
}

func checkVersion(backup, target int) error {
	switch {
	case target == 0:
		return fmt.Errorf("%w: the target database is not migrated; run `plenum migrate` first", ErrSchemaMismatch)
	case backup > target:
		return fmt.Errorf("%w: the backup is at schema version %d, newer than the target's %d; restore it with the plenum that made it", ErrSchemaMismatch, backup, target)
	case backup < target:
		return fmt.Errorf("%w: the backup is at schema version %d, older than the target's %d; restore it into a database migrated by the plenum that made it, then upgrade", ErrSchemaMismatch, backup, target)
	}
	return nil
}

// matchSchema checks that the backup has exactly the target's tables and
// columns.
func matchSchema(m *Manifest, target []tableSchema) error {
	have := map[string]Table{}
	for _, t := range m.Tables {
		have[t.Name] = t
	}
	for _, ts := range target {
		bt, ok := have[ts.name]
		if !ok {
			return fmt.Errorf("%w: table %s of the target is not in the backup", ErrSchemaMismatch, ts.name)
		}
		delete(have, ts.name)
		cols := map[string]bool{}
		for _, c := range ts.columns {
			cols[c.Name] = true
		}
		if len(bt.Columns) != len(ts.columns) {
			return fmt.Errorf("%w: table %s has %d columns in the backup and %d in the target", ErrSchemaMismatch, ts.name, len(bt.Columns), len(ts.columns))
		}
		for _, c := range bt.Columns {
			if !cols[c.Name] {
				return fmt.Errorf("%w: column %s.%s of the backup is not in the target", ErrSchemaMismatch, ts.name, c.Name)
			}
		}
	}
	for name := range have {
		return fmt.Errorf("%w: table %s of the backup is not in the target", ErrSchemaMismatch, name)
	}
	return nil
}

func insertTable(ctx context.Context, tx bun.Tx, ts tableSchema, bt Table, path string, total *int64, opts restoreOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore %s: %w", ts.name, err)
	}
	defer f.Close()
	types := map[string]string{}
	for _, c := range ts.columns {
		types[c.Name] = c.Type
	}
	cols := make([]string, len(bt.Columns))
	for i, c := range bt.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	head := "INSERT INTO " + quoteIdent(ts.name) + " (" + strings.Join(cols, ", ") + ") VALUES "
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	dec := json.NewDecoder(bufio.NewReader(f))
	dec.UseNumber()
	var (
		args   []any
		tuples []string
		line   int64
		size   int
	)
	flush := func() error {
		if len(tuples) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, head+strings.Join(tuples, ", "), args...); err != nil {
			return fmt.Errorf("insert into %s (rows up to %d): %w", ts.name, line, err)
		}
		*total += int64(len(tuples))
		args, tuples, size = args[:0], tuples[:0], 0
		if opts.afterRows != nil {
			if err := opts.afterRows(*total); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	for {
		var row []any
		if err := dec.Decode(&row); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("restore %s line %d: %w", ts.name, line+1, err)
		}
		line++
		if len(row) != len(bt.Columns) {
			return fmt.Errorf("restore %s line %d: %d values for %d columns", ts.name, line, len(row), len(bt.Columns))
		}
		for i, c := range bt.Columns {
			v, err := decodeValue(types[c.Name], row[i])
			if err != nil {
				return fmt.Errorf("restore %s line %d column %s: %w", ts.name, line, c.Name, err)
			}
			switch x := v.(type) {
			case []byte:
				size += 2 * len(x) // written in hex
			case string:
				size += len(x)
			}
			args = append(args, v)
		}
		tuples = append(tuples, tuple)
		if len(tuples) == insertBatch || size >= insertBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// unpack decrypts r into dir: the manifest, which it returns, and one file
// per table, named by the table's index in the manifest. It checks every
// table's row count and checksum and that the stream authenticates to its
// final segment.
func unpack(r io.Reader, key []byte, dir string) (*Manifest, error) {
	dr, err := newDecryptReader(r, key)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(dr)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", wrapCorrupt(err))
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", wrapCorrupt(err))
	}
	if hdr.Name != manifestName {
		return nil, fmt.Errorf("%w: first entry is %q, want %s", ErrNotBackup, hdr.Name, manifestName)
	}
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(&m); err != nil {
		return nil, fmt.Errorf("read manifest: %w", wrapCorrupt(err))
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%w: archive format %d, this plenum reads %d", ErrNotBackup, m.Format, FormatVersion)
	}
	idx := map[string]int{}
	for i, t := range m.Tables {
		idx[t.Name] = i
	}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", wrapCorrupt(err))
		}
		name, ok := strings.CutPrefix(hdr.Name, tablePrefix)
		name, ok2 := strings.CutSuffix(name, tableSuffix)
		i, ok3 := idx[name]
		if !ok || !ok2 || !ok3 || seen[name] {
			return nil, fmt.Errorf("%w: unexpected archive entry %q", ErrNotBackup, hdr.Name)
		}
		seen[name] = true
		if err := spoolTable(tr, filepath.Join(dir, fmt.Sprintf("%d", i)), m.Tables[i]); err != nil {
			return nil, err
		}
	}
	for _, t := range m.Tables {
		if !seen[t.Name] {
			return nil, fmt.Errorf("%w: table %s is in the manifest but not in the archive", ErrCorrupt, t.Name)
		}
	}
	// The final segment must authenticate, and nothing may follow it.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("read archive: %w", wrapCorrupt(err))
	}
	if _, err := io.Copy(io.Discard, dr); err != nil {
		return nil, fmt.Errorf("read archive: %w", wrapCorrupt(err))
	}
	return &m, nil
}

func spoolTable(r io.Reader, path string, t Table) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spool %s: %w", t.Name, err)
	}
	defer f.Close()
	h := sha256.New()
	lc := &lineCounter{}
	if _, err := io.Copy(io.MultiWriter(f, h, lc), r); err != nil {
		return fmt.Errorf("spool %s: %w", t.Name, wrapCorrupt(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool %s: %w", t.Name, err)
	}
	return checkTable(t, lc.n, h)
}

func checkTable(t Table, rows int64, h hash.Hash) error {
	if sum := hex.EncodeToString(h.Sum(nil)); sum != t.SHA256 {
		return fmt.Errorf("%w: table %s has checksum %s, the manifest says %s", ErrCorrupt, t.Name, sum, t.SHA256)
	}
	if rows != t.Rows {
		return fmt.Errorf("%w: table %s has %d rows, the manifest says %d", ErrCorrupt, t.Name, rows, t.Rows)
	}
	return nil
}

type lineCounter struct{ n int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// wrapCorrupt marks an error from the archive layers (which only ever see
// authenticated bytes, so a failure there means a damaged writer or a cut)
// as ErrCorrupt unless it already says what is wrong.
func wrapCorrupt(err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrWrongKey) || errors.Is(err, ErrNotBackup) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// Report is the outcome of Verify.
type Report struct {
	// Manifest is the backup's manifest.
	Manifest *Manifest
	// Tables and Rows count what was restored into the scratch database.
	Tables int
	Rows   int64
	// Audit is the verification of the audit hash chains in the restored
	// copy.
	Audit *audit.Report
	// Problems lists every mismatch found.
	Problems []string
}

// OK reports whether the backup restored completely and faithfully.
func (r *Report) OK() bool {
	return len(r.Problems) == 0 && (r.Audit == nil || r.Audit.OK())
}

// Verify restores the backup into a scratch SQLite database in a temporary
// directory, which it removes afterwards, then reads every table back and
// compares its row count and checksum with the manifest, and verifies the
// audit hash chains and checkpoints. The backup's schema version must be
// this binary's. An error means the backup could not be restored at all;
// mismatches are listed in the report.
func Verify(ctx context.Context, r io.Reader, key []byte) (*Report, error) {
	dir, err := os.MkdirTemp("", "plenum-verify-*")
	if err != nil {
		return nil, fmt.Errorf("verify backup: scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Driver: store.SQLite, DSN: filepath.Join(dir, "verify.db")})
	if err != nil {
		return nil, fmt.Errorf("verify backup: %w", err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("verify backup: scratch database: %w", err)
	}
	m, err := Restore(ctx, db, r, key)
	if err != nil {
		return nil, fmt.Errorf("verify backup: %w", err)
	}
	rep := &Report{Manifest: m}
	want := map[string]Table{}
	for _, t := range m.Tables {
		want[t.Name] = t
	}
	err = db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		tables, err := introspect(ctx, tx, db.Dialect())
		if err != nil {
			return err
		}
		for _, ts := range tables {
			// Read the columns in the backup's order so the lines match.
			if bt, ok := want[ts.name]; ok {
				ts.columns = bt.Columns
			}
			rw := newRowWriter(io.Discard)
			if err := exportTable(ctx, tx, db.Dialect(), ts, rw); err != nil {
				return err
			}
			n, sum := rw.rows, rw.sum()
			rep.Tables++
			rep.Rows += n
			bt := want[ts.name]
			if n != bt.Rows {
				rep.Problems = append(rep.Problems, fmt.Sprintf("table %s: %d rows restored, the manifest says %d", ts.name, n, bt.Rows))
			}
			if sum != bt.SHA256 {
				rep.Problems = append(rep.Problems, fmt.Sprintf("table %s: checksum %s after restore, the manifest says %s", ts.name, sum, bt.SHA256))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify backup: read back: %w", err)
	}
	log, err := audit.New(ctx, db, nil, nil, audit.Options{})
	if err != nil {
		return nil, fmt.Errorf("verify backup: audit log: %w", err)
	}
	if rep.Audit, err = log.Verify(ctx, audit.VerifyOptions{}); err != nil {
		return nil, fmt.Errorf("verify backup: audit log: %w", err)
	}
	return rep, nil
}
