package access

import "sort"

// Permission names one thing a principal may do, as "area.verb".
type Permission string

// The permissions Plenum knows. Any other value is invalid.
const (
	SettingsManage         Permission = "settings.manage"
	BillingManage          Permission = "billing.manage"
	UsersRead              Permission = "users.read"
	UsersManage            Permission = "users.manage"
	RolesManage            Permission = "roles.manage"
	PoliciesManage         Permission = "policies.manage"
	PluginsManage          Permission = "plugins.manage"
	UnitsManage            Permission = "units.manage"
	BallotsCreate          Permission = "ballots.create"
	BallotsManage          Permission = "ballots.manage"
	VotesCast              Permission = "votes.cast"
	VotesEnterPaper        Permission = "votes.enter_paper"
	VotesReadParticipation Permission = "votes.read_participation"
	ResultsRead            Permission = "results.read"
	MessagesRead           Permission = "messages.read"
	MessagesSend           Permission = "messages.send"
	MessagesEdit           Permission = "messages.edit"
	UploadsCreate          Permission = "uploads.create"
	UploadsRead            Permission = "uploads.read"
	AuditRead              Permission = "audit.read"
	DataExport             Permission = "data.export"
)

// allPermissions is sorted; permissionBit maps each to its bit in a
// permSet. Both are immutable after initialisation.
var allPermissions = func() []Permission {
	ps := []Permission{
		SettingsManage, BillingManage, UsersRead, UsersManage, RolesManage,
		PoliciesManage, PluginsManage, UnitsManage, BallotsCreate, BallotsManage,
		VotesCast, VotesEnterPaper, VotesReadParticipation, ResultsRead,
		MessagesRead, MessagesSend, MessagesEdit, UploadsCreate, UploadsRead,
		AuditRead, DataExport,
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}()

// Permissions returns every known permission, sorted.
func Permissions() []Permission {
	return append([]Permission(nil), allPermissions...)
}

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool {
	_, ok := p.bit()
	return ok
}

// bit returns p's position in a permSet.
func (p Permission) bit() (uint, bool) {
	i := sort.Search(len(allPermissions), func(i int) bool { return allPermissions[i] >= p })
	if i < len(allPermissions) && allPermissions[i] == p {
		return uint(i), true
	}
	return 0, false
}

// permSet is a set of known permissions, one bit each.
type permSet uint64

func (s permSet) has(p Permission) bool {
	b, ok := p.bit()
	return ok && s&(1<<b) != 0
}

func setOf(ps []Permission) permSet {
	var s permSet
	for _, p := range ps {
		if b, ok := p.bit(); ok {
			s |= 1 << b
		}
	}
	return s
}
