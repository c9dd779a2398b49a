package access

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/store"
)

// Auditor records audit events in the caller's transaction.
// *audit.Log satisfies it.
type Auditor interface {
	Append(ctx context.Context, tx *store.Tx, e audit.Event) (audit.Record, error)
}

var _ Auditor = (*audit.Log)(nil)

// Errors returned by Service.
var (
	// ErrConflict is returned when the policy changed since the version
	// the caller expected.
	ErrConflict = errors.New("policy was changed by someone else; reload and retry")
	// ErrNotFound is returned for a role, assignment or policy version
	// that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnknownRole is returned when assigning a role the tenant does
	// not have.
	ErrUnknownRole = errors.New("unknown role")
	// ErrRoleInUse is returned when deleting a role that is still
	// assigned.
	ErrRoleInUse = errors.New("role is still assigned")
	// ErrInvalidUser is returned for a malformed user id.
	ErrInvalidUser = errors.New("invalid user id")
)

// CacheTTL is how long a Service trusts its cached roles and policy head
// of a tenant before asking the database again. Changes made through the
// same Service are seen at once; changes made by other hosts within
// CacheTTL.
const CacheTTL = 5 * time.Second

// maxCachedTenants bounds each of the Service's caches.
const maxCachedTenants = 10000

// Service stores roles, assignments and policies and authorises requests.
// It is safe for concurrent use.
type Service struct {
	db      *store.DB
	engine  *Engine
	auditor Auditor
	now     func() time.Time

	ttl      time.Duration // CacheTTL; shortened by tests
	mu       sync.Mutex
	roles    map[string]*roleEntry
	policies map[string]*policyEntry
}

type roleEntry struct {
	cat     *Catalog
	checked time.Time
}

type policyEntry struct {
	version int
	cp      *CompiledPolicy
	checked time.Time
}

// NewService returns a Service over db. now may be nil for time.Now.
func NewService(db *store.DB, engine *Engine, auditor Auditor, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{
		db: db, engine: engine, auditor: auditor, now: now, ttl: CacheTTL,
		roles: make(map[string]*roleEntry), policies: make(map[string]*policyEntry),
	}
}

// roleRow is a tenant role in access_roles.
type roleRow struct {
	bun.BaseModel `bun:"table:access_roles,alias:r"`
	store.Owned
	Name        string    `bun:"name,pk"`
	Description string    `bun:"description,notnull"`
	Permissions string    `bun:"permissions,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

// assignmentRow is one role held by one user.
type assignmentRow struct {
	bun.BaseModel `bun:"table:access_assignments,alias:a"`
	store.Owned
	UserID    string    `bun:"user_id,pk"`
	Role      string    `bun:"role,pk"`
	GrantedAt time.Time `bun:"granted_at,notnull"`
	GrantedBy string    `bun:"granted_by,notnull"`
}

// versionRow is one immutable policy version.
type versionRow struct {
	bun.BaseModel `bun:"table:access_policy_versions,alias:v"`
	store.Owned
	Version   int       `bun:"version,pk"`
	Policy    string    `bun:"policy,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	CreatedBy string    `bun:"created_by,notnull"`
	Comment   string    `bun:"comment,notnull"`
}

