package sdk

import (
	"github.com/plenum-vote/plenum/sdk/wire"
)

// Sign-up actions (SignupOutput.Action).
const (
	SignupAllow     = "allow"
	SignupChallenge = "challenge"
	SignupBlock     = "block"
)

// SignupInput is the input of the signup_risk hook: facts about a sign-up
// or an accepted invitation. Velocities count sign-ups in the host's
// recent window.
type SignupInput struct {
	// EmailDomain is the domain of the address given.
	EmailDomain string `json:"email_domain"`
	// DomainHasMX says whether the domain can receive mail.
	DomainHasMX bool `json:"domain_has_mx"`
	// DisposableHint says whether the host's own list knows the domain as
	// a disposable-address provider.
	DisposableHint bool `json:"disposable_hint"`
	// Country is the ISO 3166-1 alpha-2 code of the client address, or "".
	Country string `json:"country"`
	// PerIP, PerSubnet and PerDomain count recent sign-ups from the same
	// address, /24 (IPv4) or /64 (IPv6) subnet, and e-mail domain.
	PerIP     int64 `json:"per_ip"`
	PerSubnet int64 `json:"per_subnet"`
	PerDomain int64 `json:"per_domain"`
	// DeviceHash is a salted fingerprint of the client, or "".
	DeviceHash string `json:"device_hash"`
	// InvitationUsed says whether the sign-up redeems an invitation.
	InvitationUsed bool `json:"invitation_used"`
}

// SignupOutput is the decision on a sign-up.
type SignupOutput struct {
	// Action is "allow", "challenge" (an e-mail code) or "block".
	Action string `json:"action"`
	// Score is the risk, 0 to 100.
	Score   int64    `json:"score"`
	Reasons []string `json:"reasons"`
}

// AppendWire appends in's wire encoding to w.
func (in *SignupInput) AppendWire(w *wire.Writer) {
	w.String(in.EmailDomain)
	w.Bool(in.DomainHasMX)
	w.Bool(in.DisposableHint)
	w.String(in.Country)
	w.Int(in.PerIP)
	w.Int(in.PerSubnet)
	w.Int(in.PerDomain)
	w.String(in.DeviceHash)
	w.Bool(in.InvitationUsed)
}

// ReadWire decodes in from r and checks the counts and the country.
func (in *SignupInput) ReadWire(r *wire.Reader) error {
	in.EmailDomain = r.String()
	in.DomainHasMX = r.Bool()
	in.DisposableHint = r.Bool()
	if in.Country = r.String(); in.Country != "" && !validCountry(in.Country) {
		invalid(r, "country", in.Country)
	}
	in.PerIP = readCount(r, "per_ip")
	in.PerSubnet = readCount(r, "per_subnet")
	in.PerDomain = readCount(r, "per_domain")
	in.DeviceHash = r.String()
	in.InvitationUsed = r.Bool()
	return finish(r, "signup_risk input")
}

// AppendWire appends out's wire encoding to w.
func (out *SignupOutput) AppendWire(w *wire.Writer) {
	w.String(out.Action)
	w.Int(out.Score)
	appendStrings(w, out.Reasons)
}

// ReadWire decodes out from r, reusing out's slices, and checks the action
// and the score.
func (out *SignupOutput) ReadWire(r *wire.Reader) error {
	switch out.Action = r.String(); out.Action {
	case SignupAllow, SignupChallenge, SignupBlock:
	default:
		invalid(r, "action", out.Action)
	}
	if out.Score = r.Int(); out.Score < 0 || out.Score > 100 {
		invalid(r, "score", out.Score)
	}
	out.Reasons = readStrings(r, out.Reasons)
	return finish(r, "signup_risk output")
}
