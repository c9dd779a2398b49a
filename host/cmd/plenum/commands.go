package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/tenancy"
	"github.com/plenum-vote/plenum/host/app"
	"github.com/plenum-vote/plenum/host/config"
)

// openApp loads the configuration from fl and opens the host.
func openApp(ctx context.Context, env *cmdEnv, fl *config.Flags, migrate bool) (*app.App, error) {
	cfg, err := fl.Load(env.getenv)
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, cfg.Logger(env.stderr), app.Options{Migrate: migrate})
}

func cmdServe(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "serve", "serve [flags]")
	fl := config.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	start := time.Now()
	a, err := openApp(ctx, env, fl, true)
	if err != nil {
		return err
	}
	defer a.Close()
	first, err := a.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if a.MasterKeyGenerated() {
		fmt.Fprintf(env.stderr, "\nWARNING: generated a new master key in %s.\n"+
			"Everything Plenum encrypts depends on it. Back it up somewhere other than this machine now:\n"+
			"without it the data and every backup are unreadable.\n\n", a.Config.MasterKeyFile)
	}
	// The first-party tally plugins are built from the source tree when
	// Plenum runs inside it; elsewhere the operator installs them.
	if root := app.SourceRoot(); root != "" {
		go func() {
			n, err := a.InstallBundled(ctx, root, nil)
			if err != nil {
				a.Logger.Error("bundled tally plugins", "error", err)
				return
			}
			a.Logger.Info("bundled tally plugins ready", "installed", n)
		}()
	} else {
		a.Logger.Info("not in the source tree: install the tally plugins with `plenum plugin install`")
	}
	return a.Serve(ctx, nil, func(addr net.Addr) {
		a.Logger.Info("serving", "addr", addr.String(), "startup", time.Since(start).String())
		printWelcome(env, a, first)
	})
}

func printWelcome(env *cmdEnv, a *app.App, first *app.FirstStart) {
	w := env.stdout
	base := a.Config.BaseURL
	fmt.Fprintf(w, "\nPlenum %s is running at %s (database: %s)\n\n", version(), base, a.DB.Dialect())
	fmt.Fprintf(w, "  Operator console   %s/operator/\n", base)
	fmt.Fprintf(w, "    e-mail           %s\n", first.OperatorEmail)
	switch {
	case first.OperatorCreated:
		fmt.Fprintf(w, "    password         in %s (just created: sign in, keep it safe, delete the file)\n", first.PasswordFile)
	case first.PasswordFile != "":
		fmt.Fprintf(w, "    password         in %s\n", first.PasswordFile)
	default:
		fmt.Fprintf(w, "    password         the one you keep for it\n")
	}
	if first.DemoTenant != nil {
		fmt.Fprintf(w, "  Demo association   %s/t/%s/signin\n", base, first.DemoTenant.Slug)
		fmt.Fprintf(w, "    e-mail           %s (the owner)\n", first.DemoOwnerEmail)
		if first.DemoOwnerPasswordFile != "" {
			fmt.Fprintf(w, "    password         in %s\n", first.DemoOwnerPasswordFile)
		}
	}
	if first.MailDir != "" {
		fmt.Fprintf(w, "  Outgoing e-mail    written to %s (no SMTP relay configured)\n", first.MailDir)
	}
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n")
}

func cmdMigrate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "migrate", "migrate [flags]")
	fl := config.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, true)
	if err != nil {
		return err
	}
	defer a.Close()
	cur, _, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "database schema at version %d\n", cur)
	return nil
}

func cmdTenant(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "tenant", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"create": tenantCreate, "list": tenantList, "delete": tenantDelete,
	}, []string{"create", "list", "delete"})
}

func tenantCreate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "tenant create", "tenant create --slug SLUG --name NAME [--host HOST] [--owner EMAIL] [flags]")
	fl := config.Register(fs)
	slug := fs.String("slug", "", "tenant `slug` used in URLs (/t/SLUG/): lower-case letters, digits, hyphens")
	name := fs.String("name", "", "the association's `name`")
	host := fs.String("host", "", "optional host `name` of the tenant's own")
	owner := fs.String("owner", "", "e-mail `address` of the association's first owner, who gets an invitation link")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" || *name == "" {
		fmt.Fprintln(env.stderr, "plenum tenant create: --slug and --name are required")
		fs.Usage()
		return errUsage
	}
	if *owner != "" {
		if addr, err := mail.ParseAddress(*owner); err != nil || addr.Address != *owner {
			fmt.Fprintln(env.stderr, "plenum tenant create: --owner must be a plain e-mail address")
			return errUsage
		}
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.Create(ctx, tenancy.CreateRequest{Slug: *slug, Name: *name, Host: *host, Actor: "operator:cli"})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created tenant %s (%s) at %s/t/%s/\n", t.Slug, t.ID, a.Config.BaseURL, t.Slug)
	if *owner != "" {
		u, _, err := a.Users.Invite(ctx, t.ID, "operator:cli", *owner, "", identity.RequestMeta{})
		if u == nil {
			return fmt.Errorf("invite the owner: %w", err)
		}
		if aerr := a.Access.Assign(ctx, t.ID, "operator:cli", u.ID, access.RoleOwner); aerr != nil {
			return fmt.Errorf("make %s owner: %w", *owner, aerr)
		}
		if err != nil {
			return err // the account exists; the e-mail failed
		}
		fmt.Fprintf(env.stdout, "invited %s as owner: the invitation link is in the e-mail\n", *owner)
	}
	return nil
}