// headRow points at a tenant's current policy version.
type headRow struct {
	bun.BaseModel `bun:"table:access_policy_head,alias:h"`
	store.Owned
	Version   int       `bun:"version,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	UpdatedBy string    `bun:"updated_by,notnull"`
}

// Version is one saved policy. Version 0 is the empty policy in force
// before any save.
type Version struct {
	Version   int       `json:"version"`
	Policy    Policy    `json:"policy"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func rowToRole(r *roleRow) (Role, error) {
	var perms []Permission
	if err := json.Unmarshal([]byte(r.Permissions), &perms); err != nil {
		return Role{}, fmt.Errorf("decode permissions of role %q: %w", r.Name, err)
	}
	return Role{Name: r.Name, Description: r.Description, Permissions: perms}, nil
}

// Roles returns the built-in roles followed by the tenant's roles, each
// group sorted by name.
func (s *Service) Roles(ctx context.Context, tenantID string) ([]Role, error) {
	var out []Role
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var err error
		out, err = tenantRoles(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("access: list roles of %s: %w", tenantID, err)
	}
	return append(BuiltinRoles(), out...), nil
}

func tenantRoles(ctx context.Context, tx *store.Tx) ([]Role, error) {
	var rows []roleRow
	if err := tx.Select(&rows).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	out := make([]Role, 0, len(rows))
	for i := range rows {
		r, err := rowToRole(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) read(ctx context.Context, tenantID string, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := s.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return sc.ReadTx(ctx, fn)
}

func (s *Service) write(ctx context.Context, tenantID string, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := s.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return sc.Tx(ctx, fn)
}

func (s *Service) record(ctx context.Context, tx *store.Tx, actor, action, target string, details map[string]string) error {
	if _, err := s.auditor.Append(ctx, tx, audit.Event{Actor: actor, Action: action, Target: target, Details: details}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// SaveRole creates or replaces the tenant role r.Name. Built-in roles
// cannot be saved (ErrBuiltinRole); copy one with Role.Copy instead.
func (s *Service) SaveRole(ctx context.Context, tenantID, actor string, r Role) error {
	if err := r.Validate(); err != nil {
		return err
	}
	perms := dedupPermissions(r.Permissions)
	pj, err := json.Marshal(perms)
	if err != nil {
		return fmt.Errorf("access: encode permissions: %w", err)
	}
	now := s.stamp()
	err = s.write(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Update((*roleRow)(nil)).
			Set("description = ?", r.Description).Set("permissions = ?", string(pj)).Set("updated_at = ?", now).
			Where("name = ?", r.Name).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		action := "updated"
		if n, _ := res.RowsAffected(); n == 0 {
			action = "created"
			row := &roleRow{Name: r.Name, Description: r.Description, Permissions: string(pj), CreatedAt: now, UpdatedAt: now}
			if err := tx.Insert(ctx, row); err != nil {
				return fmt.Errorf("insert role: %w", err)
			}
		}
		return s.record(ctx, tx, actor, "role.save", "role:"+r.Name, map[string]string{
			"role": r.Name, "change": action, "permissions": permList(perms),
		})
	})
	if err != nil {
		return fmt.Errorf("access: save role %q: %w", r.Name, err)
	}
	s.forgetRoles(tenantID)
	return nil
}

func permList(ps []Permission) string {
	b, _ := json.Marshal(ps)
	return string(b)
}

// DeleteRole deletes the tenant role name. It is refused for built-in
// roles (ErrBuiltinRole) and while anyone holds the role (ErrRoleInUse).
func (s *Service) DeleteRole(ctx context.Context, tenantID, actor, name string) error {
	if IsBuiltinRole(name) {
		return fmt.Errorf("access: delete role %q: %w", name, ErrBuiltinRole)
	}
	err := s.write(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		// Delete first: the row lock makes a concurrent Assign of the role
		// wait, so the count below sees its assignment (or the Assign sees
		// no role).
		res, err := tx.Delete((*roleRow)(nil)).Where("name = ?", name).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		n, err := tx.Select((*assignmentRow)(nil)).Where("role = ?", name).Count(ctx)
		if err != nil {
			return fmt.Errorf("count holders: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%w by %d user(s)", ErrRoleInUse, n)
		}
		return s.record(ctx, tx, actor, "role.delete", "role:"+name, map[string]string{"role": name})
	})
	if err != nil {
		return fmt.Errorf("access: delete role %q: %w", name, err)
	}
	s.forgetRoles(tenantID)
	return nil
}

func validUserID(id string) bool { return id != "" && len(id) <= 128 }

// roleExists reports whether the tenant of tx has role name. On
// PostgreSQL it keeps a share lock on a tenant role's row until tx ends,
// so that a concurrent DeleteRole cannot remove a role being assigned.
func roleExists(ctx context.Context, tx *store.Tx, name string) (bool, error) {
	if IsBuiltinRole(name) {
		return true, nil
	}
	var got string
	q := tx.Select((*roleRow)(nil)).Column("name").Where("name = ?", name)
	if tx.Dialect() == store.Postgres {
		q = q.For("SHARE")
	}
	err := q.Scan(ctx, &got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up role: %w", err)
	}
	return true, nil
}

// Assign gives userID the role. Assigning a role already held does
// nothing; a role the tenant does not have is refused (ErrUnknownRole).
func (s *Service) Assign(ctx context.Context, tenantID, actor, userID, role string) error {
	if !validUserID(userID) {
		return fmt.Errorf("access: assign: %w", ErrInvalidUser)
	}
	now := s.stamp()
	err := s.write(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		ok, err := roleExists(ctx, tx, role)
		if err != nil {
			return err
		}
		if !ok {
			return ErrUnknownRole
		}
		n, err := tx.Select((*assignmentRow)(nil)).Where("user_id = ? AND role = ?", userID, role).Count(ctx)
		if err != nil {
			return fmt.Errorf("read assignment: %w", err)
		}
		if n > 0 {
			return nil
		}
		if err := tx.Insert(ctx, &assignmentRow{UserID: userID, Role: role, GrantedAt: now, GrantedBy: actor}); err != nil {
			return fmt.Errorf("insert assignment: %w", err)
		}
		return s.record(ctx, tx, actor, "role.assign", "user:"+userID, map[string]string{"role": role})
	})
	if err != nil {
		return fmt.Errorf("access: assign role %q: %w", role, err)
	}
	return nil
}

// Assignments returns every role assignment of the tenant as user id →
// sorted roles, in one query (for lists of many users).
func (s *Service) Assignments(ctx context.Context, tenantID string) (map[string][]string, error) {
	var rows []assignmentRow
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&rows).Order("user_id", "role").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("access: list assignments: %w", err)
	}
	out := make(map[string][]string)
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.Role)
	}
	return out, nil
}

