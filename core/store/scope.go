package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/uptrace/bun"
)

// ErrNoTenant is returned when tenant-scoped access is asked for without a
// tenant. It is never silently turned into an unscoped query.
var ErrNoTenant = errors.New("store: tenant-scoped access without a tenant")

// ErrNotTenantOwned is returned when a model that does not embed Owned is
// used through a tenant-scoped handle.
var ErrNotTenantOwned = errors.New("store: model is not tenant-owned (embed store.Owned)")

// ErrCrossTenant is returned when a row that names another tenant is written
// through a tenant-scoped handle.
var ErrCrossTenant = errors.New("store: row belongs to another tenant")

// ErrSavepoint is wrapped by a failure of a savepoint itself (not of the
// work inside it): the transaction's state is then unknown.
var ErrSavepoint = errors.New("store: savepoint failed")

// ErrNestedWrite is returned for a write transaction begun inside another
// on SQLite, which has one writer: the inner one would wait for the outer
// for ever.
var ErrNestedWrite = errors.New("store: write transaction inside a write transaction")

// Owned is embedded by every tenant-owned model. Its column tenant_id is set
// by Tx.Insert and compared by every scoped query.
type Owned struct {
	TenantID string `bun:"tenant_id,notnull"`
}

func (o *Owned) owner() *string { return &o.TenantID }

// owned is satisfied only by models that embed Owned.
type owned interface{ owner() *string }

// ValidTenantID reports whether id can name a tenant: 1 to 64 characters of
// lower-case letters, digits and hyphens.
func ValidTenantID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Scoped reaches one tenant's data. Obtain it with DB.Scoped.
type Scoped struct {
	db       *DB
	tenantID string
}

// Scoped returns the handle for tenant-owned data of tenantID. An empty or
// malformed id is an immediate error (ErrNoTenant).
func (db *DB) Scoped(tenantID string) (*Scoped, error) {
	if !ValidTenantID(tenantID) {
		return nil, fmt.Errorf("%w (got %q)", ErrNoTenant, tenantID)
	}
	return &Scoped{db: db, tenantID: tenantID}, nil
}

// TenantID names the tenant this handle is scoped to.
func (s *Scoped) TenantID() string { return s.tenantID }

// Tx runs fn in a read-write transaction scoped to the tenant. The
// transaction commits when fn returns nil and rolls back otherwise, so a
// failed request leaves nothing behind.
func (s *Scoped) Tx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.run(ctx, nil, fn)
}

// ReadTx runs fn in a read-only transaction scoped to the tenant.
func (s *Scoped) ReadTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.run(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (s *Scoped) run(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx *Tx) error) error {
	return s.db.runTx(ctx, opts, s.tenantID, false, func(ctx context.Context, btx bun.Tx) error {
		return fn(ctx, &Tx{tx: btx, tenantID: s.tenantID, dialect: s.db.dialect})
	})
}

// Tx is a transaction scoped to one tenant. Every query it builds is
// filtered by tenant_id; every row it inserts is stamped with it.
type Tx struct {
	tx       bun.Tx
	tenantID string
	dialect  Dialect
}

// TenantID names the tenant the transaction is scoped to.
func (t *Tx) TenantID() string { return t.tenantID }

// Dialect reports the engine behind the transaction.
func (t *Tx) Dialect() Dialect { return t.dialect }

// Select starts a SELECT on model's table restricted to the tenant. The
// restriction is in the FROM clause — the table is replaced by a subquery
// of the tenant's rows — so no condition the caller adds, WhereOr
// included, can reach another tenant's rows of this table. Tables the
// caller joins are not restricted: filter them by tenant_id too (on
// PostgreSQL row-level security does so a second time).
func (t *Tx) Select(model any) *bun.SelectQuery {
	q := t.tx.NewSelect().Model(model)
	if err := checkOwned(model); err != nil {
		return q.Err(err)
	}
	return q.ModelTableExpr("(SELECT * FROM ?TableName WHERE tenant_id = ?) AS ?TableAlias", t.tenantID)
}

// Insert stamps every row in model (a pointer to a struct or to a slice of
// structs embedding Owned) with the tenant and inserts it.
func (t *Tx) Insert(ctx context.Context, model any) error {
	if err := t.stamp(model); err != nil {
		return err
	}
	if _, err := t.tx.NewInsert().Model(model).Exec(ctx); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	return nil
}

// NewInsert stamps model like Insert and returns the query for callers that
// need RETURNING or ON CONFLICT clauses.
func (t *Tx) NewInsert(model any) *bun.InsertQuery {
	q := t.tx.NewInsert().Model(model)
	if err := t.stamp(model); err != nil {
		return q.Err(err)
	}
	return q
}

