// Package web holds Plenum's server-rendered pages: html/template files and
// static assets, embedded in the binary. Pages use no inline script or
// style, so the server's strict Content-Security-Policy holds.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pages are the page templates, each combined with the layout.
type Pages struct {
	byName map[string]*template.Template
}

// The page names.
const (
	PageIndex   = "index"
	PageTenant  = "tenant"
	PageSignIn  = "signin"
	PageConsole = "console"
	PageError   = "error"
)

// Load parses every page with the layout. It fails only if a template is
// broken, which a test catches.
func Load() (*Pages, error) {
	p := &Pages{byName: make(map[string]*template.Template)}
	for _, name := range []string{PageIndex, PageTenant, PageSignIn, PageConsole, PageError} {
		t, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// Render writes page with data.
func (p *Pages) Render(w io.Writer, page string, data any) error {
	t, ok := p.byName[page]
	if !ok {
		return fmt.Errorf("unknown page %q", page)
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// Static returns the static assets (CSS), rooted so that "plenum.css" is at
// the top.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}
