package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
	"github.com/plenum-vote/plenum/core/identity/mfa"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/testkit"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder adapts the audit log to tenancy.Recorder.
type recorder struct{ log *audit.Log }

func (r recorder) Record(ctx context.Context, tx *store.Tx, c tenancy.Change) error {
	_, err := r.log.Append(ctx, tx, audit.Event{Actor: c.Actor, Action: c.Action, Target: c.Target, Details: c.Details})
	return err
}

// fixture is a migrated database with two tenants, a real keyring and a
// real audit log.
type fixture struct {
	db    *store.DB
	log   *audit.Log
	clock *clock
	svc   *mfa.Service
	a, b  string // tenant ids
}

func newFixture(t *testing.T, db *store.DB, opts mfa.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	master, err := crypto.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := crypto.NewKeyring(ctx, db, master)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(ctx, db, keys, nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ten := tenancy.NewService(db, keys, recorder{log}, nil)
	f := &fixture{db: db, log: log, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	for i, id := range []*string{&f.a, &f.b} {
		tn, err := ten.Create(ctx, tenancy.CreateRequest{Slug: fmt.Sprintf("assoc-%d", i), Name: "Association", Actor: "system"})
		if err != nil {
			t.Fatalf("create tenant: %v", err)
		}
		*id = tn.ID
	}
	opts.Now = f.clock.Now
	f.svc = mfa.NewService(db, keys, log, opts)
	return f
}

// actions returns the audit actions recorded for tenant, oldest first.
func (f *fixture) actions(t *testing.T, tenant string) []string {
	t.Helper()
	sc, err := f.db.Scoped(tenant)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = sc.ReadTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		recs, err := f.log.List(ctx, tx, audit.ListOptions{Limit: 1000})
		for i := len(recs) - 1; i >= 0; i-- {
			if strings.HasPrefix(recs[i].Action, "mfa.") {
				out = append(out, recs[i].Action)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP enrols and confirms an authenticator and returns its secret.
func (f *fixture) enrolTOTP(t *testing.T, tenant, user string) string {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.BeginTOTP(ctx, tenant, user, "member@example.org")
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	if err := f.svc.ConfirmTOTP(ctx, tenant, user, "user:"+user, totpCode(t, e.Secret, f.clock.Now())); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return e.Secret
}

func TestTOTP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{Issuer: "Plenum Test"})

		e, err := f.svc.BeginTOTP(ctx, f.a, "u1", "member@example.org")
		if err != nil {
			t.Fatalf("BeginTOTP: %v", err)
		}
		if !strings.HasPrefix(e.URL, "otpauth://totp/") || !strings.Contains(e.URL, "issuer=Plenum") || !strings.Contains(e.URL, "secret="+e.Secret) {
			t.Errorf("URL = %q", e.URL)
		}
		if !bytes.HasPrefix(e.QRPNG, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("QRPNG is not a PNG")
		}
		if st, err := f.svc.Factors(ctx, f.a, "u1"); err != nil || st.TOTP || st.Enrolled() {
			t.Fatalf("Factors before confirm = %+v, %v", st, err)
		}
		if err := f.svc.VerifyTOTP(ctx, f.a, "u1", totpCode(t, e.Secret, f.clock.Now())); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Fatalf("VerifyTOTP before confirm = %v, want ErrNotEnrolled", err)
		}
		if err := f.svc.ConfirmTOTP(ctx, f.a, "u1", "user:u1", "000000x"); !errors.Is(err, mfa.ErrInvalid) {
			t.Fatalf("ConfirmTOTP(bad) = %v, want ErrInvalid", err)
		}
		now := f.clock.Now()
		if err := f.svc.ConfirmTOTP(ctx, f.a, "u1", "user:u1", totpCode(t, e.Secret, now)); err != nil {
			t.Fatalf("ConfirmTOTP: %v", err)
		}
		if st, err := f.svc.Factors(ctx, f.a, "u1"); err != nil || !st.TOTP || !st.Enrolled() {
			t.Fatalf("Factors after confirm = %+v, %v", st, err)
		}
		if _, err := f.svc.BeginTOTP(ctx, f.a, "u1", "x"); !errors.Is(err, mfa.ErrAlreadyEnrolled) {
			t.Fatalf("BeginTOTP when enrolled = %v, want ErrAlreadyEnrolled", err)
		}

		// The confirming code's step is used.
		if err := f.svc.VerifyTOTP(ctx, f.a, "u1", totpCode(t, e.Secret, now)); !errors.Is(err, mfa.ErrReplay) {
			t.Fatalf("VerifyTOTP(confirm code) = %v, want ErrReplay", err)
		}
		tests := []struct {
			name string
			at   time.Duration // offset of the code's time from now
			wait time.Duration // clock advance before verifying
			want error
		}{
			{"next step", 0, 30 * time.Second, nil},
			{"same step again", 0, 0, mfa.ErrReplay},
			{"earlier step", -30 * time.Second, 0, mfa.ErrReplay},
			{"skew ahead one step", 30 * time.Second, 0, nil},
			{"too far ahead", 60 * time.Second, 0, mfa.ErrInvalid},
			{"behind one step, unused", -30 * time.Second, 90 * time.Second, nil},
			{"too far behind", -60 * time.Second, 30 * time.Second, mfa.ErrInvalid},
			{"malformed", 0, 0, mfa.ErrInvalid},
		}
		for _, tt := range tests {
			f.clock.Add(tt.wait)
			code := totpCode(t, e.Secret, f.clock.Now().Add(tt.at))
			if tt.name == "malformed" {
				code = "12a456"
			}
			err := f.svc.VerifyTOTP(ctx, f.a, "u1", code)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("%s: VerifyTOTP = %v, want %v", tt.name, err, tt.want)
			}
		}

		f.clock.Add(30 * time.Second)
		c := totpCode(t, e.Secret, f.clock.Now())
		if err := f.svc.VerifyTOTP(ctx, f.a, "u1", " "+c[:3]+" "+c[3:]+"\n"); err != nil {
			t.Errorf("VerifyTOTP(spaced code) = %v", err)
		}

		if err := f.svc.RemoveTOTP(ctx, f.a, "u1", "user:u1"); err != nil {
			t.Fatalf("RemoveTOTP: %v", err)
		}
		if err := f.svc.RemoveTOTP(ctx, f.a, "u1", "user:u1"); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Fatalf("RemoveTOTP again = %v, want ErrNotEnrolled", err)
		}
		got := strings.Join(f.actions(t, f.a), " ")
		for _, want := range []string{"mfa.totp.enrol", "mfa.verify.failure", "mfa.totp.remove"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit actions %q lack %s", got, want)
			}
		}
	})
}