// Update starts an UPDATE on model's table restricted to the tenant.
func (t *Tx) Update(model any) *UpdateQuery {
	q := t.tx.NewUpdate().Model(model)
	if err := checkOwned(model); err != nil {
		return &UpdateQuery{q: q.Err(err)}
	}
	return &UpdateQuery{q: q.Where("?TableAlias.tenant_id = ?", t.tenantID)}
}

// Delete starts a DELETE on model's table restricted to the tenant.
func (t *Tx) Delete(model any) *DeleteQuery {
	q := t.tx.NewDelete().Model(model)
	if err := checkOwned(model); err != nil {
		return &DeleteQuery{q: q.Err(err)}
	}
	return &DeleteQuery{q: q.Where("?TableAlias.tenant_id = ?", t.tenantID)}
}

// DeleteFrom starts a tenant-restricted DELETE on a table named in code
// rather than by a model, for work that spans many tables (erasing a
// user). The name must be a plain identifier.
func (t *Tx) DeleteFrom(table string) *DeleteQuery {
	q := t.tx.NewDelete()
	if !validIdent(table) {
		return &DeleteQuery{q: q.Err(fmt.Errorf("store: table name %q", table))}
	}
	return &DeleteQuery{q: q.TableExpr(table).Where("tenant_id = ?", t.tenantID)}
}

// UpdateTable starts a tenant-restricted UPDATE on a table named in code,
// like DeleteFrom.
func (t *Tx) UpdateTable(table string) *UpdateQuery {
	q := t.tx.NewUpdate()
	if !validIdent(table) {
		return &UpdateQuery{q: q.Err(fmt.Errorf("store: table name %q", table))}
	}
	return &UpdateQuery{q: q.TableExpr(table).Where("tenant_id = ?", t.tenantID)}
}

// UpdateQuery is a tenant-restricted UPDATE. It offers only conditions
// that are ANDed with the tenant restriction: there is no WhereOr, since
// "tenant = A OR x" would reach other tenants' rows. Put alternatives
// inside one Where ("a = ? OR b = ?"), which is parenthesised.
type UpdateQuery struct{ q *bun.UpdateQuery }

// Where adds a condition, ANDed with the others.
func (u *UpdateQuery) Where(query string, args ...any) *UpdateQuery {
	u.q = u.q.Where(query, args...)
	return u
}

// WherePK adds a condition on the model's primary key.
func (u *UpdateQuery) WherePK(cols ...string) *UpdateQuery {
	u.q = u.q.WherePK(cols...)
	return u
}

// Set adds a SET expression.
func (u *UpdateQuery) Set(query string, args ...any) *UpdateQuery {
	u.q = u.q.Set(query, args...)
	return u
}

// Column limits the update to the model's named columns.
func (u *UpdateQuery) Column(columns ...string) *UpdateQuery {
	u.q = u.q.Column(columns...)
	return u
}

// Exec runs the update.
func (u *UpdateQuery) Exec(ctx context.Context) (sql.Result, error) { return u.q.Exec(ctx) }

// DeleteQuery is a tenant-restricted DELETE, with conditions ANDed like
// UpdateQuery's.
type DeleteQuery struct{ q *bun.DeleteQuery }

// Where adds a condition, ANDed with the others.
func (d *DeleteQuery) Where(query string, args ...any) *DeleteQuery {
	d.q = d.q.Where(query, args...)
	return d
}

// WherePK adds a condition on the model's primary key.
func (d *DeleteQuery) WherePK(cols ...string) *DeleteQuery {
	d.q = d.q.WherePK(cols...)
	return d
}

// Exec runs the delete.
func (d *DeleteQuery) Exec(ctx context.Context) (sql.Result, error) { return d.q.Exec(ctx) }

