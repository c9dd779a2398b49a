package mailtest_test

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/testkit/mailtest"
)

const plainMsg = "From: Plenum <noreply@plenum.test>\r\n" +
	"To: jane@example.org\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Plenum\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Hallo J=C3=BCrgen,\r\n" +
	"bitte best=C3=A4tigen: https://plenum.test/verify/abc123. Danke!\r\n"

const multipartMsg = "From: noreply@plenum.test\r\n" +
	"To: bob@example.org\r\n" +
	"Subject: Hi\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Open https://plenum.test/a?x=3D1\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+SGk8L3A+\r\n" +
	"--XYZ--\r\n"

func TestServerCaptures(t *testing.T) {
	srv := mailtest.Start(t)
	if err := smtp.SendMail(srv.Addr(), nil, "noreply@plenum.test", []string{"jane@example.org"}, []byte(plainMsg)); err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(srv.Addr(), nil, "noreply@plenum.test", []string{"bob@example.org"}, []byte(multipartMsg)); err != nil {
		t.Fatal(err)
	}
	c := srv.WaitFor(t, "JANE@example.org", time.Second)
	if c.From != "noreply@plenum.test" || len(c.To) != 1 || c.To[0] != "jane@example.org" {
		t.Errorf("envelope = %q -> %q", c.From, c.To)
	}
	if c.Subject != "Grüße aus Plenum" {
		t.Errorf("Subject = %q", c.Subject)
	}
	if !strings.Contains(c.Text, "Hallo Jürgen,") || c.TLS || c.ParseErr != nil {
		t.Errorf("Text = %q, TLS = %v, ParseErr = %v", c.Text, c.TLS, c.ParseErr)
	}
	if link, ok := mailtest.FindLink(c, "https://plenum.test/verify/"); !ok || link != "https://plenum.test/verify/abc123" {
		t.Errorf("FindLink = %q, %v", link, ok)
	}

	m := srv.WaitFor(t, "bob@example.org", time.Second)
	if m.Text != "Open https://plenum.test/a?x=1" || m.HTML != "<p>Hi</p>" {
		t.Errorf("multipart Text = %q, HTML = %q", m.Text, m.HTML)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("Messages() has %d messages, want 2", n)
	}
	if srv.Host() != "127.0.0.1" || srv.Port() == 0 || srv.RootCAs() != nil {
		t.Errorf("Host, Port, RootCAs = %q, %d, %v", srv.Host(), srv.Port(), srv.RootCAs())
	}
}

func TestWaitForLater(t *testing.T) {
	srv := mailtest.Start(t)
	go func() {
		time.Sleep(50 * time.Millisecond)
		smtp.SendMail(srv.Addr(), nil, "a@plenum.test", []string{"late@example.org"}, []byte(plainMsg))
	}()
	c := srv.WaitFor(t, "late@example.org", 5*time.Second)
	if c.Subject == "" {
		t.Error("empty subject")
	}
}

func TestSTARTTLSAndAuth(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("mailer", "s3cret"))
	send := func(pass string) error {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.StartTLS(&tls.Config{ServerName: "localhost", RootCAs: srv.RootCAs()}); err != nil {
			return err
		}
		if err := c.Auth(smtp.PlainAuth("", "mailer", pass, srv.Host())); err != nil {
			return err
		}
		if err := c.Mail("noreply@plenum.test"); err != nil {
			return err
		}
		if err := c.Rcpt("tls@example.org"); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		w.Write([]byte(plainMsg))
		if err := w.Close(); err != nil {
			return err
		}
		return c.Quit()
	}
	var te *textproto.Error
	if err := send("wrong"); !errors.As(err, &te) || te.Code != 535 {
		t.Fatalf("AUTH with a wrong password = %v, want a 535", err)
	}
	if err := send("s3cret"); err != nil {
		t.Fatal(err)
	}
	c := srv.WaitFor(t, "tls@example.org", time.Second)
	if !c.TLS || c.Username != "mailer" {
		t.Errorf("TLS = %v, Username = %q", c.TLS, c.Username)
	}

	// MAIL before AUTH is refused.
	cl, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Mail("x@plenum.test"); err == nil {
		t.Error("MAIL without AUTH accepted")
	}
}

func TestRejectRecipient(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithRejectRecipient("bounce"))
	err := smtp.SendMail(srv.Addr(), nil, "a@plenum.test", []string{"Bounce@example.org"}, []byte(plainMsg))
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 {
		t.Fatalf("SendMail = %v, want a 550", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages captured", n)
	}
}

func TestFindLink(t *testing.T) {
	tests := []struct {
		text, prefix, want string
		ok                 bool
	}{
		{"Go to https://x.test/a/b now", "https://x.test/a/", "https://x.test/a/b", true},
		{"Link: https://x.test/a/b.", "https://x.test/", "https://x.test/a/b", true},
		{"(https://x.test/q?x=1)", "https://x.test/", "https://x.test/q?x=1", true},
		{"<https://x.test/z>", "https://x.test/", "https://x.test/z", true},
		{"see http://evil.test/?u=https://x.test/a then https://x.test/b", "https://x.test/", "https://x.test/b", true},
		{"no link here", "https://x.test/", "", false},
		{"https://x.test/end", "https://x.test/", "https://x.test/end", true},
	}
	for _, tt := range tests {
		got, ok := mailtest.FindLink(mailtest.Captured{Text: tt.text}, tt.prefix)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FindLink(%q, %q) = %q, %v; want %q, %v", tt.text, tt.prefix, got, ok, tt.want, tt.ok)
		}
	}
}
