package web

import (
	"html/template"
	"time"
)

// TenantData fills PageTenant, an association's landing page.
type TenantData struct {
	Frame
	// Name is the association's name.
	Name string
	// Units are the member's units; Open the ballots they may vote on and
	// Results the published ones; Proxies those they gave or hold.
	Units   []UnitLine
	Open    []BallotLine
	Results []BallotLine
	Proxies []ProxyLine
	// Officer links to the ballot administration.
	Officer bool
}

// SignInData fills PageSignIn, the operator sign-in form.
type SignInData struct {
	// CSRF is the double-submit token echoed in a hidden field.
	CSRF string
	// Error is one generic message after a failed attempt, or empty.
	Error string
	// Email refills the e-mail field after a failed attempt.
	Email string
}

// ConsoleData fills PageConsole, the operator console.
type ConsoleData struct {
	// CSRF is the session's token for the sign-out form.
	CSRF string
	// Email is the signed-in operator's address, shown to that operator.
	Email   string
	Tenants []TenantRow
}

// TenantRow is one line of the console's tenant table.
type TenantRow struct {
	Slug, Name, Status string
	CreatedAt          time.Time
	// Serving reports whether the tenant's pages answer (so the slug is
	// worth a link).
	Serving bool
}

// ErrorData fills PageError. Message must be safe to show: it never holds
// internal detail.
type ErrorData struct {
	Status    int
	Title     string
	Message   string
	RequestID string
}

// Frame is what every tenant page shows around its content: the
// association, the signed-in user and the navigation they may use.
type Frame struct {
	// Tenant is the association's name; Slug is its path segment.
	Tenant, Slug string
	// CSRF is the session's token for every form on the page.
	CSRF string
	// Email is the signed-in user's address, empty when signed out.
	Email string
	// Admin reports whether the user may see the admin pages.
	Admin bool
	// Flash is a confirmation of the last action; Error a problem with it.
	Flash, Error string
}

// MemberSignInData fills PageMemberSignIn.
type MemberSignInData struct {
	Frame
	// Email refills the e-mail field after a failed attempt.
	EmailValue string
	// SSO lists the tenant's single sign-on providers.
	SSO []SSOLink
}

// SSOLink is one single sign-on button.
type SSOLink struct{ Name, URL string }

// MFAData fills PageMFA, the second-factor step of sign-in.
type MFAData struct {
	Frame
	TOTP, WebAuthn bool
	RecoveryLeft   int
	// EmailCode offers a code by e-mail (the weaker fallback); SMS a code
	// by text message when the tenant allows it.
	EmailCode, SMS bool
	// Sent says a code was just sent by e-mail; SMSSent by SMS.
	Sent, SMSSent bool
}

// LinkData fills PageLink, where an invitation or reset link sets a
// password.
type LinkData struct {
	Frame
	Token     string
	Purpose   string
	Invitee   string
	MinLength int
	Expires   time.Time
}

// ResetData fills PageReset, the request for a reset link.
type ResetData struct {
	Frame
	Sent bool
}

// AccountData fills PageAccount: the member's own security page.
type AccountData struct {
	Frame
	Name         string
	TOTP         bool
	RecoveryLeft int
	Passkeys     []PasskeyRow
	// Phone is the masked number for SMS codes ("" when none); SMS says
	// the tenant allows them and the host can send them.
	Phone string
	SMS   bool
	// PasskeysOffered says the host can register passkeys (its base URL
	// has a host name).
	PasskeysOffered bool
	Sessions        []SessionRow
	MustEnrol       bool
	MinLength       int
	// Enrolment holds a pending TOTP enrolment.
	Enrolment *TOTPEnrolment
	// RecoveryCodes are shown once, right after they were made.
	RecoveryCodes []string
}

// TOTPEnrolment is a pending authenticator-app enrolment.
type TOTPEnrolment struct {
	Secret string
	// QR is a data: URL of the PNG QR code.
	QR template.URL
}

// PasskeyRow is one registered passkey.
type PasskeyRow struct {
	ID, Label string
	CreatedAt time.Time
}

