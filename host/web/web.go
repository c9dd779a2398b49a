// Package web holds Plenum's server-rendered pages: html/template files and
// static assets, embedded in the binary.
//
// Every page is the layout (templates/layout.html) with one page template
// that fills the "title", "nav" and "main" blocks. Pages carry no inline
// script or style and load nothing from other origins, so the server's
// strict Content-Security-Policy holds. Page data are the typed structs in
// this package; html/template escapes every value.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"sync"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The page names, for Render.
const (
	PageIndex   = "index"   // data: nil
	PageTenant  = "tenant"  // data: TenantData
	PageSignIn  = "signin"  // data: SignInData
	PageConsole = "console" // data: ConsoleData
	PageError   = "error"   // data: ErrorData

	PageMemberSignIn  = "member_signin"  // data: MemberSignInData
	PageMFA           = "mfa"            // data: MFAData
	PageLink          = "link"           // data: LinkData
	PageReset         = "reset"          // data: ResetData
	PageAccount       = "account"        // data: AccountData
	PageNotice        = "notice"         // data: Frame
	PageAdminUsers    = "admin_users"    // data: AdminUsersData
	PageAdminRoles    = "admin_roles"    // data: AdminRolesData
	PageAdminPolicy   = "admin_policy"   // data: AdminPolicyData
	PageAdminSecurity = "admin_security" // data: AdminSecurityData
	PageReauth        = "reauth"         // data: ReauthData
	PageAdminUnits    = "admin_units"    // data: AdminUnitsData
	PageAdminSSO      = "admin_sso"      // data: AdminSSOData
)

var pageNames = []string{PageIndex, PageTenant, PageSignIn, PageConsole, PageError,
	PageMemberSignIn, PageMFA, PageLink, PageReset, PageAccount, PageNotice,
	PageAdminUsers, PageAdminRoles, PageAdminPolicy, PageAdminSecurity, PageReauth, PageAdminUnits, PageAdminSSO,
	PageBallot, PageResults, PageAdminBallots, PageAdminBallot, PageReceipt}

// Pages are the parsed page templates, each combined with the layout. They
// are safe for concurrent use.
type Pages struct {
	byName map[string]*template.Template
}

// Load parses every page with the layout. It fails only if a template is
// broken, which the package's tests catch.
func Load() (*Pages, error) {
	funcs := template.FuncMap{"asset": AssetURL, "add": func(a, b int) int { return a + b }, "list": func(s ...string) []string { return s }}
	p := &Pages{byName: make(map[string]*template.Template, len(pageNames))}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// Render writes page with data. A page that fails midway may have written
// part of its output: render into a buffer when the status still matters.
func (p *Pages) Render(w io.Writer, page string, data any) error {
	t, ok := p.byName[page]
	if !ok {
		return fmt.Errorf("unknown page %q", page)
	}
	if err := t.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("render page %s: %w", page, err)
	}
	return nil
}

var defaultPages = sync.OnceValues(Load)

// Render writes page with data using pages parsed once per process.
func Render(w io.Writer, page string, data any) error {
	p, err := defaultPages()
	if err != nil {
		return err
	}
	return p.Render(w, page, data)
}

// Static returns the static assets (CSS), rooted so that "plenum.css" is at
// the top. The server serves them under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}

var assetVersions = sync.OnceValue(func() map[string]string {
	v := make(map[string]string)
	_ = fs.WalkDir(Static(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Static(), path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
})

// AssetURL returns the URL of a static asset with a version parameter
// derived from its content, e.g. "/static/plenum.css?v=1a2b3c4d5e6f". A
// changed file gets a new URL, which is what lets the server mark assets
// immutable. Templates call it as {{asset "plenum.css"}}.
func AssetURL(name string) string {
	if v, ok := assetVersions()[name]; ok {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}
