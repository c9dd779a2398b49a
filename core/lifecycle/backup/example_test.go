package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/lifecycle/backup"
	"github.com/plenum-vote/plenum/core/store"
)

// openMigrated opens and migrates a SQLite database at path.
func openMigrated(ctx context.Context, path string) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{Driver: store.SQLite, DSN: path})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Back up one database and restore it into another, empty one.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "backup-example-*")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	src, err := openMigrated(ctx, filepath.Join(dir, "src.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	dst, err := openMigrated(ctx, filepath.Join(dir, "dst.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dst.Close()

	err = src.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO tenants (id, slug, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			"t-1", "rue-12", "Rue de la Paix 12", "active", time.Now(), time.Now())
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	key, err := backup.GenerateKey()
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	made, err := backup.Create(ctx, src, &file, key, backup.CreateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	restored, err := backup.Restore(ctx, dst, &file, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("from", restored.Dialect, "same schema:", restored.SchemaVersion == made.SchemaVersion)
	for _, t := range restored.Tables {
		if t.Name == "tenants" {
			fmt.Println("tenants:", t.Rows)
		}
	}

	// A second restore into the now filled database is refused.
	var again bytes.Buffer
	if _, err := backup.Create(ctx, src, &again, key, backup.CreateOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	_, err = backup.Restore(ctx, dst, &again, key)
	fmt.Println("refused:", errors.Is(err, backup.ErrNotEmpty))
	// Output:
	// from sqlite same schema: true
	// tenants: 1
	// refused: true
}
