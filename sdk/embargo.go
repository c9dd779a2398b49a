package sdk

import (
	"github.com/plenum-vote/plenum/sdk/wire"
)

// EmbargoInput is the input of the embargo hook: where a request comes
// from. The operator's list of embargoed countries is the plugin's
// configuration (sdk.Config()).
type EmbargoInput struct {
	// IP is the client address (after trusted-proxy handling).
	IP string `json:"ip"`
	// Country is its ISO 3166-1 alpha-2 code from the host's GeoIP
	// database, or "" when unknown (private ranges, no data).
	Country string `json:"country"`
	// TenantBlocked lists the countries the tenant blocks on top of the
	// operator's list.
	TenantBlocked []string `json:"tenant_blocked"`
}

// EmbargoOutput says whether to refuse the request.
type EmbargoOutput struct {
	Block bool `json:"block"`
	// Reason is logged and shown to the operator, never to the client.
	Reason string `json:"reason"`
}

// AppendWire appends in's wire encoding to w.
func (in *EmbargoInput) AppendWire(w *wire.Writer) {
	w.String(in.IP)
	w.String(in.Country)
	appendStrings(w, in.TenantBlocked)
}

// ReadWire decodes in from r, reusing in's slices, and checks that the
// countries are alpha-2 codes.
func (in *EmbargoInput) ReadWire(r *wire.Reader) error {
	in.IP = r.String()
	if in.Country = r.String(); in.Country != "" && !validCountry(in.Country) {
		invalid(r, "country", in.Country)
	}
	in.TenantBlocked = readStrings(r, in.TenantBlocked)
	for _, c := range in.TenantBlocked {
		if !validCountry(c) {
			invalid(r, "tenant_blocked country", c)
		}
	}
	return finish(r, "embargo input")
}

// AppendWire appends out's wire encoding to w.
func (out *EmbargoOutput) AppendWire(w *wire.Writer) {
	w.Bool(out.Block)
	w.String(out.Reason)
}

// ReadWire decodes out from r.
func (out *EmbargoOutput) ReadWire(r *wire.Reader) error {
	out.Block = r.Bool()
	out.Reason = r.String()
	return finish(r, "embargo output")
}

// validCountry reports whether c looks like an ISO 3166-1 alpha-2 code.
func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}
