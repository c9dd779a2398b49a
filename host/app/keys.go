package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/crypto"
)

// RotateDataKey gives scope (a tenant id, or "platform") a new primary data
// key and records it on the platform audit chain.
func (a *App) RotateDataKey(ctx context.Context, scope string) error {
	if err := a.Keys.RotateDataKey(ctx, scope); err != nil {
		return err
	}
	return a.platformEvent(ctx, audit.Event{Actor: "operator:cli", Action: "keys.rotate_data_key", Target: "scope:" + scope})
}

// RotateMasterKey replaces the master key with one that has a new primary
// key (and keeps the old ones for older backups), then re-wraps every data
// key under it. The key file is written first: until the re-wrap commits,
// both old and new records open with it. It returns how many data keys
// were re-wrapped.
func (a *App) RotateMasterKey(ctx context.Context) (int, error) {
	if a.Config.MasterKey != "" {
		return 0, errors.New("the master key comes from PLENUM_MASTER_KEY: move it to a key file (PLENUM_MASTER_KEY_FILE) to rotate it here")
	}
	cur, err := crypto.LoadMasterKeyFile(a.Config.MasterKeyFile)
	if err != nil {
		return 0, err
	}
	next, err := cur.Rotated()
	if err != nil {
		return 0, err
	}
	if err := next.WriteFile(a.Config.MasterKeyFile); err != nil {
		return 0, err
	}
	n, err := a.Keys.RotateMaster(ctx, next)
	if err != nil {
		return 0, fmt.Errorf("%w (the key file already holds the new key, which also opens the old records: run the rotation again)", err)
	}
	return n, a.platformEvent(ctx, audit.Event{Actor: "operator:cli", Action: "keys.rotate_master_key", Target: "platform",
		Details: map[string]string{"rewrapped": strconv.Itoa(n), "keys_in_master": strconv.Itoa(next.Len())}})
}

// platformEvent appends ev to the platform chain in a transaction of its
// own.
func (a *App) platformEvent(ctx context.Context, ev audit.Event) error {
	return a.DB.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		stx, err := a.DB.System().Scope(tx, audit.PlatformChain)
		if err != nil {
			return err
		}
		_, err = a.Audit.Append(ctx, stx, ev)
		return err
	})
}
