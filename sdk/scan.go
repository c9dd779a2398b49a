package sdk

import (
	"fmt"

	"github.com/plenum-vote/plenum/sdk/wire"
)

// Finding is one thing a scanner noticed.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // info, low, medium, high, critical
	Message  string `json:"message"`
	Offset   int64  `json:"offset"`
}

// ScanUploadInput is one file to scan. Archive members are scanned one by
// one; Path lists the archives they were found in, outermost first.
type ScanUploadInput struct {
	Name         string   `json:"name"`
	DeclaredType string   `json:"declared_type"`
	Size         int64    `json:"size"`
	SHA256       string   `json:"sha256"`
	Content      []byte   `json:"content"`
	Path         []string `json:"path"`
}

// ScanUploadOutput is the verdict on a file: clean, suspicious or
// malicious.
type ScanUploadOutput struct {
	Verdict      string    `json:"verdict"`
	DetectedType string    `json:"detected_type"`
	Findings     []Finding `json:"findings"`
}

// Link is a link in a message: its text and where it goes.
type Link struct {
	Text string `json:"text"`
	Href string `json:"href"`
}

// Attachment summarises an attachment, already scanned as an upload.
type Attachment struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Size    int64  `json:"size"`
	Verdict string `json:"verdict"`
}

// ScanMessageInput is an inbound e-mail with the host's authentication
// results (pass, fail, softfail, neutral, none, temperror, permerror).
type ScanMessageInput struct {
	From          string       `json:"from"`
	DisplayName   string       `json:"display_name"`
	ReplyTo       string       `json:"reply_to"`
	To            []string     `json:"to"`
	Subject       string       `json:"subject"`
	TenantName    string       `json:"tenant_name"`
	TenantDomains []string     `json:"tenant_domains"`
	SPF           string       `json:"spf"`
	DKIM          string       `json:"dkim"`
	DMARC         string       `json:"dmarc"`
	TextBody      string       `json:"text_body"`
	HTMLBody      string       `json:"html_body"`
	Links         []Link       `json:"links"`
	Attachments   []Attachment `json:"attachments"`
}

// ScanMessageOutput is the verdict on a message: deliver, quarantine or
// reject, with a score and the reasons.
type ScanMessageOutput struct {
	Verdict string    `json:"verdict"`
	Score   int64     `json:"score"`
	Reasons []Finding `json:"reasons"`
}

func appendStrings(w *wire.Writer, ss []string) {
	w.Uint(uint64(len(ss)))
	for _, s := range ss {
		w.String(s)
	}
}

func readStrings(r *wire.Reader, dst []string) []string {
	n := r.Len(1)
	dst = dst[:0]
	for i := 0; i < n; i++ {
		dst = append(dst, r.StringView())
	}
	return dst
}

func appendFindings(w *wire.Writer, fs []Finding) {
	w.Uint(uint64(len(fs)))
	for i := range fs {
		f := &fs[i]
		w.String(f.Rule)
		w.String(f.Severity)
		w.String(f.Message)
		w.Int(f.Offset)
	}
}

func readFindings(r *wire.Reader, dst []Finding) ([]Finding, error) {
	n := r.Len(4)
	dst = dst[:0]
	for i := 0; i < n; i++ {
		f := Finding{Rule: r.StringView(), Severity: r.StringView(), Message: r.StringView(), Offset: r.Int()}
		switch f.Severity {
		case "info", "low", "medium", "high", "critical":
		default:
			if r.Err() == nil {
				return nil, fmt.Errorf("finding %d: unknown severity %q", i, f.Severity)
			}
		}
		dst = append(dst, f)
	}
	return dst, nil
}

// AppendWire encodes in.
func (in *ScanUploadInput) AppendWire(w *wire.Writer) {
	w.String(in.Name)
	w.String(in.DeclaredType)
	w.Int(in.Size)
	w.String(in.SHA256)
	w.Blob(in.Content)
	appendStrings(w, in.Path)
}

