package sdk

import (
	"github.com/plenum-vote/plenum/sdk/wire"
)

// Scan verdicts (ScanUploadOutput.Verdict, Attachment.Verdict).
const (
	VerdictClean      = "clean"
	VerdictSuspicious = "suspicious"
	VerdictMalicious  = "malicious"
)

// Message verdicts (ScanMessageOutput.Verdict).
const (
	VerdictDeliver    = "deliver"
	VerdictQuarantine = "quarantine"
	VerdictReject     = "reject"
)

// Finding severities (Finding.Severity).
const (
	SeverityInfo     = "info"
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Authentication results (ScanMessageInput.SPF, DKIM and DMARC), as in
// RFC 8601.
const (
	AuthPass      = "pass"
	AuthFail      = "fail"
	AuthSoftfail  = "softfail"
	AuthNeutral   = "neutral"
	AuthNone      = "none"
	AuthTemperror = "temperror"
	AuthPermerror = "permerror"
)

// Finding is one thing a scanner noticed.
type Finding struct {
	// Rule names the check, e.g. "double-extension".
	Rule string `json:"rule"`
	// Severity is "info", "low", "medium", "high" or "critical".
	Severity string `json:"severity"`
	// Message explains the finding to an admin.
	Message string `json:"message"`
	// Offset is where in the content it was found (0 when not
	// applicable).
	Offset int64 `json:"offset"`
}

// ScanUploadInput is one file to scan. Archive members are scanned one by
// one; Path lists the archives they were found in, outermost first. The
// plugin's configuration is sdk.Config().
type ScanUploadInput struct {
	// Name is the file name the uploader gave.
	Name string `json:"name"`
	// DeclaredType is the media type the uploader declared.
	DeclaredType string `json:"declared_type"`
	// Size is the file's full size; Content may be cut to the hook's
	// input limit.
	Size int64 `json:"size"`
	// SHA256 is the hex digest of the whole file, or "".
	SHA256 string `json:"sha256"`
	// Content is the file's bytes, up to the input limit.
	Content []byte `json:"content"`
	// Path lists the enclosing archives, outermost first.
	Path []string `json:"path"`
}

// ScanUploadOutput is the verdict on a file.
type ScanUploadOutput struct {
	// Verdict is "clean", "suspicious" or "malicious".
	Verdict string `json:"verdict"`
	// DetectedType is the media type the content shows, or "".
	DetectedType string    `json:"detected_type"`
	Findings     []Finding `json:"findings"`
}

// Header is one header field of a message.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Link is a link in a message: the text shown and where it goes.
type Link struct {
	Text string `json:"text"`
	Href string `json:"href"`
}

// Attachment summarises an attachment, already scanned as an upload.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	// Verdict is the attachment's scan_upload verdict.
	Verdict string `json:"verdict"`
}

