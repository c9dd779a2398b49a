package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/identity/password"
	"github.com/plenum-vote/plenum/core/tenancy"
)

// FirstOperatorEmail is the e-mail address of the operator account created
// on first start.
const FirstOperatorEmail = "operator@plenum.localhost"

// DemoSlug is the slug of the demo tenant created on first start.
const DemoSlug = "demo"

// FirstStart reports what Bootstrap created.
type FirstStart struct {
	// OperatorCreated is set when the first operator account was made;
	// its password is in PasswordFile.
	OperatorCreated bool
	OperatorEmail   string
	PasswordFile    string
	// DemoTenant is the demo tenant, when one exists.
	DemoTenant *tenancy.Tenant
	// DemoOwnerEmail signs in to the demo tenant as its owner, with the
	// password in DemoOwnerPasswordFile (when that file still exists).
	DemoOwnerEmail        string
	DemoOwnerPasswordFile string
	// MailDir is where e-mail goes when no SMTP relay is configured.
	MailDir string
}

// DemoOwnerEmail is the owner account of the demo tenant.
const DemoOwnerEmail = "owner@demo.plenum.localhost"

// Bootstrap creates the first operator account (with a generated password
// written to InitialPasswordFile with 0600 permissions) when there is none,
// and the demo tenant when the configuration asks for it and no tenant
// exists yet. It is idempotent.
func (a *App) Bootstrap(ctx context.Context) (*FirstStart, error) {
	fsr := &FirstStart{OperatorEmail: FirstOperatorEmail, PasswordFile: a.InitialPasswordFile()}
	n, err := a.Operators.Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count operators: %w", err)
	}
	if n == 0 {
		pw, err := identity.GeneratePassword()
		if err != nil {
			return nil, err
		}
		// Write the file first: an account whose password was lost helps
		// nobody, a file without an account is harmless.
		if err := writeSecretFile(fsr.PasswordFile, pw+"\n"); err != nil {
			return nil, err
		}
		if _, err := a.Operators.Create(ctx, FirstOperatorEmail, pw, "system"); err != nil {
			return nil, fmt.Errorf("create first operator: %w", err)
		}
		fsr.OperatorCreated = true
	} else if _, err := os.Stat(fsr.PasswordFile); errors.Is(err, fs.ErrNotExist) {
		fsr.PasswordFile = ""
	}
	if a.Config.Demo {
		t, err := a.Tenants.BySlug(ctx, DemoSlug)
		switch {
		case errors.Is(err, tenancy.ErrNotFound):
			all, err := a.Tenants.List(ctx, true)
			if err != nil {
				return nil, err
			}
			if len(all) == 0 {
				t, err = a.Tenants.Create(ctx, tenancy.CreateRequest{
					Slug: DemoSlug, Name: "Demo Residents' Association", Actor: "system",
				})
				if err != nil {
					return nil, fmt.Errorf("create demo tenant: %w", err)
				}
				fsr.DemoTenant = t
				if err := a.createDemoOwner(ctx, t); err != nil {
					return nil, err
				}
			}
		case err != nil:
			return nil, err
		default:
			fsr.DemoTenant = t
		}
	}
	if fsr.DemoTenant != nil {
		fsr.DemoOwnerEmail = DemoOwnerEmail
		if _, err := os.Stat(a.demoOwnerPasswordFile()); err == nil {
			fsr.DemoOwnerPasswordFile = a.demoOwnerPasswordFile()
		}
	}
	if a.Config.Mail.SMTPHost == "" {
		fsr.MailDir = a.Config.Mail.Dir
	}
	return fsr, nil
}

func (a *App) demoOwnerPasswordFile() string {
	return filepath.Join(a.Config.DataDir, "initial-demo-owner-password")
}

// createDemoOwner makes the demo tenant's owner account with a generated
// password, written to a 0600 file like the operator's.
func (a *App) createDemoOwner(ctx context.Context, t *tenancy.Tenant) error {
	u, tok, err := a.Users.Invite(ctx, t.ID, "system", DemoOwnerEmail, "Demo Owner", identity.RequestMeta{})
	if err != nil {
		return fmt.Errorf("create demo owner: %w", err)
	}
	// A random password very rarely trips the policy (a run like "abcd"):
	// draw again then.
	for try := 0; ; try++ {
		pw, err := identity.GeneratePassword()
		if err != nil {
			return err
		}
		if err := writeSecretFile(a.demoOwnerPasswordFile(), pw+"\n"); err != nil {
			return err
		}
		_, err = a.Users.SetPasswordWithLink(ctx, t.ID, tok, pw, false, identity.RequestMeta{})
		if err == nil {
			break
		}
		if !errors.Is(err, password.ErrWeak) || try == 10 {
			return fmt.Errorf("set demo owner password: %w", err)
		}
	}
	if err := a.Access.Assign(ctx, t.ID, "system", u.ID, "owner"); err != nil {
		return fmt.Errorf("make demo owner: %w", err)
	}
	return nil
}

// writeSecretFile writes path with 0600 permissions, replacing a stale
// file from an earlier data set.
func writeSecretFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