// ReadWire decodes in; strings and Content are views of r's input.
func (in *ScanUploadInput) ReadWire(r *wire.Reader) error {
	in.Name, in.DeclaredType, in.Size, in.SHA256 = r.StringView(), r.StringView(), r.Int(), r.StringView()
	in.Content = r.BlobView()
	in.Path = readStrings(r, in.Path)
	if err := r.End(); err != nil {
		return fmt.Errorf("scan_upload input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
func (out *ScanUploadOutput) AppendWire(w *wire.Writer) {
	w.String(out.Verdict)
	w.String(out.DetectedType)
	appendFindings(w, out.Findings)
}

// ReadWire decodes out and checks the verdict.
func (out *ScanUploadOutput) ReadWire(r *wire.Reader) error {
	out.Verdict, out.DetectedType = r.StringView(), r.StringView()
	var err error
	if out.Findings, err = readFindings(r, out.Findings); err != nil {
		return fmt.Errorf("scan_upload output: %w", err)
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("scan_upload output: %w", err)
	}
	switch out.Verdict {
	case "clean", "suspicious", "malicious":
	default:
		return fmt.Errorf("scan_upload output: unknown verdict %q", out.Verdict)
	}
	return nil
}

// AppendWire encodes in.
func (in *ScanMessageInput) AppendWire(w *wire.Writer) {
	w.String(in.From)
	w.String(in.DisplayName)
	w.String(in.ReplyTo)
	appendStrings(w, in.To)
	w.String(in.Subject)
	w.String(in.TenantName)
	appendStrings(w, in.TenantDomains)
	w.String(in.SPF)
	w.String(in.DKIM)
	w.String(in.DMARC)
	w.String(in.TextBody)
	w.String(in.HTMLBody)
	w.Uint(uint64(len(in.Links)))
	for _, l := range in.Links {
		w.String(l.Text)
		w.String(l.Href)
	}
	w.Uint(uint64(len(in.Attachments)))
	for _, a := range in.Attachments {
		w.String(a.Name)
		w.String(a.Type)
		w.Int(a.Size)
		w.String(a.Verdict)
	}
}

// ReadWire decodes in; strings are views of r's input.
func (in *ScanMessageInput) ReadWire(r *wire.Reader) error {
	in.From, in.DisplayName, in.ReplyTo = r.StringView(), r.StringView(), r.StringView()
	in.To = readStrings(r, in.To)
	in.Subject, in.TenantName = r.StringView(), r.StringView()
	in.TenantDomains = readStrings(r, in.TenantDomains)
	in.SPF, in.DKIM, in.DMARC = r.StringView(), r.StringView(), r.StringView()
	in.TextBody, in.HTMLBody = r.StringView(), r.StringView()
	n := r.Len(2)
	in.Links = in.Links[:0]
	for i := 0; i < n; i++ {
		in.Links = append(in.Links, Link{Text: r.StringView(), Href: r.StringView()})
	}
	n = r.Len(4)
	in.Attachments = in.Attachments[:0]
	for i := 0; i < n; i++ {
		in.Attachments = append(in.Attachments, Attachment{Name: r.StringView(), Type: r.StringView(), Size: r.Int(), Verdict: r.StringView()})
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("scan_message input: %w", err)
	}
	return nil
}

// AppendWire encodes out.
func (out *ScanMessageOutput) AppendWire(w *wire.Writer) {
	w.String(out.Verdict)
	w.Int(out.Score)
	appendFindings(w, out.Reasons)
}

// ReadWire decodes out and checks the verdict.
func (out *ScanMessageOutput) ReadWire(r *wire.Reader) error {
	out.Verdict, out.Score = r.StringView(), r.Int()
	var err error
	if out.Reasons, err = readFindings(r, out.Reasons); err != nil {
		return fmt.Errorf("scan_message output: %w", err)
	}
	if err := r.End(); err != nil {
		return fmt.Errorf("scan_message output: %w", err)
	}
	switch out.Verdict {
	case "deliver", "quarantine", "reject":
	default:
		return fmt.Errorf("scan_message output: unknown verdict %q", out.Verdict)
	}
	return nil
}

// RegisterScanUpload makes fn the plugin's scan_upload hook.
func RegisterScanUpload(fn func(*ScanUploadInput) (*ScanUploadOutput, error)) {
	var in ScanUploadInput
	register(HookScanUpload, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}

// RegisterScanMessage makes fn the plugin's scan_message hook.
func RegisterScanMessage(fn func(*ScanMessageInput) (*ScanMessageOutput, error)) {
	var in ScanMessageInput
	register(HookScanMessage, &in, func() (wireAppender, error) {
		out, err := fn(&in)
		if err == nil && out == nil {
			return nil, errNoOutput
		}
		return out, err
	})
}
