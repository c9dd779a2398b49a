package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/plenum-vote/plenum/core/lifecycle/backup"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/host/config"
)

func cmdBackup(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "backup", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"create": backupCreate, "list": backupList, "verify": backupVerify, "restore": backupRestore,
	}, []string{"create", "list", "verify", "restore"})
}

// backupKey returns the backup key from PLENUM_BACKUP_KEY or
// {DataDir}/backup.key; with generate, a missing key file is created.
func backupKey(env *cmdEnv, cfg config.Config, generate bool) ([]byte, error) {
	path := filepath.Join(cfg.DataDir, "backup.key")
	k, created, err := backup.LoadKey(env.getenv(backup.EnvKey), path, generate)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(env.stderr, "generated a new backup key in %s: keep a copy apart from the backups, which cannot be read without it\n", path)
	}
	return k, nil
}

// backupDir is --dir or {DataDir}/backups.
func backupDir(cfg config.Config, dir string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(cfg.DataDir, "backups")
}

func backupCreate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "backup create", "backup create [--out FILE | --dir DIR] [flags]")
	fl := config.Register(fs)
	out := fs.String("out", "", "write the backup to this `file`")
	dir := fs.String("dir", "", "write a timestamped backup into this `directory` (default {data-dir}/backups)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out != "" && *dir != "" {
		fmt.Fprintln(env.stderr, "plenum backup create: give --out or --dir, not both")
		return errUsage
	}
	cfg, err := fl.Load(env.getenv)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.StoreConfig())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	key, err := backupKey(env, cfg, true)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		d := backupDir(cfg, *dir)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("backup directory %s: %w", d, err)
		}
		path = filepath.Join(d, backup.NewName(time.Now()))
	}
	m, err := backup.WriteFile(ctx, db, path, key)
	if err != nil {
		return err
	}
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(env.stdout, "wrote backup %s: %d tables, %d rows, schema version %d, from %s\n", path, len(m.Tables), rows, m.SchemaVersion, m.Dialect)
	return nil
}

func backupList(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "backup list", "backup list [--dir DIR] [flags]")
	fl := config.Register(fs)
	dir := fs.String("dir", "", "list the backups in this `directory` (default {data-dir}/backups)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := fl.Load(env.getenv)
	if err != nil {
		return err
	}
	d := backupDir(cfg, *dir)
	files, err := backup.List(d)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintf(env.stdout, "no backups in %s\n", d)
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tMODIFIED")
	for _, f := range files {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Path, f.Size, f.ModTime.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// backupFile reads the one positional FILE argument.
func backupFile(env *cmdEnv, fs interface{ Args() []string }, usage func(), cmd string) (string, error) {
	if len(fs.Args()) != 1 {
		fmt.Fprintf(env.stderr, "plenum backup %s: give exactly one backup FILE\n", cmd)
		usage()
		return "", errUsage
	}
	return fs.Args()[0], nil
}

func backupVerify(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "backup verify", "backup verify FILE [flags]")
	fl := config.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	path, err := backupFile(env, fs, fs.Usage, "verify")
	if err != nil {
		return err
	}
	cfg, err := fl.Load(env.getenv)
	if err != nil {
		return err
	}
	key, err := backupKey(env, cfg, false)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify backup: %w", err)
	}
	defer f.Close()
	rep, err := backup.Verify(ctx, f, key)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(env.stdout, "PROBLEM %s\n", p)
	}
	for _, p := range rep.Audit.Problems {
		fmt.Fprintf(env.stdout, "PROBLEM audit chain=%s seq=%d %s: %s\n", p.Chain, p.Seq, p.Kind, p.Detail)
	}
	m := rep.Manifest
	fmt.Fprintf(env.stdout, "backup %s of %s (schema version %d, from %s): restored %d tables and %d rows, %d audit events in %d chains: ",
		path, m.CreatedAt.Format(time.RFC3339), m.SchemaVersion, m.Dialect, rep.Tables, rep.Rows, rep.Audit.Events, rep.Audit.Chains)
	if !rep.OK() {
		fmt.Fprintln(env.stdout, "PROBLEMS")
		return fmt.Errorf("backup %s failed verification", path)
	}
	fmt.Fprintln(env.stdout, "intact")
	return nil
}

func backupRestore(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "backup restore", "backup restore FILE --yes [flags]")
	fl := config.Register(fs)
	yes := fs.Bool("yes", false, "confirm: restore into the configured database, which must be empty")
	if err := parse(fs, args); err != nil {
		return err
	}
	path, err := backupFile(env, fs, fs.Usage, "restore")
	if err != nil {
		return err
	}
	if !*yes {
		fmt.Fprintln(env.stderr, "plenum backup restore: --yes is required to confirm")
		fs.Usage()
		return errUsage
	}
	cfg, err := fl.Load(env.getenv)
	if err != nil {
		return err
	}
	key, err := backupKey(env, cfg, false)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore backup: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	db, err := store.Open(ctx, cfg.StoreConfig())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	m, err := backup.Restore(ctx, db, f, key)
	if err != nil {
		return err
	}
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	fmt.Fprintf(env.stdout, "restored %s: %d tables, %d rows, schema version %d, taken %s from %s\n",
		path, len(m.Tables), rows, m.SchemaVersion, m.CreatedAt.Format(time.RFC3339), m.Dialect)
	master := cfg.MasterKeyFile
	if cfg.MasterKey == "" {
		if _, err := os.Stat(master); err != nil {
			fmt.Fprintf(env.stdout, "now put the original installation's master key at %s (or set PLENUM_MASTER_KEY): the data keys in the backup are wrapped with it, and nothing encrypted is readable without it\n", master)
			return nil
		}
	}
	fmt.Fprintln(env.stdout, "the data keys in the backup are wrapped with the original installation's master key: plenum starts only if the configured one is that key")
	return nil
}
