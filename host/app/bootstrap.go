package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/plenum-vote/plenum/core/identity"
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
}

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
			}
		case err != nil:
			return nil, err
		default:
			fsr.DemoTenant = t
		}
	}
	return fsr, nil
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
