package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/plenum-vote/plenum/sdk"
)

// kind is a file type told by its first bytes.
type kind struct {
	name   string
	mime   string
	exts   []string
	magic  []byte
	offset int
	exec   bool
}

var kinds = []kind{
	{name: "pdf", mime: "application/pdf", exts: []string{".pdf"}, magic: []byte("%PDF-")},
	{name: "png", mime: "image/png", exts: []string{".png"}, magic: []byte("\x89PNG\r\n\x1a\n")},
	{name: "jpeg", mime: "image/jpeg", exts: []string{".jpg", ".jpeg"}, magic: []byte("\xff\xd8\xff")},
	{name: "gif", mime: "image/gif", exts: []string{".gif"}, magic: []byte("GIF8")},
	{name: "zip", mime: "application/zip", exts: []string{".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".docm", ".xlsm", ".pptm"}, magic: []byte("PK\x03\x04")},
	{name: "gzip", mime: "application/gzip", exts: []string{".gz", ".tgz"}, magic: []byte("\x1f\x8b")},
	{name: "ole2", mime: "application/x-ole-storage", exts: []string{".doc", ".xls", ".ppt", ".msg"}, magic: []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")},
	{name: "pe", mime: "application/vnd.microsoft.portable-executable", exts: []string{".exe", ".dll", ".scr", ".sys"}, magic: []byte("MZ"), exec: true},
	{name: "elf", mime: "application/x-elf", magic: []byte("\x7fELF"), exec: true},
	{name: "macho", mime: "application/x-mach-binary", magic: []byte("\xcf\xfa\xed\xfe"), exec: true},
	{name: "macho32", mime: "application/x-mach-binary", magic: []byte("\xce\xfa\xed\xfe"), exec: true},
	{name: "script", mime: "text/x-shellscript", exts: []string{".sh"}, magic: []byte("#!"), exec: true},
}

// dangerousExts run code when opened on a member's computer.
var dangerousExts = map[string]bool{
	".exe": true, ".scr": true, ".com": true, ".bat": true, ".cmd": true, ".pif": true, ".vbs": true, ".vbe": true,
	".js": true, ".jse": true, ".wsf": true, ".wsh": true, ".hta": true, ".msi": true, ".ps1": true, ".jar": true,
	".lnk": true, ".dll": true, ".cpl": true, ".reg": true, ".iso": true, ".img": true,
}

// eicar is the anti-virus test file's signature.
var eicar = []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD" + `-ANTIVIRUS-TEST-FILE!$H+H*`)

type config struct {
	MaxBytes int64 `json:"max_bytes"`
}

var (
	lastRaw []byte
	cfg     config
	output  = sdk.ScanUploadOutput{Findings: make([]sdk.Finding, 0, 4)}
)

func load(raw []byte) error {
	if lastRaw != nil && bytes.Equal(raw, lastRaw) {
		return nil
	}
	var c config
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	cfg, lastRaw = c, append(make([]byte, 0, len(raw)), raw...)
	return nil
}

func detect(b []byte) *kind {
	for i := range kinds {
		k := &kinds[i]
		if len(b) >= k.offset+len(k.magic) && bytes.Equal(b[k.offset:k.offset+len(k.magic)], k.magic) {
			return k
		}
	}
	return nil
}

func scan(in *sdk.ScanUploadInput) (*sdk.ScanUploadOutput, error) {
	if err := load(sdk.Config()); err != nil {
		return nil, err
	}
	out := &output
	out.Findings = out.Findings[:0]
	out.DetectedType = "application/octet-stream"
	add := func(rule, sev, msg string, off int64) {
		out.Findings = append(out.Findings, sdk.Finding{Rule: rule, Severity: sev, Message: msg, Offset: off})
	}
	name := strings.ToLower(in.Name)
	ext := path.Ext(name)
	k := detect(in.Content)
	if k != nil {
		out.DetectedType = k.mime
		if k.exec {
			add("executable", "critical", "the file is a "+k.name+" program", 0)
		}
		if ext != "" && len(k.exts) > 0 && !contains(k.exts, ext) {
			add("type-mismatch", "high", "the content is "+k.name+" but the name ends in "+ext, 0)
		}
		if in.DeclaredType != "" && in.DeclaredType != k.mime && in.DeclaredType != "application/octet-stream" && !(k.name == "zip" && strings.Contains(in.DeclaredType, "openxmlformats")) {
			add("declared-type-mismatch", "medium", "declared "+in.DeclaredType+", content is "+k.mime, 0)
		}
	}
	if dangerousExts[ext] {
		add("dangerous-extension", "high", "files ending in "+ext+" run code when opened", 0)
	}
	if base := strings.TrimSuffix(name, ext); ext != "" && dangerousExts[ext] && path.Ext(base) != "" {
		add("double-extension", "critical", "a double extension hides the program's real type", 0)
	}
	if strings.ContainsRune(in.Name, '\u202e') {
		add("rtl-override", "critical", "the name uses a right-to-left override to disguise its extension", 0)
	}
	if i := bytes.Index(in.Content, eicar); i >= 0 {
		add("eicar", "critical", "EICAR anti-virus test file", int64(i))
	}
	if cfg.MaxBytes > 0 && in.Size > cfg.MaxBytes {
		add("too-large", "medium", fmt.Sprintf("%d bytes, more than the %d allowed", in.Size, cfg.MaxBytes), 0)
	}
	out.Verdict = "clean"
	for _, f := range out.Findings {
		switch f.Severity {
		case "critical":
			out.Verdict = "malicious"
		case "high", "medium":
			if out.Verdict == "clean" {
				out.Verdict = "suspicious"
			}
		}
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