// Unassign takes the role from userID (ErrNotFound when not held).
func (s *Service) Unassign(ctx context.Context, tenantID, actor, userID, role string) error {
	err := s.write(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*assignmentRow)(nil)).Where("user_id = ? AND role = ?", userID, role).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete assignment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.record(ctx, tx, actor, "role.unassign", "user:"+userID, map[string]string{"role": role})
	})
	if err != nil {
		return fmt.Errorf("access: unassign role %q: %w", role, err)
	}
	return nil
}

// RolesOf returns the roles userID holds, sorted.
func (s *Service) RolesOf(ctx context.Context, tenantID, userID string) ([]string, error) {
	var out []string
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select((*assignmentRow)(nil)).Column("role").Where("user_id = ?", userID).Order("role").Scan(ctx, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("access: roles of user: %w", err)
	}
	return out, nil
}

// Holders returns the users holding role, sorted.
func (s *Service) Holders(ctx context.Context, tenantID, role string) ([]string, error) {
	var out []string
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select((*assignmentRow)(nil)).Column("user_id").Where("role = ?", role).Order("user_id").Scan(ctx, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("access: holders of role %q: %w", role, err)
	}
	return out, nil
}

// headVersion returns the tenant's current policy version, 0 when none.
func headVersion(ctx context.Context, tx *store.Tx) (int, error) {
	h := new(headRow)
	err := tx.Select(h).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read policy head: %w", err)
	}
	return h.Version, nil
}

func readVersion(ctx context.Context, tx *store.Tx, v int) (Version, error) {
	if v == 0 {
		return Version{Policy: Policy{Rules: []Rule{}}}, nil
	}
	row := new(versionRow)
	if err := tx.Select(row).Where("version = ?", v).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Version{}, fmt.Errorf("policy version %d: %w", v, ErrNotFound)
		}
		return Version{}, fmt.Errorf("read policy version %d: %w", v, err)
	}
	return rowToVersion(row)
}

func rowToVersion(row *versionRow) (Version, error) {
	p, err := ParsePolicy([]byte(row.Policy))
	if err != nil {
		return Version{}, fmt.Errorf("policy version %d: %w", row.Version, err)
	}
	return Version{Version: row.Version, Policy: p, CreatedAt: row.CreatedAt, CreatedBy: row.CreatedBy, Comment: row.Comment}, nil
}

// CurrentPolicy returns the tenant's policy in force: version 0, the
// empty policy, when none was ever saved.
func (s *Service) CurrentPolicy(ctx context.Context, tenantID string) (Version, error) {
	var v Version
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		n, err := headVersion(ctx, tx)
		if err != nil {
			return err
		}
		v, err = readVersion(ctx, tx, n)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("access: current policy of %s: %w", tenantID, err)
	}
	return v, nil
}

// History returns every saved version of the tenant's policy, newest
// first.
func (s *Service) History(ctx context.Context, tenantID string) ([]Version, error) {
	var out []Version
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var rows []versionRow
		if err := tx.Select(&rows).Order("version DESC").Scan(ctx); err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		for i := range rows {
			v, err := rowToVersion(&rows[i])
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("access: policy history of %s: %w", tenantID, err)
	}
	return out, nil
}

