// Package mail sends Plenum's outgoing e-mail: sign-up confirmations,
// password resets, invitations to vote.
//
// Callers build a [Message] and hand it to a [Sender]. Three senders are
// provided: [SMTP] speaks SMTP to a relay (STARTTLS, implicit TLS, or
// plain text to a loopback host only), [File] writes each message as an
// .eml file for the embedded default setup, and [Console] prints
// messages for `plenum serve` in development.
//
// Every sender builds the same RFC 5322 message: Date, Message-ID and
// MIME-Version headers, a UTF-8 text/plain body in quoted-printable
// encoding, or a multipart/alternative body when the message has HTML,
// and RFC 2047 encoded words for non-ASCII header values. Carriage
// returns and line feeds in header values and addresses are rejected
// with [ErrHeaderInjection], and addresses are validated with net/mail.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one e-mail to send.
type Message struct {
	// To holds the recipients, each an address ("jane@example.org") or
	// an address with a name ("Jane Doe <jane@example.org>"). At least
	// one is required.
	To []string
	// From is the sender; empty means the sender's configured default.
	From string
	// Subject is the subject line, in any script.
	Subject string
	// Text is the plain-text body. Line breaks may be "\n" or "\r\n".
	Text string
	// HTML is an optional HTML body; when set the message is
	// multipart/alternative with Text as the plain alternative.
	HTML string
	// Headers holds optional extra headers, such as "X-Plenum-Tenant" or
	// "Reply-To". Headers the sender writes itself (From, To, Subject,
	// Date, Message-ID, MIME and Content headers, Cc, Bcc, Sender,
	// Return-Path) may not be set here.
	Headers map[string]string
}

// Sender sends messages. It is what callers consume; a caller may
// declare its own equivalent interface.
type Sender interface {
	// Send delivers m, or hands it to a relay that will, before ctx is
	// done.
	Send(ctx context.Context, m Message) error
}

// ErrHeaderInjection is returned, wrapped, when a header value or an
// address holds a carriage return, a line feed or a NUL byte, which could
// smuggle extra headers into the message.
var ErrHeaderInjection = errors.New("mail: line break in header value")

// ErrInvalidMessage is returned, wrapped, for a message that cannot be
// sent as is: no recipients, a malformed address, a reserved or
// malformed extra header.
var ErrInvalidMessage = errors.New("mail: invalid message")

// isReserved reports whether the canonical header name k is one the
// builder writes itself.
func isReserved(k string) bool {
	switch k {
	case "Bcc", "Cc", "Content-Transfer-Encoding", "Content-Type", "Date", "From",
		"Message-Id", "Mime-Version", "Return-Path", "Sender", "Subject", "To":
		return true
	}
	return false
}

// maxHeaderValue is the longest header value accepted, in bytes.
const maxHeaderValue = 900

// checkHeaderValue rejects header values that could inject headers.
func checkHeaderValue(name, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("%w: %s", ErrHeaderInjection, name)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidMessage, name)
	}
	if len(v) > maxHeaderValue {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidMessage, name, maxHeaderValue)
	}
	return nil
}

// parseAddress validates one address; name is used in errors.
func parseAddress(name, s string) (*mail.Address, error) {
	if err := checkHeaderValue(name, s); err != nil {
		return nil, err
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s address: %v", ErrInvalidMessage, name, err)
	}
	return a, nil
}

// envelope is a validated message, ready to be written.
type envelope struct {
	from *mail.Address
	to   []*mail.Address
	msg  Message
}

// validate checks m and resolves its sender; defaultFrom is used when
// m.From is empty.
func validate(m Message, defaultFrom string) (*envelope, error) {
	from := m.From
	if from == "" {
		from = defaultFrom
	}
	if from == "" {
		return nil, fmt.Errorf("%w: no sender", ErrInvalidMessage)
	}
	e := &envelope{msg: m}
	var err error
	if e.from, err = parseAddress("From", from); err != nil {
		return nil, err
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("%w: no recipients", ErrInvalidMessage)
	}
	for _, t := range m.To {
		a, err := parseAddress("To", t)
		if err != nil {
			return nil, err
		}
		e.to = append(e.to, a)
	}
	if err := checkHeaderValue("Subject", m.Subject); err != nil {
		return nil, err
	}
	for k, v := range m.Headers {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("%w: header name %q", ErrInvalidMessage, k)
		}
		if isReserved(textproto.CanonicalMIMEHeaderKey(k)) {
			return nil, fmt.Errorf("%w: header %s is set by the mailer", ErrInvalidMessage, k)
		}
		if err := checkHeaderValue(k, v); err != nil {
			return nil, err
		}
	}
	if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrInvalidMessage)
	}
	return e, nil
}

// validHeaderName reports whether k is a field name per RFC 5322: one or
// more printable ASCII characters other than the colon.
func validHeaderName(k string) bool {
	if k == "" || len(k) > 76 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// recipients returns the envelope recipients' bare addresses.
func (e *envelope) recipients() []string {
	out := make([]string, len(e.to))
	for i, a := range e.to {
		out[i] = a.Address
	}
	return out
}

// encodeHeader returns v as RFC 2047 encoded words when it is not plain
// ASCII, folded between words.
func encodeHeader(v string) string {
	enc := mime.QEncoding.Encode("utf-8", v)
	return strings.ReplaceAll(enc, "?= =?utf-8?q?", "?=\r\n =?utf-8?q?")
}

// sortedKeys returns the keys of h, sorted.
func sortedKeys(h map[string]string) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mail: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// bytes returns the complete RFC 5322 message, with CRLF line ends.
func (e *envelope) bytes(now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	header := func(k, v string) {
		buf.WriteString(k)
		buf.WriteString(": ")
		buf.WriteString(v)
		buf.WriteString("\r\n")
	}
	id, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	domain := "plenum.invalid"
	if i := strings.LastIndexByte(e.from.Address, '@'); i >= 0 && i+1 < len(e.from.Address) {
		domain = e.from.Address[i+1:]
	}
	to := make([]string, len(e.to))
	for i, a := range e.to {
		to[i] = a.String()
	}

	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+"@"+domain+">")
	header("From", e.from.String())
	header("To", strings.Join(to, ",\r\n "))
	header("Subject", encodeHeader(e.msg.Subject))
	for _, k := range sortedKeys(e.msg.Headers) {
		header(textproto.CanonicalMIMEHeaderKey(k), encodeHeader(e.msg.Headers[k]))
	}
	header("MIME-Version", "1.0")

	if e.msg.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, e.msg.Text); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}

	mw := multipart.NewWriter(&buf)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	buf.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", e.msg.Text}, {"text/html", e.msg.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail: build %s part: %w", part.typ, err)
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: build multipart: %w", err)
	}
	return buf.Bytes(), nil
}

// writeQP writes s quoted-printable encoded, its line breaks as CRLF,
// ending in a line break.
func writeQP(w io.Writer, s string) error {
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, s); err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	return nil
}
