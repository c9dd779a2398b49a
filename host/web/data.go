package web

import "time"

// TenantData fills PageTenant, an association's landing page.
type TenantData struct {
	// Name is the association's name.
	Name string
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
