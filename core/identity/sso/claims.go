package sso

import (
	"slices"
	"strings"
)

// MapRoles returns the tenant roles that the values of the claim
// cfg.RoleClaim map to through cfg.RoleMapping, sorted and without
// duplicates. The claim may be a string or a list of strings; a dotted
// name ("realm_access.roles") reaches into nested objects when no claim
// has the whole name. Values without a mapping are ignored.
func MapRoles(cfg Config, claims map[string]any) []string {
	if cfg.RoleClaim == "" || len(cfg.RoleMapping) == 0 {
		return nil
	}
	var roles []string
	for _, v := range claimValues(claimAt(claims, cfg.RoleClaim)) {
		if r, ok := cfg.RoleMapping[v]; ok {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// claimAt returns the claim name, or the nested value a dotted name
// reaches.
func claimAt(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	head, rest, dotted := strings.Cut(name, ".")
	if !dotted {
		return nil
	}
	inner, ok := claims[head].(map[string]any)
	if !ok {
		return nil
	}
	return claimAt(inner, rest)
}

// claimValues returns the strings of a claim that is a string or a list.
func claimValues(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// verifiedEmail reports whether the claim email_verified says yes. Some
// providers send the string "true" instead of a boolean.
func verifiedEmail(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// DomainAllowed reports whether email's domain is one of cfg's allowed
// domains; with none configured every domain is.
func DomainAllowed(cfg Config, email string) bool {
	if len(cfg.AllowedDomains) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range cfg.AllowedDomains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}