func TestTOTPParallelSameCode(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{})
		secret := f.enrolTOTP(t, f.a, "u1")
		f.clock.Add(30 * time.Second)
		code := totpCode(t, secret, f.clock.Now())

		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = f.svc.VerifyTOTP(ctx, f.a, "u1", code)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, mfa.ErrReplay):
			default:
				t.Errorf("VerifyTOTP = %v, want nil or ErrReplay", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d parallel verifications of one code passed, want exactly 1", ok)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{RecoveryCodes: 4})
		codes, err := f.svc.GenerateRecoveryCodes(ctx, f.a, "u1", "user:u1")
		if err != nil {
			t.Fatalf("GenerateRecoveryCodes: %v", err)
		}
		if len(codes) != 4 {
			t.Fatalf("got %d codes, want 4", len(codes))
		}
		for _, c := range codes {
			if len(c) != 14 || c[4] != '-' || c[9] != '-' {
				t.Errorf("code %q is not xxxx-xxxx-xxxx", c)
			}
		}
		if n, err := f.svc.RemainingRecoveryCodes(ctx, f.a, "u1"); err != nil || n != 4 {
			t.Fatalf("RemainingRecoveryCodes = %d, %v; want 4", n, err)
		}
		// Case, dashes and spaces do not matter.
		typed := " " + strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")) + " "
		tests := []struct {
			name string
			code string
			want error
		}{
			{"wrong", "0000-0000-0000", mfa.ErrInvalid},
			{"malformed", "not a code", mfa.ErrInvalid},
			{"normalised", typed, nil},
			{"used again", codes[0], mfa.ErrInvalid},
			{"second", codes[1], nil},
		}
		for _, tt := range tests {
			err := f.svc.UseRecoveryCode(ctx, f.a, "u1", tt.code)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("%s: UseRecoveryCode = %v, want %v", tt.name, err, tt.want)
			}
		}
		if st, err := f.svc.Factors(ctx, f.a, "u1"); err != nil || st.RecoveryLeft != 2 {
			t.Fatalf("Factors = %+v, %v; want RecoveryLeft 2", st, err)
		}

		// Parallel use of one code: exactly one passes.
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() { errs[i] = f.svc.UseRecoveryCode(ctx, f.a, "u1", codes[2]) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, mfa.ErrInvalid) {
				t.Errorf("UseRecoveryCode = %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d parallel uses of one recovery code passed, want 1", ok)
		}

		// Regenerating replaces the old codes.
		fresh, err := f.svc.GenerateRecoveryCodes(ctx, f.a, "u1", "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.a, "u1", codes[3]); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("old code after regenerate = %v, want ErrInvalid", err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.a, "u1", fresh[3]); err != nil {
			t.Errorf("fresh code = %v", err)
		}
		got := strings.Join(f.actions(t, f.a), " ")
		for _, want := range []string{"mfa.recovery.generate", "mfa.recovery.use", "mfa.verify.failure"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit actions %q lack %s", got, want)
			}
		}
	})
}

