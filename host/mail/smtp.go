package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how the SMTP mailer secures its connection.
type TLSMode string

// The TLS modes.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS
	// before anything else; a server that does not offer STARTTLS is an
	// error. The default; port 587 by default.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS); port 465 by
	// default.
	TLSImplicit TLSMode = "tls"
	// TLSNone sends in plain text. It is allowed only for loopback hosts
	// (localhost, 127.0.0.0/8, ::1), such as a local relay; port 25 by
	// default.
	TLSNone TLSMode = "none"
)

// Defaults of [SMTPConfig].
const (
	DefaultDialTimeout = 10 * time.Second
	DefaultSendTimeout = 60 * time.Second
	DefaultHELOName    = "localhost"
)

// SMTPConfig configures an [SMTP] mailer.
type SMTPConfig struct {
	// Host is the relay's host name or IP address. Required.
	Host string
	// Port is the relay's TCP port; 0 means the TLS mode's default.
	Port int
	// Username, when set, authenticates with AUTH PLAIN, which is only
	// ever sent over TLS or to a loopback host.
	Username string
	// Password is Username's password.
	Password string
	// From is the default sender address, used when a message has none.
	// Required.
	From string
	// TLS is the TLS mode; empty means TLSStartTLS.
	TLS TLSMode
	// HELOName is the name sent with EHLO; default "localhost".
	HELOName string
	// DialTimeout bounds connecting, default 10 seconds.
	DialTimeout time.Duration
	// SendTimeout bounds one whole Send, connecting included, default 60
	// seconds. A context deadline that comes sooner wins.
	SendTimeout time.Duration
	// TLSConfig, when set, is used for STARTTLS and implicit TLS, for
	// example to trust a private CA with RootCAs. ServerName defaults to
	// Host. Certificates are always verified.
	TLSConfig *tls.Config
}

// SMTP is a [Sender] that delivers each message to an SMTP relay over a
// new connection. It is safe for concurrent use.
type SMTP struct {
	cfg  SMTPConfig
	addr string
}

// NewSMTP validates cfg, fills in its defaults and returns a mailer.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: smtp: no host")
	}
	if strings.ContainsAny(cfg.Host, "\r\n/ ") {
		return nil, fmt.Errorf("mail: smtp: invalid host %q", cfg.Host)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSStartTLS:
		if cfg.Port == 0 {
			cfg.Port = 587
		}
	case TLSImplicit:
		if cfg.Port == 0 {
			cfg.Port = 465
		}
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("mail: smtp: TLS mode %q is only allowed for a loopback host, not %q", TLSNone, cfg.Host)
		}
		if cfg.Port == 0 {
			cfg.Port = 25
		}
	default:
		return nil, fmt.Errorf("mail: smtp: unknown TLS mode %q (want %q, %q or %q)", cfg.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: smtp: invalid port %d", cfg.Port)
	}
	if cfg.From == "" {
		return nil, errors.New("mail: smtp: no default sender (From)")
	}
	if _, err := parseAddress("From", cfg.From); err != nil {
		return nil, fmt.Errorf("mail: smtp: default sender: %w", err)
	}
	if cfg.HELOName == "" {
		cfg.HELOName = DefaultHELOName
	}
	if strings.ContainsAny(cfg.HELOName, "\r\n ") {
		return nil, fmt.Errorf("mail: smtp: invalid HELO name %q", cfg.HELOName)
	}
	if strings.ContainsAny(cfg.Username+cfg.Password, "\r\n") {
		return nil, fmt.Errorf("mail: smtp: %w in credentials", ErrHeaderInjection)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	} else {
		cfg.TLSConfig = &tls.Config{}
	}
	if cfg.TLSConfig.ServerName == "" {
		cfg.TLSConfig.ServerName = cfg.Host
	}
	if cfg.TLSConfig.MinVersion == 0 {
		cfg.TLSConfig.MinVersion = tls.VersionTLS12
	}
	return &SMTP{cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}, nil
}

// isLoopback reports whether host is "localhost" or a loopback IP
// address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m to the relay in one SMTP conversation. The message is
// rejected before connecting when it is invalid. Every recipient must be
// accepted, or nothing is sent. Errors from the server wrap a
// *textproto.Error holding its reply code. When ctx is done, the
// connection is closed and the error wraps ctx.Err().
func (s *SMTP) Send(ctx context.Context, m Message) (err error) {
	e, err := validate(m, s.cfg.From)
	if err != nil {
		return err
	}
	data, err := e.bytes(time.Now())
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	defer func() {
		// A connection cut because ctx is done shows up as an I/O
		// timeout; report the reason too. The connection's deadline
		// may fire a moment before ctx's own timer.
		if err == nil {
			return
		}
		if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
			<-ctx.Done()
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
	}()

	dialer := &net.Dialer{Timeout: s.cfg.DialTimeout}
	var conn net.Conn
	if s.cfg.TLS == TLSImplicit {
		td := &tls.Dialer{NetDialer: dialer, Config: s.cfg.TLSConfig}
		conn, err = td.DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("mail: smtp: connect to %s: %w", s.addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("mail: smtp: set deadline: %w", err)
		}
	}
	// Unblock any read or write when ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("mail: smtp: greeting from %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HELOName); err != nil {
		return fmt.Errorf("mail: smtp: EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("mail: smtp: %s does not offer STARTTLS", s.addr)
		}
		if err := c.StartTLS(s.cfg.TLSConfig); err != nil {
			return fmt.Errorf("mail: smtp: STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("mail: smtp: %s does not offer AUTH", s.addr)
		}
		// net/smtp sends PLAIN only over TLS or to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("mail: smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fmt.Errorf("mail: smtp: MAIL FROM: %w", err)
	}
	for i, rcpt := range e.recipients() {
		if err := c.Rcpt(rcpt); err != nil {
			// No address in the error: it may end up in logs.
			return fmt.Errorf("mail: smtp: RCPT TO (recipient %d of %d): %w", i+1, len(e.to), err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: smtp: DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("mail: smtp: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: smtp: end of DATA: %w", err)
	}
	// The message was accepted; a failed QUIT does not undo that.
	_ = c.Quit()
	return nil
}
