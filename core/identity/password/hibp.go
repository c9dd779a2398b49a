package password

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of [HIBP].
const (
	DefaultHIBPBaseURL          = "https://api.pwnedpasswords.com"
	DefaultHIBPTimeout          = 5 * time.Second
	DefaultHIBPMaxResponseBytes = 1 << 20
)

// HIBP is a [BreachChecker] that asks the Have I Been Pwned "Pwned
// Passwords" range API. It uses k-anonymity: only the first five hex
// digits of the password's SHA-1 hash leave the process, and the request
// asks for padding so that the response size tells nothing either.
//
// The check sends a request to a third party on every password change; it
// is off unless the caller passes an HIBP in [Context.Breached]. The zero
// value is ready to use; an HIBP is safe for concurrent use.
type HIBP struct {
	// BaseURL is the API's base URL, without the trailing /range.
	// Default DefaultHIBPBaseURL.
	BaseURL string
	// Client sends the requests. Default: an http.Client with a timeout
	// of DefaultHIBPTimeout.
	Client *http.Client
	// UserAgent is sent with each request, as the API asks. Default
	// "plenum-password-check".
	UserAgent string
	// MaxResponseBytes caps the response body read. Default 1 MiB.
	MaxResponseBytes int64
}

// Breached reports whether pw appears in the Pwned Passwords corpus with
// a count above zero. Padding entries, whose count is zero, are ignored.
func (h *HIBP) Breached(ctx context.Context, pw string) (bool, error) {
	sum := sha1.Sum([]byte(pw))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]

	base := h.BaseURL
	if base == "" {
		base = DefaultHIBPBaseURL
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultHIBPTimeout}
	}
	ua := h.UserAgent
	if ua == "" {
		ua = "plenum-password-check"
	}
	limit := h.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultHIBPMaxResponseBytes
	}

	url := strings.TrimRight(base, "/") + "/range/" + prefix
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("hibp: build request: %w", err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", ua)
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("hibp: range query: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("hibp: range query: unexpected status %s", resp.Status)
	}

	// Read one byte past the limit to tell a full body from a cut one.
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return false, fmt.Errorf("hibp: read response: %w", err)
	}
	if int64(len(data)) > limit {
		return false, fmt.Errorf("hibp: response larger than %d bytes", limit)
	}
	found := false
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		s, c, ok := strings.Cut(line, ":")
		if !ok {
			return false, fmt.Errorf("hibp: malformed response line %q", line)
		}
		count, err := strconv.ParseInt(strings.TrimSpace(c), 10, 64)
		if err != nil {
			return false, fmt.Errorf("hibp: malformed count in line %q: %w", line, err)
		}
		if count > 0 && strings.EqualFold(s, suffix) {
			found = true
		}
	}
	return found, nil
}
