// Command plenum is the one binary of Plenum: it serves the platform, runs
// migrations, manages tenants, verifies the audit log and rotates keys.
//
// Run `plenum help` or `plenum COMMAND --help` for usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// command is one subcommand of plenum.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cmdEnv, args []string) error
}

// cmdEnv is what every subcommand gets: its output streams and environment.
type cmdEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// errUsage marks an error whose usage text has already been printed.
var errUsage = errors.New("usage")

func commands() []command {
	return []command{
		{"serve", "run the Plenum host (HTTP server and background jobs)", cmdServe},
		{"migrate", "apply pending database migrations and exit", cmdMigrate},
		{"tenant", "create, list or delete tenants (associations)", cmdTenant},
		{"audit", "verify or export the audit log", cmdAudit},
		{"retention", "run the retention sweep, or show what it would do", cmdRetention},
		{"backup", "create, list, verify or restore encrypted backups of the database", cmdBackup},
		{"keys", "rotate the master key or a tenant's data key", cmdKeys},
		{"plugin", "build, inspect, call, sign, verify, install and enable plugins", cmdPlugin},
		{"tally", "count a ballot file (BLT, PrefLib, CSV) by irv, stv, … natively or with a plugin", cmdTally},
		{"version", "print the version", cmdVersion},
	}
}

// run executes plenum with args and returns the process exit code: 0 on
// success, 1 on failure, 2 on wrong usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	env := &cmdEnv{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "plenum %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "plenum: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Plenum: secure votes and member communication for associations.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: plenum COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `plenum COMMAND --help` for the flags of a command.")
}

// newFlagSet returns a flag set that prints usage to env.stderr and
// returns errors instead of exiting.
func newFlagSet(env *cmdEnv, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("plenum "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: plenum %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs, allowing flags after positional arguments
// (`plenum plugin build DIR --out FILE`), and maps a parse error to
// errUsage (the flag package has printed it).
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	// "--" ends the flags, so Args returns exactly the positionals.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return nil
}

// subcommand dispatches to the second-level command named by args[0].
func subcommand(ctx context.Context, env *cmdEnv, group string, args []string, subs map[string]func(context.Context, *cmdEnv, []string) error, names []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.stderr, "Usage: plenum %s {", group)
		for i, n := range names {
			if i > 0 {
				fmt.Fprint(env.stderr, "|")
			}
			fmt.Fprint(env.stderr, n)
		}
		fmt.Fprintln(env.stderr, "} [flags]")
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	fn, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "plenum %s: unknown subcommand %q\n", group, args[0])
		return errUsage
	}
	return fn(ctx, env, args[1:])
}