func (t *Tx) stamp(model any) error {
	v := reflect.ValueOf(model)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("%w: %T", ErrNotTenantOwned, model)
	}
	e := v.Elem()
	switch e.Kind() {
	case reflect.Struct:
		return t.stampOne(v.Interface())
	case reflect.Slice:
		for i := 0; i < e.Len(); i++ {
			it := e.Index(i)
			if it.Kind() != reflect.Pointer {
				it = it.Addr()
			}
			if err := t.stampOne(it.Interface()); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %T", ErrNotTenantOwned, model)
}

func (t *Tx) stampOne(row any) error {
	o, ok := row.(owned)
	if !ok {
		return fmt.Errorf("%w: %T", ErrNotTenantOwned, row)
	}
	p := o.owner()
	switch *p {
	case "":
		*p = t.tenantID
	case t.tenantID:
	default:
		return ErrCrossTenant
	}
	return nil
}

// checkOwned reports whether model (a pointer to a struct or slice of
// structs) has a tenant-owned element type.
func checkOwned(model any) error {
	typ := reflect.TypeOf(model)
	for typ != nil && (typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice) {
		typ = typ.Elem()
	}
	if typ == nil || typ.Kind() != reflect.Struct || !reflect.PointerTo(typ).Implements(ownedType) {
		return fmt.Errorf("%w: %T", ErrNotTenantOwned, model)
	}
	return nil
}

var ownedType = reflect.TypeOf((*owned)(nil)).Elem()

// System reaches the platform's own tables (tenants, keys, migrations) and,
// for operator tools such as audit verification, every tenant's rows. Each
// use is explicit so that a reviewer can find every unscoped access by
// searching for System().
type System struct{ db *DB }

// System returns the handle for platform-level access.
func (db *DB) System() *System { return &System{db: db} }

// Tx runs fn in a read-write system transaction.
func (s *System) Tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.runTx(ctx, nil, "", true, fn)
}

// ReadTx runs fn in a read-only system transaction.
func (s *System) ReadTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.runTx(ctx, &sql.TxOptions{ReadOnly: true}, "", true, fn)
}

// Dialect reports the engine behind the handle.
func (s *System) Dialect() Dialect { return s.db.dialect }

// runTx opens a transaction, applies the PostgreSQL row-level security
// settings for the scope and runs fn.
func (db *DB) runTx(ctx context.Context, opts *sql.TxOptions, tenantID string, system bool, fn func(ctx context.Context, tx bun.Tx) error) error {
	pool := db.bun
	if db.dialect == SQLite {
		if opts != nil && opts.ReadOnly {
			pool, opts = db.read, nil
		} else {
			if ctx.Value(writingKey{}) != nil {
				return ErrNestedWrite
			}
			select {
			case db.writer <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			defer func() { <-db.writer }()
			ctx = context.WithValue(ctx, writingKey{}, true)
		}
	}
	return pool.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		if db.dialect == Postgres {
			if err := db.applyScope(ctx, tx, tenantID, system); err != nil {
				return err
			}
		}
		return fn(ctx, tx)
	})
}

// writingKey marks a context inside a SQLite write transaction.
type writingKey struct{}

func (db *DB) applyScope(ctx context.Context, tx bun.Tx, tenantID string, system bool) error {
	sys := "off"
	if system {
		sys = "on"
	}
	q := "SELECT set_config('plenum.tenant_id', ?, true), set_config('plenum.system', ?, true)"
	if db.role != "" {
		// The role name was checked to be a plain identifier in Validate.
		if _, err := tx.ExecContext(ctx, "SET LOCAL ROLE "+db.role); err != nil {
			return fmt.Errorf("assume database role %s: %w", db.role, err)
		}
	}
	if _, err := tx.ExecContext(ctx, q, tenantID, sys); err != nil {
		return fmt.Errorf("set row-level security scope: %w", err)
	}
	return nil
}

// Scope returns a tenant-scoped view of a system transaction, for platform
// work that writes one tenant's rows (creating a tenant, say) in the same
// transaction as platform rows.
func (s *System) Scope(tx bun.Tx, tenantID string) (*Tx, error) {
	if !ValidTenantID(tenantID) {
		return nil, fmt.Errorf("%w (got %q)", ErrNoTenant, tenantID)
	}
	return &Tx{tx: tx, tenantID: tenantID, dialect: s.db.dialect}, nil
}

// Savepoint runs fn inside a savepoint of the transaction: when fn fails,
// what it changed is rolled back and the transaction goes on, so one
// refused item of a batch leaves the others intact. Savepoints do not
// nest here: fn must not call Savepoint. An error wrapping ErrSavepoint
// means the savepoint itself failed and the transaction must not commit.
func (t *Tx) Savepoint(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT plenum_item"); err != nil {
		return fmt.Errorf("%w: %v", ErrSavepoint, err)
	}
	if err := fn(ctx); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT plenum_item"); rerr != nil {
			return fmt.Errorf("%w: roll back: %v (after %v)", ErrSavepoint, rerr, err)
		}
		if _, rerr := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT plenum_item"); rerr != nil {
			return fmt.Errorf("%w: release: %v (after %v)", ErrSavepoint, rerr, err)
		}
		return err
	}
	if _, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT plenum_item"); err != nil {
		return fmt.Errorf("%w: release: %v", ErrSavepoint, err)
	}
	return nil
}