func TestOneTimeCodes(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{CodeTTL: 5 * time.Minute, MaxAttempts: 3, CodeDigits: 8})

		if _, err := f.svc.IssueCode(ctx, f.a, "u1", "pigeon", "signin"); !errors.Is(err, mfa.ErrBadRequest) {
			t.Errorf("IssueCode(bad channel) = %v, want ErrBadRequest", err)
		}
		if _, err := f.svc.IssueCode(ctx, f.a, "u1", mfa.SMS, "Sign In"); !errors.Is(err, mfa.ErrBadRequest) {
			t.Errorf("IssueCode(bad purpose) = %v, want ErrBadRequest", err)
		}
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", "12345678"); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("VerifyCode without a code = %v, want ErrInvalid", err)
		}

		issue := func(purpose string) string {
			t.Helper()
			c, err := f.svc.IssueCode(ctx, f.a, "u1", mfa.Email, purpose)
			if err != nil {
				t.Fatalf("IssueCode: %v", err)
			}
			if len(c) != 8 || strings.Trim(c, "0123456789") != "" {
				t.Fatalf("code %q is not 8 digits", c)
			}
			return c
		}
		wrong := func(c string) string {
			if c == "00000000" {
				return "00000001"
			}
			return "00000000"
		}

		// Single use.
		c := issue("signin")
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", " "+c+" "); err != nil {
			t.Fatalf("VerifyCode = %v", err)
		}
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", c); !errors.Is(err, mfa.ErrInvalid) {
			t.Fatalf("VerifyCode again = %v, want ErrInvalid", err)
		}

		// Expiry.
		c = issue("signin")
		f.clock.Add(5*time.Minute + time.Second)
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", c); !errors.Is(err, mfa.ErrExpired) {
			t.Fatalf("VerifyCode after expiry = %v, want ErrExpired", err)
		}

		// Attempts: the third wrong try burns the code.
		c = issue("signin")
		steps := []struct {
			code string
			want error
		}{
			{wrong(c), mfa.ErrInvalid},
			{wrong(c), mfa.ErrInvalid},
			{wrong(c), mfa.ErrTooManyAttempts},
			{c, mfa.ErrTooManyAttempts},
		}
		for i, s := range steps {
			if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", s.code); !errors.Is(err, s.want) {
				t.Fatalf("try %d: VerifyCode = %v, want %v", i+1, err, s.want)
			}
		}

		// A new code replaces the old one; purposes are separate.
		old := issue("signin")
		other := issue("email.change")
		fresh := issue("signin")
		if old != fresh {
			if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", old); !errors.Is(err, mfa.ErrInvalid) {
				t.Fatalf("old code = %v, want ErrInvalid", err)
			}
		}
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", fresh); err != nil {
			t.Fatalf("fresh code = %v", err)
		}
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "email.change", other); err != nil {
			t.Fatalf("other purpose = %v", err)
		}

		// Parallel guesses cannot exceed the attempt limit, and of
		// parallel right answers exactly one passes.
		c = issue("signin")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = f.svc.VerifyCode(ctx, f.a, "u1", "signin", c) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, mfa.ErrInvalid) {
				t.Errorf("parallel VerifyCode = %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d parallel verifications passed, want 1", ok)
		}
		c = issue("signin")
		errs = make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = f.svc.VerifyCode(ctx, f.a, "u1", "signin", wrong(c)) })
		}
		wg.Wait()
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", c); !errors.Is(err, mfa.ErrTooManyAttempts) {
			t.Errorf("right code after parallel guesses = %v, want ErrTooManyAttempts", err)
		}
		got := strings.Join(f.actions(t, f.a), " ")
		for _, want := range []string{"mfa.code.send", "mfa.verify.failure"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit actions %q lack %s", got, want)
			}
		}
	})
}

