package mail

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Message{To: []string{"jane@example.org"}, Subject: "Hi", Text: "Hello"}
	with := func(f func(m *Message)) Message {
		m := ok
		m.Headers = map[string]string{}
		f(&m)
		return m
	}
	tests := []struct {
		name string
		m    Message
		from string
		want error // nil: valid
	}{
		{"ok", ok, "noreply@plenum.test", nil},
		{"ok named", with(func(m *Message) { m.To = []string{"Jane Doe <jane@example.org>", "bob@example.org"} }), "Plenum <noreply@plenum.test>", nil},
		{"ok own from", with(func(m *Message) { m.From = "board@plenum.test" }), "", nil},
		{"ok extra header", with(func(m *Message) { m.Headers["X-Plenum-Tenant"] = "Résidence" }), "noreply@plenum.test", nil},
		{"no sender", ok, "", ErrInvalidMessage},
		{"no recipients", with(func(m *Message) { m.To = nil }), "noreply@plenum.test", ErrInvalidMessage},
		{"bad address", with(func(m *Message) { m.To = []string{"not an address"} }), "noreply@plenum.test", ErrInvalidMessage},
		{"bad from", ok, "nobody", ErrInvalidMessage},
		{"subject CRLF", with(func(m *Message) { m.Subject = "Hi\r\nBcc: evil@example.org" }), "noreply@plenum.test", ErrHeaderInjection},
		{"subject LF", with(func(m *Message) { m.Subject = "Hi\nBcc: evil@example.org" }), "noreply@plenum.test", ErrHeaderInjection},
		{"to CRLF", with(func(m *Message) { m.To = []string{"jane@example.org\r\nBcc: evil@example.org"} }), "noreply@plenum.test", ErrHeaderInjection},
		{"from CR", with(func(m *Message) { m.From = "a@plenum.test\rX: y" }), "", ErrHeaderInjection},
		{"header value LF", with(func(m *Message) { m.Headers["X-Plenum-Tenant"] = "a\nBcc: evil@example.org" }), "noreply@plenum.test", ErrHeaderInjection},
		{"header name colon", with(func(m *Message) { m.Headers["X-A: b\r\nBcc"] = "x" }), "noreply@plenum.test", ErrInvalidMessage},
		{"header reserved", with(func(m *Message) { m.Headers["bcc"] = "evil@example.org" }), "noreply@plenum.test", ErrInvalidMessage},
		{"subject too long", with(func(m *Message) { m.Subject = strings.Repeat("a", 1000) }), "noreply@plenum.test", ErrInvalidMessage},
		{"invalid utf8 body", with(func(m *Message) { m.Text = "\xff" }), "noreply@plenum.test", ErrInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validate(tt.m, tt.from)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func build(t *testing.T, m Message) (*mail.Message, []byte) {
	t.Helper()
	e, err := validate(m, "Plenum <noreply@plenum.test>")
	if err != nil {
		t.Fatal(err)
	}
	data, err := e.bytes(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if line != "" && !strings.HasSuffix(line, "\r\n") {
			t.Errorf("line %d %q does not end in CRLF", i, line)
		}
		if len(line) > 1000 {
			t.Errorf("line %d is %d bytes long", i, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("built message does not parse: %v\n%s", err, data)
	}
	return msg, data
}

func TestBuildPlain(t *testing.T) {
	subject := "Grüße aus dem Büro — Abstimmung über die Dachsanierung und die neue Hausordnung 2027"
	text := "Hallo Jürgen,\n.a line starting with a dot\nhttps://plenum.test/verify/" + strings.Repeat("x", 100) + "\n"
	msg, _ := build(t, Message{
		To:      []string{"Jürgen Müller <juergen@example.org>"},
		Subject: subject,
		Text:    text,
		Headers: map[string]string{"x-plenum-tenant": "stadtpark"},
	})
	h := msg.Header
	dec := new(mime.WordDecoder)
	if got, err := dec.DecodeHeader(h.Get("Subject")); err != nil || got != subject {
		t.Errorf("Subject = %q (%v), want %q", got, err, subject)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Jürgen Müller" || to[0].Address != "juergen@example.org" {
		t.Errorf("To = %v, %v", to, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("Date = %v, %v", d, err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@plenum.test>") {
		t.Errorf("Message-ID = %q", id)
	}
	for k, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"X-Plenum-Tenant":           "stadtpark",
		"From":                      "\"Plenum\" <noreply@plenum.test>",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); string(body) != want {
		t.Errorf("body = %q, want %q", body, want)
	}
}

func TestBuildMultipart(t *testing.T) {
	msg, _ := build(t, Message{To: []string{"jane@example.org"}, Subject: "Hi", Text: "Plain ü", HTML: "<p>HTML ü</p>"})
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var got []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		got = append(got, p.Header.Get("Content-Type")+"|"+string(b))
	}
	want := []string{"text/plain; charset=utf-8|Plain ü\r\n", "text/html; charset=utf-8|<p>HTML ü</p>\r\n"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parts = %q, want %q", got, want)
	}
}
