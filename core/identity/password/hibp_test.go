package password

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeHIBP serves the range API for the given passwords and counts,
// padded with zero-count entries.
func fakeHIBP(t *testing.T, counts map[string]int) *httptest.Server {
	t.Helper()
	byPrefix := map[string][]string{}
	for pw, n := range counts {
		sum := sha1.Sum([]byte(pw))
		d := strings.ToUpper(hex.EncodeToString(sum[:]))
		byPrefix[d[:5]] = append(byPrefix[d[:5]], fmt.Sprintf("%s:%d", d[5:], n))
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Add-Padding") != "true" {
			t.Errorf("Add-Padding header = %q", r.Header.Get("Add-Padding"))
		}
		prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
		if !ok || len(prefix) != 5 {
			http.NotFound(w, r)
			return
		}
		lines := append([]string{"0018A45C4D1DEF81644B54AB7F969B88D65:1", "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0"}, byPrefix[prefix]...)
		fmt.Fprint(w, strings.Join(lines, "\r\n"))
	}))
}

func TestHIBP(t *testing.T) {
	srv := fakeHIBP(t, map[string]int{"purple elephant dishwasher": 42, "padded only pw": 0})
	defer srv.Close()
	h := &HIBP{BaseURL: srv.URL, Client: srv.Client()}
	tests := []struct {
		pw   string
		want bool
	}{
		{"purple elephant dishwasher", true},
		{"padded only pw", false},
		{"mellow giraffe under rain", false},
	}
	for _, tt := range tests {
		got, err := h.Breached(context.Background(), tt.pw)
		if err != nil {
			t.Fatalf("Breached(%q): %v", tt.pw, err)
		}
		if got != tt.want {
			t.Errorf("Breached(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}

	// Through Policy.Check.
	err := DefaultPolicy().Check(context.Background(), "purple elephant dishwasher", Context{Breached: h})
	var v *Violation
	if !errors.As(err, &v) || v.Reason != Breached {
		t.Errorf("Check = %v, want breached", err)
	}
}

func TestHIBPErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		max     int64
		timeout time.Duration
	}{
		{"status", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusServiceUnavailable) }, 0, 0},
		{"malformed line", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "garbage\r\n") }, 0, 0},
		{"malformed count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ABC:x\r\n") }, 0, 0},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, strings.Repeat("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n", 100))
		}, 1000, 0},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := srv.Client()
			c.Timeout = tt.timeout
			h := &HIBP{BaseURL: srv.URL + "/", Client: c, MaxResponseBytes: tt.max}
			if _, err := h.Breached(context.Background(), "x"); err == nil {
				t.Error("Breached = nil error, want one")
			}
		})
	}
}