// SessionRow is one session in the session list.
type SessionRow struct {
	ID, IP, UserAgent, Method string
	CreatedAt, LastSeenAt     time.Time
	Current                   bool
}

// AdminUsersData fills PageAdminUsers.
type AdminUsersData struct {
	Frame
	Users []UserRow
	Roles []string
	// Imported reports a CSV import's outcome.
	Imported  *ImportResult
	CanManage bool
}

// UserRow is one line of the user list.
type UserRow struct {
	ID, Email, Name, Status string
	Roles                   []string
	LastSignIn              *time.Time
	Locked                  bool
	LockedUntil             time.Time
	MFA                     bool
	// Sessions counts the user's live sessions.
	Sessions int
}

// ImportResult reports a CSV import.
type ImportResult struct {
	Invited int
	Skipped int
	Errors  []string
}

// AdminRolesData fills PageAdminRoles.
type AdminRolesData struct {
	Frame
	Roles       []RoleRow
	Permissions []string
	CanManage   bool
}

// RoleRow is one role with its permissions.
type RoleRow struct {
	Name, Description string
	BuiltIn           bool
	Permissions       map[string]bool
	Holders           int
}

// AdminPolicyData fills PageAdminPolicy, the CEL policy editor.
type AdminPolicyData struct {
	Frame
	Version   int
	Rules     []RuleRow
	Tests     []TestRow
	History   []VersionRow
	Issues    []string
	Failures  []string
	Explain   *ExplainResult
	Roles     []string
	Perms     []string
	CanManage bool
	// Source is the policy as JSON for the editor.
	Source string
}

// RuleRow is one policy rule.
type RuleRow struct {
	Role, Permissions, Condition string
}

// TestRow is one policy test case.
type TestRow struct {
	Name, Role, Permission string
	Allow                  bool
}

// VersionRow is one policy version in the history.
type VersionRow struct {
	Number    int
	CreatedAt time.Time
	CreatedBy string
	Comment   string
	Current   bool
}

// ExplainResult shows why a decision came out as it did.
type ExplainResult struct {
	Allow                    bool
	Role, Permission, Clause string
	Reason                   string
	Steps                    []string
}

// AdminSecurityData fills PageAdminSecurity.
type AdminSecurityData struct {
	Frame
	MinPasswordLength int
	AccountThreshold  int
	IPThreshold       int
	Window, LockFor   string
	MaxLockFor        string
	DelayAfter        int
	MFA               string
	SMSFallback       bool
	InvitationTTL     string
	IdleTimeout       string
	AbsoluteTimeout   string
	Locks             []UserRow
	CanManage         bool
}

// AdminSSOData fills PageAdminSSO, the tenant's single sign-on
// providers.
type AdminSSOData struct {
	Frame
	Providers []SSOProviderRow
	CanManage bool
	// CallbackBase is the start of the redirect URI to register with a
	// provider: CallbackBase + name + "/callback".
	CallbackBase string
	// Form refills the provider form after a refused save.
	Form SSOProviderRow
}

// SSOProviderRow is one single sign-on provider as the admin page shows
// and edits it. The client secret is never shown, only whether one is
// stored.
type SSOProviderRow struct {
	Name, Kind, DisplayName string
	Issuer, ClientID        string
	Scopes                  string
	RoleClaim               string
	// RoleMapping is one "claim value = role" per line.
	RoleMapping    string
	AllowedDomains string
	// SAML: the identity provider's metadata, and the attributes holding
	// the address and the name (empty: the usual ones).
	MetadataURL, MetadataXML      string
	EmailAttribute, NameAttribute string
	Enabled                       bool
	HasSecret                     bool
}

// ReauthData fills PageReauth, the password prompt before a sensitive
// action.
type ReauthData struct {
	Frame
	// Return is the tenant path to go back to.
	Return string
}

// AdminUnitsData fills PageAdminUnits.
type AdminUnitsData struct {
	Frame
	Units    []UnitRow
	Imported *ImportResult
}

// UnitRow is one unit with its weight and owners.
type UnitRow struct {
	ID, Label, Weight string
	Owners            []UnitOwner
}

// UnitOwner is one owner of a unit.
type UnitOwner struct{ UserID, Email string }
