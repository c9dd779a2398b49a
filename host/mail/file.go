package mail

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File is a [Sender] that writes each message as an .eml file into a
// directory instead of sending it: the embedded default setup, where no
// relay is configured. Files are created with mode 0600, as they hold
// personal data and may hold sign-in links. It is safe for concurrent
// use.
type File struct {
	dir    string
	from   string
	logger *slog.Logger
}

// NewFile returns a File mailer writing into dir, created with mode 0700
// if missing. from is the default sender. Each message is logged on
// logger (nil: no log) with its file path only, never its recipients.
func NewFile(dir, from string, logger *slog.Logger) (*File, error) {
	if dir == "" {
		return nil, fmt.Errorf("mail: file: no directory")
	}
	if _, err := parseAddress("From", from); err != nil {
		return nil, fmt.Errorf("mail: file: default sender: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: file: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &File{dir: dir, from: from, logger: logger}, nil
}

// Send writes m to a new file named after the time and a random suffix,
// such as 20260102T150405.000000000Z-1a2b3c4d.eml, and returns its error.
func (f *File) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: file: %w", err)
	}
	e, err := validate(m, f.from)
	if err != nil {
		return err
	}
	now := time.Now()
	data, err := e.bytes(now)
	if err != nil {
		return err
	}
	suffix, err := randomHex(4)
	if err != nil {
		return err
	}
	name := now.UTC().Format("20060102T150405.000000000Z") + "-" + suffix + ".eml"
	path := filepath.Join(f.dir, name)
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: file: %w", err)
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return fmt.Errorf("mail: file: write %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("mail: file: close %s: %w", path, err)
	}
	f.logger.InfoContext(ctx, "mail written to file", "path", path)
	return nil
}

// Console is a [Sender] that prints each message, readably, to a writer:
// for `plenum serve` in development. It prints the sender, recipients,
// subject and extra headers decoded, and the text body as is, so that
// links can be copied; the HTML body is left out. It is safe for
// concurrent use.
type Console struct {
	mu   sync.Mutex
	w    io.Writer
	from string
}

// NewConsole returns a Console mailer printing to w, with from as the
// default sender.
func NewConsole(w io.Writer, from string) *Console {
	return &Console{w: w, from: from}
}

// Send validates m like the other senders and prints it.
func (c *Console) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: console: %w", err)
	}
	e, err := validate(m, c.from)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("----- mail -----\n")
	fmt.Fprintf(&b, "From: %s\n", e.from.String())
	for _, a := range e.to {
		fmt.Fprintf(&b, "To: %s\n", a.String())
	}
	fmt.Fprintf(&b, "Subject: %s\n", m.Subject)
	for _, k := range sortedKeys(m.Headers) {
		fmt.Fprintf(&b, "%s: %s\n", k, m.Headers[k])
	}
	if m.HTML != "" {
		fmt.Fprintf(&b, "(HTML part of %d bytes not shown)\n", len(m.HTML))
	}
	b.WriteString("\n")
	b.WriteString(m.Text)
	if m.Text != "" && m.Text[len(m.Text)-1] != '\n' {
		b.WriteString("\n")
	}
	b.WriteString("----- end of mail -----\n")
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("mail: console: %w", err)
	}
	return nil
}
