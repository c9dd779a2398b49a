// Package access decides who may do what in a tenant: roles, the
// permissions they carry, and conditions written in CEL (the Common
// Expression Language) that narrow them.
//
// # Roles and permissions
//
// A Permission is a dotted name such as "ballots.create". A Role is a named
// set of permissions. Five built-in roles (owner, admin, board, member,
// auditor; see BuiltinRoles) exist in every tenant and cannot be edited or
// deleted; a tenant may copy one under a new name and edit the copy. Role
// names are 2 to 40 characters of lower-case letters, digits, '_' and '-'.
//
// # Policies and their semantics
//
// A Policy is a list of Rules, each naming a role, some permissions and a
// CEL condition, plus TestCases that must pass before the policy is saved.
// A principal holds permission P through role R when
//
//   - R is a role the tenant knows (built-in or the tenant's own), and
//   - R lists P, and
//   - every rule of the policy naming R and P has a condition that
//     evaluates to true (a rule with an empty condition changes nothing).
//
// A principal is allowed when it holds P through at least one of its
// roles. Everything else is denied: no roles, unknown roles, a role that
// does not list P, a condition that is false, that fails to evaluate, that
// exceeds its cost or time budget, or that yields something other than a
// bool. Rules cannot grant: they only narrow what roles already carry.
//
// # Conditions
//
// Conditions see four typed variables:
//
//	principal  access.Principal   id, roles, mfa, units, attributes
//	resource   access.Resource    kind, id, owner_id, unit, status, attributes
//	request    access.Request     method, path, ip, country, channel
//	now        timestamp
//
// for example `resource.owner_id == principal.id && principal.mfa`. A
// condition is checked when it is saved: a misspelt field, a type error, a
// result that is not a bool, an expression too long, too deeply nested or
// too costly by static estimate is reported as an Issue with line and
// column. At evaluation a runtime cost limit and a deadline apply.
//
// # Caching
//
// An Engine caches compiled programs by environment version and SHA-256 of
// the expression text, in a bounded LRU. A Service compiles a tenant's
// current policy once per (tenant, version) and reuses it: Authorize never
// compiles. The Service also caches each tenant's roles. Writes through a
// Service invalidate its caches at once; other hosts see role and policy
// changes after at most CacheTTL (5s by default), the time for which a
// cached head version or role list is trusted without a database read.
//
// Every change (role.save, role.delete, role.assign, role.unassign,
// policy.save, policy.rollback) is recorded in the audit log in the same
// transaction.
package access