// SavePolicy validates p (a *ValidationError lists the issues of each
// rule), runs its test cases against the tenant's roles (a *TestFailure
// lists the failures) and saves it as version expected+1. It returns
// ErrConflict when the current version is not expected, also when another
// save of expected+1 commits first: of concurrent saves from the same
// version exactly one wins.
func (s *Service) SavePolicy(ctx context.Context, tenantID, actor string, expected int, p Policy, comment string) (Version, error) {
	if p.Rules == nil {
		p.Rules = []Rule{}
	}
	cp, err := s.engine.CompilePolicy(p)
	if err != nil {
		return Version{}, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return Version{}, fmt.Errorf("access: encode policy: %w", err)
	}
	if len(data) > MaxPolicyBytes {
		return Version{}, &ValidationError{Problems: []string{fmt.Sprintf("policy is %d bytes, the limit is %d", len(data), MaxPolicyBytes)}}
	}
	if len(comment) > maxDescription {
		return Version{}, fmt.Errorf("access: %w: comment longer than %d bytes", ErrInvalidPolicy, maxDescription)
	}
	v, err := s.appendVersion(ctx, tenantID, actor, expected, cp, data, comment, "policy.save", nil)
	if err != nil {
		return Version{}, fmt.Errorf("access: save policy: %w", err)
	}
	return v, nil
}

// Rollback makes version to current again. Versions are immutable, so it
// appends version expected+1 holding a copy of version to's policy (and
// fails with ErrConflict like SavePolicy when the current version is not
// expected). The copy's test cases must still pass against today's roles.
func (s *Service) Rollback(ctx context.Context, tenantID, actor string, expected, to int) (Version, error) {
	var old Version
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var err error
		old, err = readVersion(ctx, tx, to)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("access: rollback to version %d: %w", to, err)
	}
	cp, err := s.engine.CompilePolicy(old.Policy)
	if err != nil {
		return Version{}, fmt.Errorf("access: rollback to version %d: %w", to, err)
	}
	data, err := json.Marshal(old.Policy)
	if err != nil {
		return Version{}, fmt.Errorf("access: encode policy: %w", err)
	}
	comment := "rollback to version " + strconv.Itoa(to)
	v, err := s.appendVersion(ctx, tenantID, actor, expected, cp, data, comment, "policy.rollback",
		map[string]string{"rollback_to": strconv.Itoa(to)})
	if err != nil {
		return Version{}, fmt.Errorf("access: rollback to version %d: %w", to, err)
	}
	return v, nil
}

func (s *Service) appendVersion(ctx context.Context, tenantID, actor string, expected int, cp *CompiledPolicy, data []byte, comment, action string, details map[string]string) (Version, error) {
	now := s.stamp()
	next := expected + 1
	err := s.write(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		cur, err := headVersion(ctx, tx)
		if err != nil {
			return err
		}
		if cur != expected {
			return fmt.Errorf("%w (current version %d, expected %d)", ErrConflict, cur, expected)
		}
		roles, err := tenantRoles(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.engine.RunTests(ctx, cp, NewCatalog(roles)); err != nil {
			return err
		}
		row := &versionRow{Version: next, Policy: string(data), CreatedAt: now, CreatedBy: actor, Comment: comment}
		if err := tx.Insert(ctx, row); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w (version %d was saved concurrently)", ErrConflict, next)
			}
			return fmt.Errorf("insert policy version: %w", err)
		}
		head := &headRow{Version: next, UpdatedAt: now, UpdatedBy: actor}
		if expected == 0 {
			err = tx.Insert(ctx, head)
		} else {
			var res sql.Result
			res, err = tx.Update(head).Column("version", "updated_at", "updated_by").Where("version = ?", expected).Exec(ctx)
			if err == nil {
				if n, _ := res.RowsAffected(); n != 1 {
					return fmt.Errorf("%w (policy head moved concurrently)", ErrConflict)
				}
			}
		}
		if err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w (policy head created concurrently)", ErrConflict)
			}
			return fmt.Errorf("move policy head: %w", err)
		}
		d := map[string]string{"version": strconv.Itoa(next), "previous": strconv.Itoa(expected), "rules": strconv.Itoa(len(cp.policy.Rules))}
		for k, v := range details {
			d[k] = v
		}
		return s.record(ctx, tx, actor, action, "policy:"+strconv.Itoa(next), d)
	})
	if err != nil {
		return Version{}, err
	}
	s.mu.Lock()
	if len(s.policies) >= maxCachedTenants {
		clear(s.policies)
	}
	if old := s.policies[tenantID]; old == nil || old.version < next {
		s.policies[tenantID] = &policyEntry{version: next, cp: cp, checked: time.Now()}
	}
	s.mu.Unlock()
	return Version{Version: next, Policy: cp.policy, CreatedAt: now, CreatedBy: actor, Comment: comment}, nil
}

