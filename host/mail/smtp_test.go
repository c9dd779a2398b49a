package mail_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/mail"
	"github.com/plenum-vote/plenum/testkit/mailtest"
)

func newSMTP(t *testing.T, cfg mail.SMTPConfig) *mail.SMTP {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Plenum <noreply@plenum.test>"
	}
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSend(t *testing.T) {
	srv := mailtest.Start(t)
	s := newSMTP(t, mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone})
	subject := "Einladung zur Abstimmung — Grüße 🦊"
	err := s.Send(context.Background(), mail.Message{
		To:      []string{"Jane Doe <jane@example.org>", "bob@example.org"},
		Subject: subject,
		Text:    "Hallo,\n.\nbitte abstimmen: https://plenum.test/vote/abc?x=1\n",
		HTML:    "<p>Hallo</p>",
		Headers: map[string]string{"X-Plenum-Tenant": "stadtpark"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.WaitFor(t, "jane@example.org", 5*time.Second)
	if c.From != "noreply@plenum.test" || strings.Join(c.To, ",") != "jane@example.org,bob@example.org" {
		t.Errorf("envelope %q -> %q", c.From, c.To)
	}
	if c.ParseErr != nil {
		t.Fatal(c.ParseErr)
	}
	if c.Subject != subject {
		t.Errorf("Subject = %q, want %q", c.Subject, subject)
	}
	if want := "Hallo,\r\n.\r\nbitte abstimmen: https://plenum.test/vote/abc?x=1\r\n"; c.Text != want {
		t.Errorf("Text = %q, want %q", c.Text, want)
	}
	if !strings.Contains(c.HTML, "<p>Hallo</p>") {
		t.Errorf("HTML = %q", c.HTML)
	}
	if got := c.Header.Get("X-Plenum-Tenant"); got != "stadtpark" {
		t.Errorf("X-Plenum-Tenant = %q", got)
	}
	if link, ok := mailtest.FindLink(c, "https://plenum.test/vote/"); !ok || link != "https://plenum.test/vote/abc?x=1" {
		t.Errorf("FindLink = %q, %v", link, ok)
	}
	if c.TLS {
		t.Error("TLS used with TLSNone")
	}
}

func TestSMTPStartTLSAuth(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("mailer", "s3cret"))
	s := newSMTP(t, mail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "s3cret",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs()},
	})
	if err := s.Send(context.Background(), mail.Message{To: []string{"jane@example.org"}, Subject: "TLS", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	c := srv.WaitFor(t, "jane@example.org", 5*time.Second)
	if !c.TLS || c.Username != "mailer" {
		t.Errorf("TLS = %v, Username = %q", c.TLS, c.Username)
	}

	// Wrong password: the server's 535 is returned.
	bad := newSMTP(t, mail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "wrong",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs()},
	})
	err := bad.Send(context.Background(), mail.Message{To: []string{"jane@example.org"}, Text: "x"})
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 535 {
		t.Errorf("Send with wrong password = %v, want a 535", err)
	}

	// Without the test CA the certificate is not trusted.
	untrusted := newSMTP(t, mail.SMTPConfig{Host: srv.Host(), Port: srv.Port()})
	err = untrusted.Send(context.Background(), mail.Message{To: []string{"jane@example.org"}, Text: "x"})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("Send with untrusted certificate = %v, want an unknown authority error", err)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithImplicitTLS(), mailtest.WithAuth("mailer", "s3cret"))
	s := newSMTP(t, mail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSImplicit, Username: "mailer", Password: "s3cret",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs()},
	})
	if err := s.Send(context.Background(), mail.Message{To: []string{"jane@example.org"}, Subject: "TLS", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if c := srv.WaitFor(t, "jane@example.org", 5*time.Second); !c.TLS || c.Username != "mailer" {
		t.Errorf("TLS = %v, Username = %q", c.TLS, c.Username)
	}
}

func TestSMTPStartTLSRequired(t *testing.T) {
	srv := mailtest.Start(t) // no STARTTLS
	s := newSMTP(t, mail.SMTPConfig{Host: srv.Host(), Port: srv.Port()})
	err := s.Send(context.Background(), mail.Message{To: []string{"jane@example.org"}, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send = %v, want a STARTTLS error", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent in plain text", n)
	}
}

func TestSMTPRecipientRejected(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithRejectRecipient("bounce"))
	s := newSMTP(t, mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone})
	err := s.Send(context.Background(), mail.Message{To: []string{"jane@example.org", "bounce@example.org"}, Text: "x"})
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 {
		t.Fatalf("Send = %v, want a 550", err)
	}
	if strings.Contains(err.Error(), "bounce@example.org") {
		t.Errorf("error %q names the recipient", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	srv := mailtest.Start(t)
	s := newSMTP(t, mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone})
	for _, m := range []mail.Message{
		{To: []string{"jane@example.org"}, Subject: "Hi\r\nBcc: evil@example.org"},
		{To: []string{"jane@example.org\nBcc: evil@example.org"}},
		{To: []string{"jane@example.org"}, Headers: map[string]string{"X-Plenum-Tenant": "a\r\nBcc: evil@example.org"}},
	} {
		if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrHeaderInjection) {
			t.Errorf("Send(%+v) = %v, want ErrHeaderInjection", m, err)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSMTPContext(t *testing.T) {
	// A server that accepts connections and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	s := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: addr.Port, TLS: mail.TLSNone})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, mail.Message{To: []string{"jane@example.org"}, Text: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := s.Send(ctx, mail.Message{To: []string{"jane@example.org"}, Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}

	short := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: addr.Port, TLS: mail.TLSNone, SendTimeout: 50 * time.Millisecond})
	if err := short.Send(context.Background(), mail.Message{To: []string{"jane@example.org"}, Text: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send with SendTimeout = %v, want context.DeadlineExceeded", err)
	}
}

func TestNewSMTP(t *testing.T) {
	tests := []struct {
		name string
		cfg  mail.SMTPConfig
		ok   bool
	}{
		{"starttls default", mail.SMTPConfig{Host: "smtp.example.org", From: "a@plenum.test"}, true},
		{"implicit", mail.SMTPConfig{Host: "smtp.example.org", From: "a@plenum.test", TLS: mail.TLSImplicit}, true},
		{"none loopback", mail.SMTPConfig{Host: "127.0.0.1", From: "a@plenum.test", TLS: mail.TLSNone}, true},
		{"none localhost", mail.SMTPConfig{Host: "localhost", From: "a@plenum.test", TLS: mail.TLSNone}, true},
		{"none ipv6 loopback", mail.SMTPConfig{Host: "::1", From: "a@plenum.test", TLS: mail.TLSNone}, true},
		{"none remote", mail.SMTPConfig{Host: "smtp.example.org", From: "a@plenum.test", TLS: mail.TLSNone}, false},
		{"none private ip", mail.SMTPConfig{Host: "10.0.0.1", From: "a@plenum.test", TLS: mail.TLSNone}, false},
		{"unknown mode", mail.SMTPConfig{Host: "smtp.example.org", From: "a@plenum.test", TLS: "ssl"}, false},
		{"no host", mail.SMTPConfig{From: "a@plenum.test"}, false},
		{"no from", mail.SMTPConfig{Host: "smtp.example.org"}, false},
		{"bad from", mail.SMTPConfig{Host: "smtp.example.org", From: "nobody"}, false},
		{"bad port", mail.SMTPConfig{Host: "smtp.example.org", From: "a@plenum.test", Port: 70000}, false},
		{"bad helo", mail.SMTPConfig{Host: "smtp.example.org", From: "a@plenum.test", HELOName: "a\r\nMAIL"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.NewSMTP(tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("NewSMTP = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
