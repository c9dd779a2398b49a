// Package password checks new passwords against Plenum's password policy,
// which follows NIST SP 800-63B section 5.1.1 and OWASP ASVS 4.0.3 V2.1.
//
// The policy sets lengths, not composition rules: a password must be at
// least [Policy.MinLength] code points long (12 by default), or
// [Policy.MinLengthSingleFactor] (15) when it is the account's only
// factor, and at most [Policy.MaxLength] (128). Length is counted in
// Unicode code points after NFC normalisation, so that a precomposed "ü"
// and "u" followed by a combining diaeresis count the same. Every
// printable Unicode character is allowed, spaces and emoji included;
// invalid UTF-8 and control characters are rejected.
//
// Beyond length, [Policy.Check] rejects passwords that contain the
// user's e-mail address, its local part, the tenant's name or slug or the
// user's name; that repeat one character four times in a row or are
// nothing but a short unit repeated; that contain a run of four ascending
// or descending letters or digits ("1234", "dcba") or a keyboard row
// ("qwerty", "asdf"); that appear on the blocklist of common passwords;
// and, when the caller supplies a [BreachChecker] such as [HIBP], that
// appear in known breaches. Every rejection is a [*Violation] whose
// Message tells the user what to do; all match [ErrWeak] with errors.Is.
//
// # Blocklist
//
// The blocklist is built by this project, not downloaded. The generator
// in internal/genblocklist, run by go generate, holds about 290 base
// words: well-known most-common passwords and words ("password",
// "qwerty", "iloveyou", "letmein", "dragon", ...), month and season names
// in English, German and French, and words of the associations' domain
// ("condo", "homeowners", "cooperative", "board", "vote", "plenum", ...).
// It combines every base word with leetspeak spellings (a→4/@, e→3, i→1,
// o→0, s→5/$), appended years 1950 to 2030, the digit runs 1 to 123456
// and a trailing "!" or "!!", and adds each word doubled
// ("passwordpassword"). It keeps the lower-cased entries of 8 to 64 code
// points, sorts and de-duplicates them and writes them gzip-compressed to
// blocklist.txt.gz: 587,537 entries, 8.0 MB of text, 1.35 MB
// compressed. The file is embedded in the binary; [LoadBlocklist]
// decompresses it, in about 40 ms, into one string and an offset table
// (about 10 MB in memory) and looks passwords up by binary search; a
// [Policy] from [DefaultPolicy] does so on its first Check.
//
// Rebuild the list with go generate after changing the generator.
package password

//go:generate go run ./internal/genblocklist -o blocklist.txt.gz
