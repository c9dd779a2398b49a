package main

import "github.com/plenum-vote/plenum/sdk"

// disposable lists well-known throw-away mail domains. The list is small
// on purpose: the host passes DomainHasMX, and velocity catches the rest.
var disposable = map[string]bool{
	"mailinator.com": true, "guerrillamail.com": true, "10minutemail.com": true, "tempmail.com": true,
	"temp-mail.org": true, "yopmail.com": true, "trashmail.com": true, "sharklasers.com": true,
	"getnada.com": true, "dispostable.com": true, "maildrop.cc": true, "throwawaymail.com": true,
}

var output = sdk.SignupOutput{Reasons: make([]string, 0, 4)}

func assess(in *sdk.SignupInput) (*sdk.SignupOutput, error) {
	out := &output
	out.Reasons = out.Reasons[:0]
	score := int64(0)
	if disposable[in.EmailDomain] {
		score += 60
		out.Reasons = append(out.Reasons, "disposable e-mail domain")
	}
	if !in.DomainHasMX {
		score += 50
		out.Reasons = append(out.Reasons, "the e-mail domain receives no mail")
	}
	switch {
	case in.PerIP > 20 || in.PerSubnet > 50:
		score += 50
		out.Reasons = append(out.Reasons, "many sign-ups from this network")
	case in.PerIP > 5 || in.PerDomain > 30:
		score += 25
		out.Reasons = append(out.Reasons, "several sign-ups from this address or domain")
	}
	if in.InvitationUsed {
		score -= 30 // an admin vouched for this person
	}
	score = max(0, min(score, 100))
	out.Score = score
	switch {
	case score >= 80:
		out.Action = "block"
	case score >= 40:
		out.Action = "challenge"
	default:
		out.Action = "allow"
	}
	return out, nil
}
