package access

import (
	"errors"
	"fmt"
	"sort"
)

// Role is a named set of permissions.
type Role struct {
	// Name is 2 to 40 characters of [a-z0-9_-].
	Name string `json:"name"`
	// Description says what the role is for.
	Description string `json:"description"`
	// Permissions are the permissions the role carries.
	Permissions []Permission `json:"permissions"`
	// BuiltIn marks the platform's roles, which cannot be edited or
	// deleted.
	BuiltIn bool `json:"built_in"`
}

// The names of the built-in roles.
const (
	RoleOwner   = "owner"
	RoleAdmin   = "admin"
	RoleBoard   = "board"
	RoleMember  = "member"
	RoleAuditor = "auditor"
)

// ErrInvalidRole is returned for a role that cannot be saved: a bad name,
// an unknown permission, or a description too long.
var ErrInvalidRole = errors.New("invalid role")

// ErrBuiltinRole is returned when a built-in role is to be saved, deleted
// or shadowed by a tenant role of the same name.
var ErrBuiltinRole = errors.New("built-in roles cannot be changed; copy one under a new name")

// maxDescription bounds a role's description.
const maxDescription = 500

// BuiltinRoles returns the built-in roles, sorted by name. Each call
// returns fresh slices the caller may modify.
func BuiltinRoles() []Role {
	admin := make([]Permission, 0, len(allPermissions))
	for _, p := range allPermissions {
		if p != BillingManage {
			admin = append(admin, p)
		}
	}
	roles := []Role{
		{Name: RoleAdmin, Description: "Runs the association: everything except billing.", Permissions: admin},
		{Name: RoleAuditor, Description: "Reads participation, results, messages and the audit log.", Permissions: []Permission{
			UsersRead, VotesReadParticipation, ResultsRead, MessagesRead, UploadsRead, AuditRead,
		}},
		{Name: RoleBoard, Description: "Prepares and runs ballots and talks to members.", Permissions: []Permission{
			BallotsCreate, BallotsManage, UnitsManage, VotesEnterPaper, VotesReadParticipation,
			ResultsRead, MessagesRead, MessagesSend, MessagesEdit, UploadsCreate, UploadsRead, UsersRead,
		}},
		{Name: RoleMember, Description: "Votes and reads results and messages.", Permissions: []Permission{
			VotesCast, ResultsRead, MessagesRead, UploadsCreate,
		}},
		{Name: RoleOwner, Description: "Holds every permission, billing included.", Permissions: Permissions()},
	}
	for i := range roles {
		roles[i].BuiltIn = true
		sortPermissions(roles[i].Permissions)
	}
	return roles
}

// IsBuiltinRole reports whether name is a built-in role.
func IsBuiltinRole(name string) bool {
	switch name {
	case RoleOwner, RoleAdmin, RoleBoard, RoleMember, RoleAuditor:
		return true
	}
	return false
}

// ValidRoleName reports whether name can name a role: 2 to 40 characters
// of lower-case ASCII letters, digits, '_' and '-'.
func ValidRoleName(name string) bool {
	if len(name) < 2 || len(name) > 40 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Validate reports why r cannot be saved as a tenant role (wrapping
// ErrInvalidRole or ErrBuiltinRole), or nil.
func (r Role) Validate() error {
	if !ValidRoleName(r.Name) {
		return fmt.Errorf("%w: name %q must be 2 to 40 characters of a-z, 0-9, '_' and '-'", ErrInvalidRole, r.Name)
	}
	if IsBuiltinRole(r.Name) {
		return fmt.Errorf("%w: %q", ErrBuiltinRole, r.Name)
	}
	if len(r.Description) > maxDescription {
		return fmt.Errorf("%w: description longer than %d bytes", ErrInvalidRole, maxDescription)
	}
	for _, p := range r.Permissions {
		if !p.Valid() {
			return fmt.Errorf("%w: unknown permission %q", ErrInvalidRole, p)
		}
	}
	return nil
}

// Copy returns a tenant role named name with r's description and
// permissions, for making an editable variant of a built-in role.
func (r Role) Copy(name string) Role {
	return Role{Name: name, Description: r.Description, Permissions: append([]Permission(nil), r.Permissions...)}
}

func sortPermissions(ps []Permission) {
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
}

// dedupPermissions sorts ps and removes repeats.
func dedupPermissions(ps []Permission) []Permission {
	out := append([]Permission(nil), ps...)
	sortPermissions(out)
	n := 0
	for i, p := range out {
		if i == 0 || p != out[n-1] {
			out[n] = p
			n++
		}
	}
	return out[:n]
}

// Catalog is an immutable set of roles by name, for fast lookup while
// deciding.
type Catalog struct {
	roles map[string]permSet
}

// NewCatalog returns the catalog of the built-in roles and extra. A role of
// extra named like a built-in one is ignored.
func NewCatalog(extra []Role) *Catalog {
	c := &Catalog{roles: make(map[string]permSet, len(extra)+5)}
	for _, r := range BuiltinRoles() {
		c.roles[r.Name] = setOf(r.Permissions)
	}
	for _, r := range extra {
		if !IsBuiltinRole(r.Name) {
			c.roles[r.Name] = setOf(r.Permissions)
		}
	}
	return c
}

// lookup returns the permissions of role name.
func (c *Catalog) lookup(name string) (permSet, bool) {
	if c == nil {
		return 0, false
	}
	s, ok := c.roles[name]
	return s, ok
}

// Has reports whether the catalog knows role name.
func (c *Catalog) Has(name string) bool {
	_, ok := c.lookup(name)
	return ok
}