func tenantList(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "tenant list", "tenant list [--all] [--json] [flags]")
	fl := config.Register(fs)
	all := fs.Bool("all", false, "include deleted tenants")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	ts, err := a.Tenants.List(ctx, *all)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		for _, t := range ts {
			if err := enc.Encode(map[string]any{
				"id": t.ID, "slug": t.Slug, "name": t.Name, "status": t.Status,
				"created_at": t.CreatedAt, "deleted_at": t.DeletedAt,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tSTATUS\tCREATED\tID")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.Name, t.Status, t.CreatedAt.Format(time.DateOnly), t.ID)
	}
	return tw.Flush()
}

func tenantDelete(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "tenant delete", "tenant delete --slug SLUG --yes [flags]")
	fl := config.Register(fs)
	slug := fs.String("slug", "", "`slug` of the tenant to delete")
	yes := fs.Bool("yes", false, "confirm: the tenant stops being served at once; the retention sweep destroys its key after the grace period")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" || !*yes {
		fmt.Fprintln(env.stderr, "plenum tenant delete: --slug is required, and --yes to confirm")
		fs.Usage()
		return errUsage
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.BySlug(ctx, *slug)
	if err != nil {
		return fmt.Errorf("tenant %q: %w", *slug, err)
	}
	if _, err := a.Tenants.Delete(ctx, t.ID, "operator:cli"); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "deleted tenant %s: it is no longer served; its key is to be destroyed after the grace period by the retention sweep\n", t.Slug)
	return nil
}

func cmdAudit(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "audit", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"verify": auditVerify, "export": auditExport,
	}, []string{"verify", "export"})
}

func auditVerify(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "audit verify", "audit verify [--tenant SLUG] [flags]")
	fl := config.Register(fs)
	slug := fs.String("tenant", "", "verify only this tenant's chain (`slug`; \"platform\" for the platform chain)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	opts := audit.VerifyOptions{}
	if *slug != "" {
		id, err := chainID(ctx, a, *slug)
		if err != nil {
			return err
		}
		opts.TenantID = id
	}
	rep, err := a.Audit.Verify(ctx, opts)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(env.stdout, "PROBLEM chain=%s seq=%d %s: %s\n", p.Chain, p.Seq, p.Kind, p.Detail)
	}
	fmt.Fprintf(env.stdout, "verified %d events in %d chains and %d checkpoints in %s: ", rep.Events, rep.Chains, rep.Checkpoints, rep.Duration.Round(time.Millisecond))
	if len(rep.Problems) > 0 {
		fmt.Fprintf(env.stdout, "%d problems\n", len(rep.Problems))
		return fmt.Errorf("audit log failed verification with %d problems", len(rep.Problems))
	}
	fmt.Fprintln(env.stdout, "intact")
	return nil
}

func auditExport(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "audit export", "audit export [--tenant SLUG] [--since TIME] [flags] > events.ndjson")
	fl := config.Register(fs)
	slug := fs.String("tenant", "", "export only this tenant's chain (`slug`)")
	since := fs.String("since", "", "only events at or after this RFC 3339 `time`")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	opts := audit.ExportOptions{}
	if *slug != "" {
		if opts.TenantID, err = chainID(ctx, a, *slug); err != nil {
			return err
		}
	}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return fmt.Errorf("--since %q: want RFC 3339, e.g. 2026-01-02T15:04:05Z", *since)
		}
		opts.Since = t
	}
	_, err = a.Audit.ExportECS(ctx, env.stdout, opts)
	return err
}

// chainID maps a tenant slug (or "platform") to its audit chain id.
func chainID(ctx context.Context, a *app.App, slug string) (string, error) {
	if slug == audit.PlatformChain {
		return audit.PlatformChain, nil
	}
	t, err := a.Tenants.BySlug(ctx, slug)
	if err != nil {
		return "", fmt.Errorf("tenant %q: %w", slug, err)
	}
	return t.ID, nil
}

func cmdKeys(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "keys", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"rotate": keysRotate,
	}, []string{"rotate"})
}

func keysRotate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "keys rotate", "keys rotate [--tenant SLUG] [flags]")
	fl := config.Register(fs)
	slug := fs.String("tenant", "", "rotate this tenant's data key instead of the master key (`slug`)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if *slug != "" {
		id, err := chainID(ctx, a, *slug)
		if err != nil {
			return err
		}
		if err := a.RotateDataKey(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "rotated the data key of %s: new data is encrypted with the new key, existing data stays readable\n", *slug)
		return nil
	}
	n, err := a.RotateMasterKey(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "rotated the master key in %s and re-wrapped %d data keys; back up the new key file now\n", a.Config.MasterKeyFile, n)
	return nil
}

func cmdVersion(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "version", "version [--deps]")
	deps := fs.Bool("deps", false, "also list the module versions built into the binary")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "plenum %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if *deps {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return errors.New("no build information in this binary")
		}
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path + " " + d.Replace.Version
			}
			fmt.Fprintf(env.stdout, "%s %s\n", d.Path, v)
		}
	}
	return nil
}

// version reports the main module's version from the build information,
// or "dev" for a build from a work tree.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "dev"
	}
	return strings.TrimPrefix(bi.Main.Version, "v")
}
