// Package notify turns identity notices (invitations, reset links,
// lockouts, new sign-ins, new factors, sign-in codes) into e-mails and
// hands them to a mail sender.
//
// Messages are plain text, in English, and name the association. Links
// point at the host's public base URL. A notice's personal data (the
// address, the client's IP address) goes into the message only, never
// into a log line.
package notify

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/mail"
)

// Sender sends one message (host/mail's SMTP and file mailers).
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Tenants finds a tenant by id, for its name and path.
type Tenants interface {
	Get(ctx context.Context, id string) (*tenancy.Tenant, error)
}

// Mailer implements identity.Notifier with e-mail.
type Mailer struct {
	send    Sender
	tenants Tenants
	base    string
}

// New returns a Mailer that links to baseURL (e.g. https://vote.example).
func New(send Sender, tenants Tenants, baseURL string) *Mailer {
	return &Mailer{send: send, tenants: tenants, base: strings.TrimSuffix(baseURL, "/")}
}

// Notify implements identity.Notifier.
func (m *Mailer) Notify(ctx context.Context, n identity.Notice) error {
	t, err := m.tenants.Get(ctx, n.TenantID)
	if err != nil {
		return fmt.Errorf("notice %s: tenant: %w", n.Kind, err)
	}
	subject, body, err := m.compose(t, n)
	if err != nil {
		return err
	}
	msg := mail.Message{To: []string{n.Email}, Subject: subject, Text: body,
		Headers: map[string]string{"X-Plenum-Notice": string(n.Kind), "Auto-Submitted": "auto-generated"}}
	if err := m.send.Send(ctx, msg); err != nil {
		return fmt.Errorf("notice %s: %w", n.Kind, err)
	}
	return nil
}

func (m *Mailer) tenantURL(t *tenancy.Tenant, path string) string {
	return m.base + "/t/" + url.PathEscape(t.Slug) + path
}

func greeting(n identity.Notice) string {
	if n.Name != "" {
		return "Hello " + n.Name + ",\n\n"
	}
	return "Hello,\n\n"
}

func when(t time.Time) string { return t.UTC().Format("Monday 2 January 2006, 15:04 UTC") }

func from(n identity.Notice) string {
	var parts []string
	if n.Meta.IP != "" {
		parts = append(parts, "address "+n.Meta.IP)
	}
	if n.Meta.UserAgent != "" {
		ua := n.Meta.UserAgent
		if len(ua) > 120 {
			ua = ua[:120] + "…"
		}
		parts = append(parts, "browser "+ua)
	}
	if len(parts) == 0 {
		return ""
	}
	return "It came from " + strings.Join(parts, ", ") + ".\n"
}

const footer = "\n-- \nThis message was sent by Plenum for %s. You cannot reply to it.\n"

// compose returns the subject and text of a notice.
func (m *Mailer) compose(t *tenancy.Tenant, n identity.Notice) (string, string, error) {
	var b strings.Builder
	b.WriteString(greeting(n))
	var subject string
	switch n.Kind {
	case identity.NoticeInvitation:
		subject = "Your invitation to " + t.Name
		fmt.Fprintf(&b, "%s invites you to its space on Plenum, where members vote and receive the association's messages.\n\n", t.Name)
		fmt.Fprintf(&b, "Choose your password here (the link works once, until %s):\n\n%s\n\n", when(n.Expires), m.tenantURL(t, "/link/"+n.Token))
		b.WriteString("If you did not expect this invitation, ignore this message.\n")
	case identity.NoticePasswordReset:
		subject = "Reset your password for " + t.Name
		fmt.Fprintf(&b, "Someone asked to reset the password of your account with %s.\n\n", t.Name)
		fmt.Fprintf(&b, "Choose a new password here (the link works once, until %s):\n\n%s\n\n", when(n.Expires), m.tenantURL(t, "/link/"+n.Token))
		b.WriteString("If it was not you, ignore this message: your password stays as it is.\n")
		b.WriteString(from(n))
	case identity.NoticeLockout:
		subject = "Your account with " + t.Name + " is locked for a while"
		fmt.Fprintf(&b, "After several wrong passwords, your account is locked until %s.\n\n", when(n.Expires))
		b.WriteString("If it was you, wait and try again, or reset your password:\n\n" + m.tenantURL(t, "/reset") + "\n\n")
		b.WriteString("If it was not you, someone may be guessing your password. Your account is safe while it is locked; consider turning on a second factor.\n")
		b.WriteString(from(n))
	case identity.NoticeNewDevice:
		subject = "New sign-in to your account with " + t.Name
		fmt.Fprintf(&b, "Your account was signed in to from a browser it had not used before, at %s.\n", when(time.Now()))
		b.WriteString(from(n))
		b.WriteString("\nIf it was you, there is nothing to do. If not, change your password and sign out the other sessions:\n\n" + m.tenantURL(t, "/account") + "\n")
	case identity.NoticePasswordChanged:
		subject = "Your password for " + t.Name + " was changed"
		fmt.Fprintf(&b, "The password of your account was changed at %s, and your other sessions were signed out.\n", when(time.Now()))
		b.WriteString(from(n))
		b.WriteString("\nIf it was not you, reset your password now and tell your association:\n\n" + m.tenantURL(t, "/reset") + "\n")
	case identity.NoticeFactorAdded:
		subject = "A second factor was added to your account with " + t.Name
		fmt.Fprintf(&b, "%s was added as a second factor to your account at %s.\n", capital(n.Detail), when(time.Now()))
		b.WriteString(from(n))
		b.WriteString("\nIf it was not you, tell your association's administrators at once.\n")
	case identity.NoticeSignInCode:
		subject = "Your sign-in code for " + t.Name
		fmt.Fprintf(&b, "Your code is:\n\n    %s\n\nIt works once, until %s. Nobody from the association will ever ask you for it.\n", n.Token, when(n.Expires))
		b.WriteString(from(n))
	case identity.NoticeBallotReminder:
		subject = "Reminder: vote on " + n.Detail
		fmt.Fprintf(&b, "Your unit has not voted yet on \"%s\". Voting closes %s.\n\n", n.Detail, when(n.Expires))
		fmt.Fprintf(&b, "Vote here:\n\n%s\n\nIf your unit has several owners, one vote counts for all of them.\n", m.tenantURL(t, "/ballots/"+n.Token))
	default:
		return "", "", fmt.Errorf("notice %q: no message for it", n.Kind)
	}
	fmt.Fprintf(&b, footer, t.Name)
	return subject, b.String(), nil
}

func capital(s string) string {
	if s == "" {
		return "A factor"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
