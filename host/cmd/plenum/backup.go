package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plenum-vote/plenum/core/lifecycle/backup"
	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/host/config"
)

// backupExt names the files `plenum backup create` writes and `list` finds.
const backupExt = ".plenum-backup"

// backupKeyEnv holds a base64 backup key that overrides {DataDir}/backup.key.
const backupKeyEnv = "PLENUM_BACKUP_KEY"

func cmdBackup(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "backup", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"create": backupCreate, "list": backupList, "verify": backupVerify, "restore": backupRestore,
	}, []string{"create", "list", "verify", "restore"})
}

// backupKey returns the backup key from PLENUM_BACKUP_KEY or
// {DataDir}/backup.key; with generate, a missing key file is created.
func backupKey(env *cmdEnv, cfg config.Config, generate bool) ([]byte, error) {
	if s := env.getenv(backupKeyEnv); s != "" {
		k, err := backup.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", backupKeyEnv, err)
		}
		return k, nil
	}
	path := filepath.Join(cfg.DataDir, "backup.key")
	k, err := backup.LoadKeyFile(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !generate {
		return nil, fmt.Errorf("no backup key: put the backup.key of the installation that made the backup in %s or set %s", cfg.DataDir, backupKeyEnv)
	}
	if k, err = backup.GenerateKey(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	if err := backup.WriteKeyFile(path, k); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.stderr, "generated a new backup key in %s: keep a copy apart from the backups, which cannot be read without it\n", path)
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
		path = filepath.Join(d, "plenum-"+time.Now().UTC().Format("20060102T150405Z")+backupExt)
	}
	m, err := writeBackup(ctx, db, path, key)
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

// writeBackup writes the backup to a temporary file beside path and
// renames it into place, so path never holds half a backup; an existing
// path is refused.
func writeBackup(ctx context.Context, db *store.DB, path string, key []byte) (*backup.Manifest, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s already exists", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".partial-*"+backupExt)
	if err != nil {
		return nil, fmt.Errorf("write backup: %w", err)
	}
	tmp := f.Name()
	m, err := backup.Create(ctx, db, f, key, backup.CreateOptions{})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write backup: %w", cerr)
	}
	if err == nil {
		if err = os.Link(tmp, path); err != nil {
			err = fmt.Errorf("write backup: %w", err)
		}
	}
	_ = os.Remove(tmp)
	if err != nil {
		return nil, err
	}
	return m, nil
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
	entries, err := os.ReadDir(d)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("list backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), backupExt) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		fmt.Fprintf(env.stdout, "no backups in %s\n", d)
		return nil
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tMODIFIED")
	for _, n := range names {
		st, err := os.Stat(filepath.Join(d, n))
		if err != nil {
			return fmt.Errorf("list backups: %w", err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", filepath.Join(d, n), st.Size(), st.ModTime().UTC().Format(time.RFC3339))
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