func (s *Service) forgetRoles(tenantID string) {
	s.mu.Lock()
	delete(s.roles, tenantID)
	s.mu.Unlock()
}

// catalog returns the tenant's roles, cached for CacheTTL.
func (s *Service) catalog(ctx context.Context, tenantID string) (*Catalog, error) {
	s.mu.Lock()
	e := s.roles[tenantID]
	s.mu.Unlock()
	if e != nil && time.Since(e.checked) < s.ttl {
		return e.cat, nil
	}
	var roles []Role
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var err error
		roles, err = tenantRoles(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load roles: %w", err)
	}
	e = &roleEntry{cat: NewCatalog(roles), checked: time.Now()}
	s.mu.Lock()
	if len(s.roles) >= maxCachedTenants {
		clear(s.roles)
	}
	s.roles[tenantID] = e
	s.mu.Unlock()
	return e.cat, nil
}

// compiled returns the tenant's current compiled policy. It trusts the
// cached head for CacheTTL; after that it reads the head version and
// recompiles only when the version changed.
func (s *Service) compiled(ctx context.Context, tenantID string) (*CompiledPolicy, error) {
	s.mu.Lock()
	e := s.policies[tenantID]
	s.mu.Unlock()
	if e != nil && time.Since(e.checked) < s.ttl {
		return e.cp, nil
	}
	var (
		cur int
		v   Version
	)
	err := s.read(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if cur, err = headVersion(ctx, tx); err != nil {
			return err
		}
		if e != nil && e.version == cur {
			return nil
		}
		v, err = readVersion(ctx, tx, cur)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	ne := &policyEntry{version: cur, checked: time.Now()}
	if e != nil && e.version == cur {
		ne.cp = e.cp
	} else if ne.cp, err = s.engine.CompilePolicy(v.Policy); err != nil {
		return nil, fmt.Errorf("compile policy version %d: %w", cur, err)
	}
	s.mu.Lock()
	if len(s.policies) >= maxCachedTenants {
		clear(s.policies)
	}
	// Keep a newer version installed concurrently by a save.
	if old := s.policies[tenantID]; old == nil || old.version <= cur {
		s.policies[tenantID] = ne
	}
	s.mu.Unlock()
	return ne.cp, nil
}

func (s *Service) input(p Principal, res Resource, req Request) *Input {
	return &Input{Principal: p, Resource: res, Request: req, Now: s.now()}
}

// Authorize decides whether p holds perm on res for req in the tenant,
// under the tenant's current policy. p.Roles are the roles the caller
// resolved (for instance with RolesOf). It denies, with an error, when
// the roles or the policy cannot be loaded. It compiles nothing once the
// tenant's policy is cached.
func (s *Service) Authorize(ctx context.Context, tenantID string, p Principal, perm Permission, res Resource, req Request) (Decision, error) {
	deny := Decision{Permission: perm, Rule: -1, Reason: ReasonNoPolicy}
	cat, err := s.catalog(ctx, tenantID)
	if err != nil {
		return deny, fmt.Errorf("access: authorize: %w", err)
	}
	cp, err := s.compiled(ctx, tenantID)
	if err != nil {
		return deny, fmt.Errorf("access: authorize: %w", err)
	}
	return s.engine.Decide(ctx, cp, cat, s.input(p, res, req), perm), nil
}

// Explain is Authorize with the reasoning: every role of p considered
// and, for a failed condition, the clause that was false.
func (s *Service) Explain(ctx context.Context, tenantID string, p Principal, perm Permission, res Resource, req Request) (Explanation, error) {
	cat, err := s.catalog(ctx, tenantID)
	if err != nil {
		return Explanation{}, fmt.Errorf("access: explain: %w", err)
	}
	cp, err := s.compiled(ctx, tenantID)
	if err != nil {
		return Explanation{}, fmt.Errorf("access: explain: %w", err)
	}
	return s.engine.Explain(ctx, cp, cat, s.input(p, res, req), perm), nil
}