// ScanMessageInput is an inbound e-mail with the host's authentication
// results.
type ScanMessageInput struct {
	// From is the address of the From header; DisplayName its name part.
	From        string `json:"from"`
	DisplayName string `json:"display_name"`
	// ReplyTo is the Reply-To address, or "".
	ReplyTo string   `json:"reply_to"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	// TenantName and TenantDomains are the receiving association's name
	// and mail domains, which impostors imitate.
	TenantName    string   `json:"tenant_name"`
	TenantDomains []string `json:"tenant_domains"`
	// SPF, DKIM and DMARC are the authentication results: "pass",
	// "fail", "softfail", "neutral", "none", "temperror" or "permerror".
	SPF   string `json:"spf"`
	DKIM  string `json:"dkim"`
	DMARC string `json:"dmarc"`
	// Headers are further header fields the host passes on (for example
	// List-Unsubscribe, Received); nil when none.
	Headers     []Header     `json:"headers,omitempty"`
	TextBody    string       `json:"text_body"`
	HTMLBody    string       `json:"html_body"`
	Links       []Link       `json:"links"`
	Attachments []Attachment `json:"attachments"`
}

// ScanMessageOutput is the verdict on a message.
type ScanMessageOutput struct {
	// Verdict is "deliver", "quarantine" or "reject".
	Verdict string `json:"verdict"`
	// Score is the plugin's risk score, 0 to 100.
	Score   int64     `json:"score"`
	Reasons []Finding `json:"reasons"`
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

func readFindings(r *wire.Reader, dst []Finding) []Finding {
	dst = resize(dst, r.Len(4))
	for i := range dst {
		f := Finding{Rule: r.String(), Severity: r.String(), Message: r.String(), Offset: readCount(r, "finding offset")}
		if !validSeverity(f.Severity) {
			invalid(r, "finding severity", f.Severity)
		}
		dst[i] = f
	}
	return dst
}

// AppendWire appends in's wire encoding to w.
func (in *ScanUploadInput) AppendWire(w *wire.Writer) {
	w.String(in.Name)
	w.String(in.DeclaredType)
	w.Int(in.Size)
	w.String(in.SHA256)
	w.Blob(in.Content)
	appendStrings(w, in.Path)
}

// ReadWire decodes in from r, reusing in's slices.
func (in *ScanUploadInput) ReadWire(r *wire.Reader) error {
	in.Name, in.DeclaredType = r.String(), r.String()
	in.Size = readCount(r, "size")
	in.SHA256 = r.String()
	in.Content = r.Blob()
	in.Path = readStrings(r, in.Path)
	return finish(r, "scan_upload input")
}

// AppendWire appends out's wire encoding to w.
func (out *ScanUploadOutput) AppendWire(w *wire.Writer) {
	w.String(out.Verdict)
	w.String(out.DetectedType)
	appendFindings(w, out.Findings)
}

// ReadWire decodes out from r, reusing out's slices, and checks the
// verdict and the severities.
func (out *ScanUploadOutput) ReadWire(r *wire.Reader) error {
	if out.Verdict = r.String(); !validVerdict(out.Verdict) {
		invalid(r, "verdict", out.Verdict)
	}
	out.DetectedType = r.String()
	out.Findings = readFindings(r, out.Findings)
	return finish(r, "scan_upload output")
}

// AppendWire appends in's wire encoding to w.
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
	w.Uint(uint64(len(in.Headers)))
	for _, h := range in.Headers {
		w.String(h.Name)
		w.String(h.Value)
	}
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

// ReadWire decodes in from r, reusing in's slices, and checks the
// authentication results and attachment verdicts.
func (in *ScanMessageInput) ReadWire(r *wire.Reader) error {
	in.From, in.DisplayName, in.ReplyTo = r.String(), r.String(), r.String()
	in.To = readStrings(r, in.To)
	in.Subject, in.TenantName = r.String(), r.String()
	in.TenantDomains = readStrings(r, in.TenantDomains)
	in.SPF, in.DKIM, in.DMARC = r.String(), r.String(), r.String()
	for _, a := range [...]struct{ name, v string }{{"spf", in.SPF}, {"dkim", in.DKIM}, {"dmarc", in.DMARC}} {
		if !validAuth(a.v) {
			invalid(r, a.name, a.v)
		}
	}
	in.Headers = resize(in.Headers, r.Len(2))
	for i := range in.Headers {
		in.Headers[i] = Header{Name: r.String(), Value: r.String()}
	}
	in.TextBody, in.HTMLBody = r.String(), r.String()
	in.Links = resize(in.Links, r.Len(2))
	for i := range in.Links {
		in.Links[i] = Link{Text: r.String(), Href: r.String()}
	}
	in.Attachments = resize(in.Attachments, r.Len(4))
	for i := range in.Attachments {
		a := Attachment{Name: r.String(), Type: r.String(), Size: readCount(r, "attachment size"), Verdict: r.String()}
		if !validVerdict(a.Verdict) {
			invalid(r, "attachment verdict", a.Verdict)
		}
		in.Attachments[i] = a
	}
	return finish(r, "scan_message input")
}

// AppendWire appends out's wire encoding to w.
func (out *ScanMessageOutput) AppendWire(w *wire.Writer) {
	w.String(out.Verdict)
	w.Int(out.Score)
	appendFindings(w, out.Reasons)
}

// ReadWire decodes out from r, reusing out's slices, and checks the
// verdict, the score and the severities.
func (out *ScanMessageOutput) ReadWire(r *wire.Reader) error {
	switch out.Verdict = r.String(); out.Verdict {
	case VerdictDeliver, VerdictQuarantine, VerdictReject:
	default:
		invalid(r, "verdict", out.Verdict)
	}
	if out.Score = r.Int(); out.Score < 0 || out.Score > 100 {
		invalid(r, "score", out.Score)
	}
	out.Reasons = readFindings(r, out.Reasons)
	return finish(r, "scan_message output")
}

func validVerdict(s string) bool {
	return s == VerdictClean || s == VerdictSuspicious || s == VerdictMalicious
}

func validSeverity(s string) bool {
	switch s {
	case SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return true
	}
	return false
}

func validAuth(s string) bool {
	switch s {
	case AuthPass, AuthFail, AuthSoftfail, AuthNeutral, AuthNone, AuthTemperror, AuthPermerror:
		return true
	}
	return false
}