func TestCrossTenant(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{})
		secret := f.enrolTOTP(t, f.a, "u1")
		codes, err := f.svc.GenerateRecoveryCodes(ctx, f.a, "u1", "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		otc, err := f.svc.IssueCode(ctx, f.a, "u1", mfa.SMS, "signin")
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(30 * time.Second)
		code := totpCode(t, secret, f.clock.Now())

		if st, err := f.svc.Factors(ctx, f.b, "u1"); err != nil || st != (mfa.Status{}) {
			t.Errorf("tenant B Factors = %+v, %v; want none", st, err)
		}
		if err := f.svc.VerifyTOTP(ctx, f.b, "u1", code); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Errorf("tenant B VerifyTOTP = %v, want ErrNotEnrolled", err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.b, "u1", codes[0]); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("tenant B UseRecoveryCode = %v, want ErrInvalid", err)
		}
		if err := f.svc.VerifyCode(ctx, f.b, "u1", "signin", otc); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("tenant B VerifyCode = %v, want ErrInvalid", err)
		}
		if err := f.svc.Reset(ctx, f.b, "u1", "user:admin"); err != nil {
			t.Fatalf("tenant B Reset: %v", err)
		}
		// Tenant A's factors are untouched and still work.
		if err := f.svc.VerifyTOTP(ctx, f.a, "u1", code); err != nil {
			t.Errorf("tenant A VerifyTOTP = %v", err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.a, "u1", codes[0]); err != nil {
			t.Errorf("tenant A UseRecoveryCode = %v", err)
		}
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", otc); err != nil {
			t.Errorf("tenant A VerifyCode = %v", err)
		}
		for _, a := range f.actions(t, f.b) {
			if a != "mfa.verify.failure" && a != "mfa.reset" {
				t.Errorf("tenant B has audit action %s", a)
			}
		}
		if _, err := f.svc.Factors(ctx, "", "u1"); !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("Factors without tenant = %v, want ErrNoTenant", err)
		}
	})
}

