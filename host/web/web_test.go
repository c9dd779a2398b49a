package web

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestPagesRender(t *testing.T) {
	p, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	type tenant struct {
		Slug, Name, Status string
		CreatedAt          time.Time
	}
	data := map[string]any{
		PageIndex:   nil,
		PageTenant:  map[string]any{"Tenant": tenant{Name: `<script>alert(1)</script>`}},
		PageSignIn:  map[string]any{"CSRF": "tok", "Error": "E-mail or password is wrong.", "Email": `"><b>`},
		PageConsole: map[string]any{"CSRF": "tok", "Email": "op@example.org", "Tenants": []tenant{{"demo", "Demo", "active", time.Now()}}},
		PageError:   map[string]any{"Status": 404, "Title": "Not found", "Message": "No such page.", "RequestID": "r1"},
	}
	for page, d := range data {
		var buf bytes.Buffer
		if err := p.Render(&buf, page, d); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		out := buf.String()
		if !strings.Contains(out, `<html lang="en">`) || !strings.Contains(out, "<title>") {
			t.Errorf("%s: no lang or title", page)
		}
		if strings.Contains(out, "<script>alert") || strings.Contains(out, `"><b>`) {
			t.Errorf("%s: unescaped input", page)
		}
		if strings.Contains(out, "style=") || strings.Contains(out, "<script") {
			t.Errorf("%s: inline style or script breaks the CSP", page)
		}
	}
	if err := p.Render(&bytes.Buffer{}, "nope", nil); err == nil {
		t.Error("unknown page rendered")
	}
	if _, err := fs.Stat(Static(), "plenum.css"); err != nil {
		t.Error(err)
	}
}
