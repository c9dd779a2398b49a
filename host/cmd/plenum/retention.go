package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/plenum-vote/plenum/host/config"
)

func cmdRetention(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "retention", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"sweep": retentionSweep,
	}, []string{"sweep"})
}

// retentionSweep runs the retention sweep now, or with --dry-run shows
// what it would do.
func retentionSweep(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "retention sweep", "retention sweep [--dry-run] [--json] [flags]")
	fl := config.Register(fs)
	dry := fs.Bool("dry-run", false, "show what the sweep would do, change nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, fl, false)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.Sweeper(nil).Sweep(ctx, *dry)
	if rep != nil {
		if *asJSON {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(rep); jerr != nil {
				return jerr
			}
		} else {
			verb := "swept"
			if *dry {
				verb = "would sweep"
			}
			fmt.Fprintf(env.stdout, "%s %d tenants\n", verb, len(rep.Tenants))
			for _, t := range rep.Tenants {
				var parts []string
				for class, actions := range t.Decisions {
					for action, n := range actions {
						parts = append(parts, fmt.Sprintf("%s %s %d", class, action, n))
					}
				}
				sort.Strings(parts)
				fmt.Fprintf(env.stdout, "  %s: %s\n", t.TenantID, strings.Join(parts, ", "))
			}
			for _, id := range rep.Shredded {
				fmt.Fprintf(env.stdout, "  key destroyed: %s\n", id)
			}
			for _, e := range rep.Errors {
				fmt.Fprintf(env.stdout, "  ERROR %s\n", e)
			}
		}
	}
	return err
}
