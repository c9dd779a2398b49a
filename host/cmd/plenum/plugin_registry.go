package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/plenum-vote/plenum/host/config"
	"github.com/plenum-vote/plenum/host/registry"
)

func pluginInstall(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin install", "plugin install FILE.wasm --manifest plugin.json [--allow-unsigned] [flags]")
	fl := config.Register(fs)
	mf := fs.String("manifest", "", "the plugin's signed manifest `file`")
	unsigned := fs.Bool("allow-unsigned", false, "install even without a signature by a trusted key (PLENUM_PLUGIN_TRUSTED_KEYS)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *mf == "" {
		fs.Usage()
		return errUsage
	}
	module, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	manifest, err := os.ReadFile(*mf)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.Registry.Install(ctx, registry.InstallRequest{Module: module, Manifest: manifest, AllowUnsigned: *unsigned, Actor: "operator:cli"})
	if err != nil {
		return err
	}
	signer := "UNSIGNED"
	if p.SignedBy != nil {
		signer = "key " + *p.SignedBy
	}
	fmt.Fprintf(env.stdout, "installed %s %s (sha256 %s, signed by %s)\n", p.Name, p.Version, p.SHA256[:16], signer)
	return nil
}

func pluginList(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin list", "plugin list [--tenant SLUG] [flags]")
	fl := config.Register(fs)
	slug := fs.String("tenant", "", "list the plugins enabled for this tenant (`slug`) instead")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	if *slug != "" {
		t, err := a.Tenants.BySlug(ctx, *slug)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", *slug, err)
		}
		bs, err := a.Registry.Bindings(ctx, t.ID)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "HOOK\tPLUGIN\tVERSION\tENABLED\tBY")
		for _, b := range bs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Hook, b.PluginName, b.PluginVersion, b.EnabledAt.Format("2006-01-02 15:04"), b.EnabledBy)
		}
		return tw.Flush()
	}
	ps, err := a.Registry.List(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(tw, "NAME\tVERSION\tSIGNED BY\tSHA256\tINSTALLED")
	for _, p := range ps {
		signer := "UNSIGNED"
		if p.SignedBy != nil {
			signer = *p.SignedBy
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, signer, p.SHA256[:16], p.InstalledAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func pluginEnable(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin enable", "plugin enable --tenant SLUG --hook HOOK --plugin NAME@VERSION [--plugin-config FILE] [flags]")
	fl := config.Register(fs)
	slug := fs.String("tenant", "", "tenant `slug`")
	hook := fs.String("hook", "", "the `hook` the plugin decides, e.g. tally")
	ref := fs.String("plugin", "", "installed plugin as `name@version`")
	cfgFile := fs.String("plugin-config", "", "the tenant's configuration of the plugin, JSON `file`")
	if err := parse(fs, args); err != nil {
		return err
	}
	name, version, ok := strings.Cut(*ref, "@")
	if *slug == "" || *hook == "" || !ok {
		fs.Usage()
		return errUsage
	}
	var cfg []byte
	if *cfgFile != "" {
		b, err := os.ReadFile(*cfgFile)
		if err != nil {
			return err
		}
		cfg = b
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
	b, err := a.Registry.Enable(ctx, registry.EnableRequest{TenantID: t.ID, Hook: *hook, Plugin: name, Version: version, Config: cfg, Actor: "operator:cli"})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s now decides %s for %s\n", b.PluginName+" "+b.PluginVersion, b.Hook, t.Slug)
	return nil
}

func pluginDisable(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin disable", "plugin disable --tenant SLUG --hook HOOK [flags]")
	fl := config.Register(fs)
	slug := fs.String("tenant", "", "tenant `slug`")
	hook := fs.String("hook", "", "the `hook`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" || *hook == "" {
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
	if err := a.Registry.Disable(ctx, t.ID, *hook, "operator:cli"); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "disabled the %s plugin of %s\n", *hook, t.Slug)
	return nil
}
