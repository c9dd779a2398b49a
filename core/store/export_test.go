package store

import "github.com/uptrace/bun"

// RawTx exposes the transaction behind a scoped Tx so tests can prove that
// row-level security holds even for hand-written SQL.
func RawTx(t *Tx) bun.Tx { return t.tx }

// Bun exposes the bun handle to tests.
func Bun(db *DB) *bun.DB { return db.bun }