func TestReset(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{})
		secret := f.enrolTOTP(t, f.a, "u1")
		f.enrolTOTP(t, f.a, "u2")
		codes, err := f.svc.GenerateRecoveryCodes(ctx, f.a, "u1", "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		otc, err := f.svc.IssueCode(ctx, f.a, "u1", mfa.Email, "signin")
		if err != nil {
			t.Fatal(err)
		}
		all, err := f.svc.AllFactors(ctx, f.a)
		if err != nil || !all["u1"].TOTP || all["u1"].RecoveryLeft != len(codes) || !all["u2"].TOTP || len(all) != 2 {
			t.Fatalf("AllFactors = %+v, %v", all, err)
		}
		if other, err := f.svc.AllFactors(ctx, f.b); err != nil || len(other) != 0 {
			t.Fatalf("AllFactors of another tenant = %+v, %v", other, err)
		}
		if err := f.svc.Reset(ctx, f.a, "u1", "user:admin"); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		if st, err := f.svc.Factors(ctx, f.a, "u1"); err != nil || st != (mfa.Status{}) {
			t.Errorf("Factors after Reset = %+v, %v; want none", st, err)
		}
		if st, err := f.svc.Factors(ctx, f.a, "u2"); err != nil || !st.TOTP {
			t.Errorf("other user's Factors after Reset = %+v, %v; want TOTP", st, err)
		}
		f.clock.Add(30 * time.Second)
		if err := f.svc.VerifyTOTP(ctx, f.a, "u1", totpCode(t, secret, f.clock.Now())); !errors.Is(err, mfa.ErrNotEnrolled) {
			t.Errorf("VerifyTOTP after Reset = %v, want ErrNotEnrolled", err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.a, "u1", codes[0]); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("UseRecoveryCode after Reset = %v, want ErrInvalid", err)
		}
		if err := f.svc.VerifyCode(ctx, f.a, "u1", "signin", otc); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("VerifyCode after Reset = %v, want ErrInvalid", err)
		}
		acts := f.actions(t, f.a)
		found := false
		for _, a := range acts {
			found = found || a == "mfa.reset"
		}
		if !found {
			t.Errorf("audit actions %q lack mfa.reset", acts)
		}
	})
}

// TestTOTPSecretBoundToUser moves a sealed secret to another user's row,
// as someone with write access to the database might: it no longer opens.
func TestTOTPSecretBoundToUser(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{})
		secret := f.enrolTOTP(t, f.a, "u1")
		err := db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO mfa_totp (tenant_id, user_id, id, secret, confirmed, last_step, created_at)
				SELECT tenant_id, 'u2', id, secret, confirmed, last_step, created_at FROM mfa_totp WHERE user_id = 'u1'`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(30 * time.Second)
		err = f.svc.VerifyTOTP(ctx, f.a, "u2", totpCode(t, secret, f.clock.Now()))
		if err == nil || !errors.Is(err, crypto.ErrOpen) {
			t.Fatalf("VerifyTOTP with a moved secret = %v, want crypto.ErrOpen", err)
		}
		if err := f.svc.VerifyTOTP(ctx, f.a, "u1", totpCode(t, secret, f.clock.Now())); err != nil {
			t.Fatalf("VerifyTOTP of the owner = %v", err)
		}
	})
}

func TestBadArguments(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mfa.Options{})
		long := strings.Repeat("x", 129)
		tests := []struct {
			name string
			err  error
		}{
			{"BeginTOTP empty user", func() error { _, err := f.svc.BeginTOTP(ctx, f.a, "", "a"); return err }()},
			{"VerifyTOTP long user", f.svc.VerifyTOTP(ctx, f.a, long, "123456")},
			{"GenerateRecoveryCodes empty user", func() error { _, err := f.svc.GenerateRecoveryCodes(ctx, f.a, "", "a"); return err }()},
			{"VerifyCode bad purpose", f.svc.VerifyCode(ctx, f.a, "u1", "", "123456")},
			{"Reset empty user", f.svc.Reset(ctx, f.a, "", "user:admin")},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, mfa.ErrBadRequest) {
				t.Errorf("%s = %v, want ErrBadRequest", tt.name, tt.err)
			}
		}
	})
}
