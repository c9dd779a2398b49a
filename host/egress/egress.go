// Package egress builds the HTTP clients the host uses to reach URLs that
// tenants configure (identity providers' discovery, keys and metadata).
//
// Such a URL must not become a way for a tenant admin to make the host
// send requests into its own network: the client refuses to connect to
// loopback, private, link-local, CGNAT, multicast and unspecified
// addresses — checked on the address actually dialled, after DNS, so a
// name that resolves to 10.0.0.1 is refused too — and follows at most
// three redirects, never from https to http. Operators who run their
// identity provider on a private network turn the check off.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned for a connection to an address the
// client may not reach.
var ErrForbiddenAddress = errors.New("egress: address not allowed")

// cgnat is the shared address space of RFC 6598.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Allowed reports whether a is a public unicast address.
func Allowed(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() && !cgnat.Contains(a)
}

// Client returns an HTTP client with timeout for tenant-configured URLs.
// With allowPrivate the address check is off (the redirect rules stay).
func Client(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !Allowed(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy: nil, // a proxy would hide the address from the check
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("egress: too many redirects")
			}
			if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("egress: redirect from https to http refused")
			}
			return nil
		},
	}
}
