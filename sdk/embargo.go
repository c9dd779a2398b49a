package sdk

import (
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// EmbargoInput is the input of the embargo hook: where a request comes
// from.
type EmbargoInput struct {
	// IP is the client address (after trusted-proxy handling).
	IP string `json:"ip"`
	// Country is its ISO 3166-1 alpha-2 code from the host's GeoIP
	// database, or "" when unknown (private ranges, no data).
	Country string `json:"country"`
	// TenantBlocked lists the countries the tenant blocks on top of the
	// operator's list (which is the plugin's config).
	TenantBlocked []string `json:"tenant_blocked"`
}

// EmbargoOutput says whether to refuse the request.
type EmbargoOutput struct {
	Block  bool   `json:"block"`
	Reason string `json:"reason"`
}

// AppendWire encodes in.
func (in *EmbargoInput) AppendWire(w *wire.Writer) {
	w.String(in.IP)
	w.String(in.Country)
	w.Uint(uint64(len(in.TenantBlocked)))
	for _, c := range in.TenantBlocked {
		w.String(c)
	}
}

// ReadWire decodes in; strings are views of r's input.
func (in *EmbargoInput) ReadWire(r *wire.Reader) error {
	in.IP = r.StringView()
	in.Country = r.StringView()
	n := r.Len(1)
	in.TenantBlocked = in.TenantBlocked[:0]
	for i := 0; i < n; i++ {
		in.TenantBlocked = append(in.TenantBlocked, r.StringView())
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("embargo input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
func (out *EmbargoOutput) AppendWire(w *wire.Writer) {
	w.Bool(out.Block)
	w.String(out.Reason)
}

// ReadWire decodes out.
func (out *EmbargoOutput) ReadWire(r *wire.Reader) error {
	out.Block = r.Bool()
	out.Reason = r.StringView()
	if err := r.End(); err != nil {
		return fmt.Errorf("embargo output: %w", err)
	}
	return nil
}

// SignupInput is the input of the signup_risk hook: facts about a sign-up
// or an accepted invitation.
type SignupInput struct {
	EmailDomain    string `json:"email_domain"`
	DomainHasMX    bool   `json:"domain_has_mx"`
	Country        string `json:"country"`
	PerIP          int64  `json:"per_ip"`
	PerSubnet      int64  `json:"per_subnet"`
	PerDomain      int64  `json:"per_domain"`
	DeviceHash     string `json:"device_hash"`
	InvitationUsed bool   `json:"invitation_used"`
}

// SignupOutput is the decision: "allow", "challenge" (an e-mail code) or
// "block", with a score (0–100) and reasons.
type SignupOutput struct {
	Action  string   `json:"action"`
	Score   int64    `json:"score"`
	Reasons []string `json:"reasons"`
}

// AppendWire encodes in.
func (in *SignupInput) AppendWire(w *wire.Writer) {
	w.String(in.EmailDomain)
	w.Bool(in.DomainHasMX)
	w.String(in.Country)
	w.Int(in.PerIP)
	w.Int(in.PerSubnet)
	w.Int(in.PerDomain)
	w.String(in.DeviceHash)
	w.Bool(in.InvitationUsed)
}

// ReadWire decodes in; strings are views of r's input.
func (in *SignupInput) ReadWire(r *wire.Reader) error {
	in.EmailDomain = r.StringView()
	in.DomainHasMX = r.Bool()
	in.Country = r.StringView()
	in.PerIP, in.PerSubnet, in.PerDomain = r.Int(), r.Int(), r.Int()
	in.DeviceHash = r.StringView()
	in.InvitationUsed = r.Bool()
	if err := r.End(); err != nil {
		return fmt.Errorf("signup input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
func (out *SignupOutput) AppendWire(w *wire.Writer) {
	w.String(out.Action)
	w.Int(out.Score)
	w.Uint(uint64(len(out.Reasons)))
	for _, s := range out.Reasons {
		w.String(s)
	}
}

// ReadWire decodes out and checks the action.
func (out *SignupOutput) ReadWire(r *wire.Reader) error {
	out.Action = r.StringView()
	out.Score = r.Int()
	n := r.Len(1)
	out.Reasons = out.Reasons[:0]
	for i := 0; i < n; i++ {
		out.Reasons = append(out.Reasons, r.StringView())
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("signup output: %w", err)
	}
	switch out.Action {
	case "allow", "challenge", "block":
	default:
		return fmt.Errorf("signup output: unknown action %q", out.Action)
	}
	return nil
}

// RegisterEmbargo makes fn the plugin's embargo hook.
func RegisterEmbargo(fn func(*EmbargoInput) (*EmbargoOutput, error)) {
	var in EmbargoInput
	register(HookEmbargo, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}

// RegisterSignupRisk makes fn the plugin's signup_risk hook.
func RegisterSignupRisk(fn func(*SignupInput) (*SignupOutput, error)) {
	var in SignupInput
	register(HookSignupRisk, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}
