package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/mail"
	"github.com/plenum-vote/plenum/host/notify"
)

type capture struct{ msgs []mail.Message }

func (c *capture) Send(_ context.Context, m mail.Message) error {
	c.msgs = append(c.msgs, m)
	return nil
}

type tenants struct{}

func (tenants) Get(_ context.Context, id string) (*tenancy.Tenant, error) {
	if id != "t1" {
		return nil, tenancy.ErrNotFound
	}
	return &tenancy.Tenant{ID: "t1", Slug: "lakeside", Name: "Lakeside Gardens"}, nil
}

func TestNotices(t *testing.T) {
	exp := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	meta := identity.RequestMeta{IP: "192.0.2.7", UserAgent: "Firefox/140"}
	for _, tc := range []struct {
		kind    identity.NoticeKind
		subject string
		want    []string
	}{
		{identity.NoticeInvitation, "Your invitation to Lakeside Gardens", []string{"https://vote.example/t/lakeside/link/TOKEN", "Thursday 26 November 2026, 09:00 UTC"}},
		{identity.NoticePasswordReset, "Reset your password", []string{"https://vote.example/t/lakeside/link/TOKEN", "192.0.2.7"}},
		{identity.NoticeLockout, "locked", []string{"https://vote.example/t/lakeside/reset", "09:00 UTC"}},
		{identity.NoticeNewDevice, "New sign-in", []string{"Firefox/140", "https://vote.example/t/lakeside/account"}},
		{identity.NoticePasswordChanged, "was changed", []string{"signed out", "https://vote.example/t/lakeside/reset"}},
		{identity.NoticeFactorAdded, "second factor", []string{"An authenticator app was added"}},
		{identity.NoticeSignInCode, "sign-in code", []string{"TOKEN", "works once"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			c := &capture{}
			m := notify.New(c, tenants{}, "https://vote.example/")
			err := m.Notify(context.Background(), identity.Notice{Kind: tc.kind, TenantID: "t1", Email: "ada@example.org", Name: "Ada",
				Token: "TOKEN", Expires: exp, Meta: meta, Detail: "an authenticator app"})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.msgs) != 1 || c.msgs[0].To[0] != "ada@example.org" || !strings.Contains(c.msgs[0].Subject, tc.subject) {
				t.Fatalf("message = %+v", c.msgs)
			}
			for _, w := range append(tc.want, "Hello Ada,", "Lakeside Gardens") {
				if !strings.Contains(c.msgs[0].Text, w) {
					t.Errorf("text lacks %q:\n%s", w, c.msgs[0].Text)
				}
			}
			if c.msgs[0].Headers["X-Plenum-Notice"] != string(tc.kind) {
				t.Error("notice header missing")
			}
		})
	}
	m := notify.New(&capture{}, tenants{}, "https://vote.example")
	if err := m.Notify(context.Background(), identity.Notice{Kind: "bogus", TenantID: "t1", Email: "a@b.example"}); err == nil {
		t.Error("unknown notice sent")
	}
	if err := m.Notify(context.Background(), identity.Notice{Kind: identity.NoticeLockout, TenantID: "nope", Email: "a@b.example"}); !errors.Is(err, tenancy.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}
