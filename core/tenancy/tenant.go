// Package tenancy defines tenants (the associations that use Plenum), carries
// the current tenant in a context.Context, and creates, lists, suspends and
// deletes tenants.
//
// A tenant is reached by its slug in the path (/t/{slug}/…) or, optionally,
// by a host name of its own. Everything a tenant owns lives behind
// store.Scoped, which cannot be obtained without a tenant id.
package tenancy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Status is a tenant's lifecycle state.
type Status string

// The tenant states.
const (
	// Active tenants serve their members.
	Active Status = "active"
	// Suspended tenants are kept but serve nothing.
	Suspended Status = "suspended"
	// Deleted tenants serve nothing; their data is destroyed after the
	// retention grace period that starts at DeletedAt.
	Deleted Status = "deleted"
)

// Settings holds a tenant's own configuration. Fields are added by the
// features that read them; unknown fields in stored JSON are kept by
// encoding/json's default behaviour of ignoring them.
type Settings struct {
	// Locale is the tenant's default language tag, e.g. "en" or "de-CH".
	Locale string `json:"locale,omitempty"`
	// TimeZone is an IANA time zone name used to show times to members.
	TimeZone string `json:"time_zone,omitempty"`
}

// Tenant is one association using Plenum.
type Tenant struct {
	bun.BaseModel `bun:"table:tenants"`

	ID             string     `bun:"id,pk"`
	Slug           string     `bun:"slug,notnull"`
	Name           string     `bun:"name,notnull"`
	Host           *string    `bun:"host"`
	Status         Status     `bun:"status,notnull"`
	Settings       Settings   `bun:"settings,notnull"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
	DeletedAt      *time.Time `bun:"deleted_at"`
	KeyDestroyedAt *time.Time `bun:"key_destroyed_at"`
}

// Serving reports whether the tenant answers requests.
func (t *Tenant) Serving() bool { return t.Status == Active }

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// reservedSlugs cannot be taken by a tenant because they would shadow
// platform paths or mislead members.
var reservedSlugs = map[string]bool{
	"admin": true, "api": true, "operator": true, "platform": true, "static": true,
	"system": true, "www": true, "plenum": true, "healthz": true, "readyz": true, "metrics": true,
}

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid tenant")

// ValidateSlug checks that slug is 1–48 lower-case letters, digits and
// inner hyphens and is not reserved.
func ValidateSlug(slug string) error {
	if !slugRE.MatchString(slug) {
		return fmt.Errorf("%w: slug %q must be 1 to 48 lower-case letters, digits or inner hyphens", ErrInvalid, slug)
	}
	if reservedSlugs[slug] {
		return fmt.Errorf("%w: slug %q is reserved", ErrInvalid, slug)
	}
	return nil
}

// ValidateName checks that a tenant name is printable UTF-8 of 1–200
// characters.
func ValidateName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: name is not valid UTF-8", ErrInvalid)
	}
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > 200 {
		return fmt.Errorf("%w: name must have 1 to 200 characters", ErrInvalid)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: name holds a control character", ErrInvalid)
		}
	}
	return nil
}

type ctxKey struct{}

// WithTenant returns a context that carries t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the tenant carried by ctx, if any.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tenant)
	return t, ok && t != nil
}
