// Package mailtest runs an in-process SMTP server for tests.
//
// [Start] listens on 127.0.0.1 on a free port, accepts every message
// (unless told to reject some recipients) and keeps it in memory as a
// [Captured] value, with its subject and text body decoded, so that tests
// can check what was sent and follow the links in it:
//
//	srv := mailtest.Start(t, mailtest.WithSTARTTLS())
//	// ... configure the mailer with srv.Host(), srv.Port(), srv.RootCAs()
//	msg := srv.WaitFor(t, "jane@example.org", 5*time.Second)
//	link, ok := mailtest.FindLink(msg, "https://plenum.example/verify/")
//
// The server is built on github.com/emersion/go-smtp. It can offer
// STARTTLS or implicit TLS with a self-signed certificate generated at
// start, require AUTH PLAIN, and answer 550 to chosen recipients.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Captured is one message the server accepted.
type Captured struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To holds the envelope recipients (RCPT TO).
	To []string
	// Data is the message as received, headers and body.
	Data []byte
	// Header holds the parsed header; nil when the message could not be
	// parsed.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Text is the decoded text/plain body, the first text/plain part of
	// a multipart message.
	Text string
	// HTML is the decoded text/html part, if any.
	HTML string
	// TLS reports whether the message arrived over TLS.
	TLS bool
	// Username is the AUTH PLAIN user name, empty without AUTH.
	Username string
	// ParseErr is set when the message could not be parsed; Data is
	// still there.
	ParseErr error
}

// Option configures a [Server].
type Option func(*config)

type config struct {
	startTLS    bool
	implicitTLS bool
	user, pass  string
	auth        bool
	reject      []string
	maxBytes    int64
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate for 127.0.0.1 and localhost; trust it with
// [Server.RootCAs].
func WithSTARTTLS() Option { return func(c *config) { c.startTLS = true } }

// WithImplicitTLS makes the server speak TLS from the first byte (SMTPS)
// with a self-signed certificate; trust it with [Server.RootCAs].
func WithImplicitTLS() Option { return func(c *config) { c.implicitTLS = true } }

// WithAuth makes the server offer AUTH PLAIN, accept only the given
// credentials and refuse MAIL FROM before a successful AUTH.
func WithAuth(username, password string) Option {
	return func(c *config) { c.auth, c.user, c.pass = true, username, password }
}

// WithRejectRecipient makes the server answer "550 5.1.1 mailbox
// unavailable" to every RCPT TO address containing substr
// (case-insensitively). It may be given more than once.
func WithRejectRecipient(substr string) Option {
	return func(c *config) { c.reject = append(c.reject, strings.ToLower(substr)) }
}

// WithMaxMessageBytes limits the size of a message the server accepts.
// The default is 10 MiB.
func WithMaxMessageBytes(n int64) Option { return func(c *config) { c.maxBytes = n } }

// Server is a running in-process SMTP server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     config
	srv     *smtp.Server
	addr    *net.TCPAddr
	roots   *x509.CertPool
	mu      sync.Mutex
	msgs    []Captured
	changed chan struct{} // closed and replaced when a message arrives
}

// Start starts a server on 127.0.0.1 on a free port. It is closed by
// t.Cleanup. Start calls t.Fatal when the server cannot start.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{changed: make(chan struct{})}
	s.cfg.maxBytes = 10 << 20
	for _, o := range opts {
		o(&s.cfg)
	}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = s.cfg.maxBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	logger := &testLogger{t: t}
	srv.ErrorLog = logger

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if s.cfg.startTLS || s.cfg.implicitTLS {
		cert, roots, err := selfSigned()
		if err != nil {
			ln.Close()
			t.Fatalf("mailtest: %v", err)
		}
		s.roots = roots
		tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.cfg.implicitTLS {
			ln = tls.NewListener(ln, tlsCfg)
		} else {
			srv.TLSConfig = tlsCfg
		}
	}
	s.srv = srv
	s.addr = ln.Addr().(*net.TCPAddr)

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("mailtest: serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		// Close misses a listener that Serve has not registered yet.
		ln.Close()
		<-done
		logger.stop()
	})
	return s
}

// testLogger sends the server's error log to t.Log until the test ends;
// connection handlers may still log after that.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// Printf logs a formatted line.
func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("mailtest: "+format, v...)
	}
}

// Println logs a line.
func (l *testLogger) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(append([]any{"mailtest:"}, v...)...)
	}
}

