package main

import (
	"net/url"
	"strings"

	"github.com/plenum-vote/plenum/sdk"
)

var output = sdk.ScanMessageOutput{Reasons: make([]sdk.Finding, 0, 8)}

var dangerous = []string{".exe", ".scr", ".js", ".vbs", ".bat", ".cmd", ".jar", ".hta", ".iso", ".img", ".lnk", ".ps1", ".msi"}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.TrimRight(addr[i+1:], ">"))
	}
	return ""
}

func scan(in *sdk.ScanMessageInput) (*sdk.ScanMessageOutput, error) {
	out := &output
	out.Reasons = out.Reasons[:0]
	score := int64(0)
	add := func(points int64, rule, sev, msg string) {
		score += points
		out.Reasons = append(out.Reasons, sdk.Finding{Rule: rule, Severity: sev, Message: msg})
	}
	from := domainOf(in.From)
	own := false
	for _, d := range in.TenantDomains {
		if strings.EqualFold(d, from) {
			own = true
		}
	}
	switch in.DMARC {
	case "fail":
		add(60, "dmarc-fail", "high", "DMARC failed: the sender's domain does not vouch for this message")
	case "temperror", "permerror":
		add(10, "dmarc-error", "low", "DMARC could not be evaluated")
	}
	if in.SPF == "fail" {
		add(30, "spf-fail", "medium", "SPF failed")
	} else if in.SPF == "softfail" {
		add(10, "spf-softfail", "low", "SPF soft-failed")
	}
	if in.DKIM == "fail" {
		add(20, "dkim-fail", "medium", "DKIM signature invalid")
	}
	if own && in.DMARC != "pass" && in.DKIM != "pass" && in.SPF != "pass" {
		add(60, "own-domain-unauthenticated", "high", "claims to come from the association's own domain without authentication")
	}
	name := strings.ToLower(in.DisplayName)
	if !own && name != "" {
		for _, d := range in.TenantDomains {
			if d != "" && strings.Contains(name, strings.ToLower(d)) {
				add(50, "display-name-spoof", "high", "the display name names the association's domain, the address does not")
			}
		}
		if tn := strings.ToLower(strings.TrimSpace(in.TenantName)); len(tn) > 3 && strings.Contains(name, tn) {
			add(50, "display-name-spoof", "high", "the display name names the association, the address is outside it")
		}
	}
	if in.ReplyTo != "" && domainOf(in.ReplyTo) != from {
		add(20, "reply-to-mismatch", "medium", "replies would go to another domain than the sender's")
	}
	for _, l := range in.Links {
		u, err := url.Parse(strings.TrimSpace(l.Href))
		if err != nil || u.Host == "" {
			continue
		}
		host := strings.ToLower(u.Hostname())
		text := strings.ToLower(l.Text)
		if strings.Contains(text, ".") && (strings.HasPrefix(text, "http") || strings.HasPrefix(text, "www.")) && !strings.Contains(text, host) {
			add(30, "link-text-mismatch", "high", "a link shows one address and goes to "+host)
		}
		if strings.Trim(host, "0123456789.") == "" || strings.HasPrefix(host, "[") {
			add(25, "ip-literal-link", "medium", "a link goes to a bare IP address")
		}
	}
	for _, a := range in.Attachments {
		lower := strings.ToLower(a.Name)
		for _, ext := range dangerous {
			if strings.HasSuffix(lower, ext) {
				add(60, "dangerous-attachment", "high", "attachment "+a.Name+" runs code when opened")
			}
		}
		if a.Verdict == "malicious" {
			add(100, "malicious-attachment", "critical", "attachment "+a.Name+" is malicious")
		} else if a.Verdict == "suspicious" {
			add(40, "suspicious-attachment", "medium", "attachment "+a.Name+" is suspicious")
		}
	}
	out.Score = min(score, 100)
	switch {
	case score >= 100:
		out.Verdict = "reject"
	case score >= 50:
		out.Verdict = "quarantine"
	default:
		out.Verdict = "deliver"
	}
	return out, nil
}
