package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/plenum-vote/plenum/core/lifecycle/backup"
)

// Backup schedule: a backup when the newest is a day old, each verified
// by restoring it into a scratch database, kept 30 days.
const (
	backupEvery = 24 * time.Hour
	backupKeep  = 30 * 24 * time.Hour
)

// BackupDir is where scheduled backups go: {DataDir}/backups.
func (a *App) BackupDir() string { return filepath.Join(a.Config.DataDir, "backups") }

// DailyBackup writes a backup when the newest in BackupDir is older than
// a day (or there is none), verifies it by restoring it into a scratch
// database (counts, checksums, audit chain), and removes backups older
// than 30 days, never the newest. It returns the file written, or "" when
// none was due.
func (a *App) DailyBackup(ctx context.Context, now time.Time) (string, error) {
	dir := a.BackupDir()
	files, err := backup.List(dir)
	if err != nil {
		return "", err
	}
	if len(files) > 0 && now.Sub(files[0].ModTime) < backupEvery {
		return "", nil
	}
	key, created, err := backup.LoadKey(os.Getenv(backup.EnvKey), filepath.Join(a.Config.DataDir, "backup.key"), true)
	if err != nil {
		return "", err
	}
	if created {
		a.Logger.Warn("generated a new backup key: keep a copy apart from the backups, which cannot be read without it", "path", filepath.Join(a.Config.DataDir, "backup.key"))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	path := filepath.Join(dir, backup.NewName(now))
	m, err := backup.WriteFile(ctx, a.DB, path, key)
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return path, fmt.Errorf("verify backup: %w", err)
	}
	defer f.Close()
	rep, err := backup.Verify(ctx, f, key)
	if err != nil {
		return path, fmt.Errorf("verify backup %s: %w", path, err)
	}
	if !rep.OK() {
		return path, fmt.Errorf("verify backup %s: %v", path, rep.Problems)
	}
	removed, err := backup.Prune(dir, backupKeep, now)
	if err != nil {
		return path, err
	}
	a.Logger.Info("backup written and verified", "path", path, "tables", len(m.Tables), "rows", rep.Rows, "pruned", len(removed))
	return path, nil
}

// backupLoop runs DailyBackup every hour.
func (a *App) backupLoop(ctx context.Context) {
	run := func() {
		if _, err := a.DailyBackup(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.Logger.Error("scheduled backup", "error", err)
		}
	}
	run()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}