// Addr returns the server's address as host:port.
func (s *Server) Addr() string { return s.addr.String() }

// Host returns the server's IP address, "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.addr.Port }

// RootCAs returns a pool holding the server's self-signed certificate,
// or nil when the server runs without TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages returns a copy of the messages received so far, oldest first.
func (s *Server) Messages() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Captured, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// WaitFor returns the first message with to among its envelope
// recipients (compared case-insensitively), waiting up to timeout for it
// to arrive; it calls t.Fatal when none does.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Captured {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, m := range s.msgs {
			for _, rcpt := range m.To {
				if strings.EqualFold(rcpt, to) {
					s.mu.Unlock()
					return m
				}
			}
		}
		changed := s.changed
		n := len(s.msgs)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mailtest: no message to %s within %v (%d other messages received)", to, timeout, n)
			return Captured{}
		}
	}
}

func (s *Server) add(c Captured) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, c)
	close(s.changed)
	s.changed = make(chan struct{})
}

// FindLink returns the first URL in c's text body that starts with
// prefix. A URL ends at white space or at one of <>"'; trailing
// punctuation (.,;:!?)) is dropped.
func FindLink(c Captured, prefix string) (string, bool) {
	text := c.Text
	for {
		i := strings.Index(text, prefix)
		if i < 0 {
			return "", false
		}
		// The prefix must start a URL, not sit inside one.
		if i > 0 && !isURLBoundary(rune(text[i-1])) {
			text = text[i+len(prefix):]
			continue
		}
		end := strings.IndexFunc(text[i:], isURLBoundary)
		if end < 0 {
			end = len(text) - i
		}
		u := strings.TrimRight(text[i:i+end], ".,;:!?)")
		if len(u) < len(prefix) {
			u = prefix
		}
		return u, true
	}
}

func isURLBoundary(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '<', '>', '"', '\'', '(':
		return true
	}
	return false
}

// session is one SMTP connection.
type session struct {
	s        *Server
	conn     *smtp.Conn
	username string
	authed   bool
	from     string
	to       []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

func (ss *session) AuthMechanisms() []string {
	if !ss.s.cfg.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !ss.s.cfg.auth || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.cfg.user || password != ss.s.cfg.pass || (identity != "" && identity != username) {
			return smtp.ErrAuthFailed
		}
		ss.username, ss.authed = username, true
		return nil
	}), nil
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.cfg.auth && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	lower := strings.ToLower(to)
	for _, r := range ss.s.cfg.reject {
		if strings.Contains(lower, r) {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mailtest: read data: %w", err)
	}
	_, isTLS := ss.conn.TLSConnectionState()
	c := Captured{From: ss.from, To: ss.to, Data: data, TLS: isTLS, Username: ss.username}
	c.ParseErr = parse(&c)
	ss.s.add(c)
	ss.to = nil
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// parse fills c's Header, Subject, Text and HTML from c.Data.
func parse(c *Captured) error {
	m, err := mail.ReadMessage(bytes.NewReader(c.Data))
	if err != nil {
		return fmt.Errorf("mailtest: parse message: %w", err)
	}
	c.Header = m.Header
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(m.Header.Get("Subject")); err == nil {
		c.Subject = subj
	} else {
		c.Subject = m.Header.Get("Subject")
	}
	return parsePart(c, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, 0)
}

// parsePart decodes one MIME part into c.Text or c.HTML, descending
// into multipart parts.
func parsePart(c *Captured, contentType, encoding string, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("mailtest: MIME parts nested too deep")
	}
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("mailtest: parse Content-Type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mailtest: read multipart: %w", err)
			}
			if err := parsePart(c, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); err != nil {
				return err
			}
		}
	}
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripCRLF{r: body})
	default:
		r = body
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mailtest: decode %s body: %w", encoding, err)
	}
	switch {
	case mt == "text/plain" && c.Text == "":
		c.Text = string(b)
	case mt == "text/html" && c.HTML == "":
		c.HTML = string(b)
	}
	return nil
}

// stripCRLF drops line breaks from a base64 body.
type stripCRLF struct{ r io.Reader }

func (s *stripCRLF) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, b := range p[:n] {
		if b != '\r' && b != '\n' {
			p[j] = b
			j++
		}
	}
	return j, err
}

// selfSigned returns a fresh self-signed certificate for 127.0.0.1, ::1
// and localhost, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest " + strconv.FormatInt(now.UnixNano(), 36)},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("parse certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
