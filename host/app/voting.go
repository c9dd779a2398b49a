package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plenum-vote/plenum/core/lifecycle"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/plugintool"
	"github.com/plenum-vote/plenum/host/registry"
)

// BundledPlugins are the first-party plugins installed from the source
// tree, by folder under plugins/: the tally methods a ballot may name and
// the default retention policy.
func BundledPlugins() []string {
	return []string{"majority", "plurality", "approval", "irv", "stv", "condorcet", "retention-default"}
}

// openVoting builds the ballot service over the tally plugins.
func (a *App) openVoting() error {
	b, err := voting.NewBallots(a.DB, a.Audit, a.Keys, a.Runner.Tallier(), nil)
	if err != nil {
		return fmt.Errorf("ballots: %w", err)
	}
	a.Ballots = b
	return nil
}

// eraser erases users through core/lifecycle for the admin pages.
type eraser struct{ a *App }

func (e eraser) EraseUser(ctx context.Context, tenantID, actor, userID string) error {
	_, err := lifecycle.EraseUser(ctx, e.a.DB, e.a.Audit, tenantID, actor, userID)
	return err
}

// SourceRoot returns the root of Plenum's source tree when the process
// runs inside it (as `go tool task run` does), or "".
func SourceRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/plenum-vote/plenum\n") {
			if _, err := os.Stat(filepath.Join(dir, "plugins", "majority")); err == nil {
				return dir
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// InstallBundled builds the first-party plugins from the source tree
// at root and installs those not yet installed in that version. They are
// the operator's own build of Plenum's code, so they are accepted
// unsigned; everything else still needs a trusted signature.
func (a *App) InstallBundled(ctx context.Context, root string, build func(dir string) ([]byte, error)) (int, error) {
	if build == nil {
		build = plugintool.Build
	}
	n := 0
	for _, name := range BundledPlugins() {
		dir := filepath.Join(root, "plugins", name)
		manifest, err := os.ReadFile(filepath.Join(dir, "plugin.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("plugin %s: %w", name, err)
		}
		module, err := build(dir)
		if err != nil {
			return n, fmt.Errorf("build plugin %s: %w", name, err)
		}
		_, err = a.Registry.Install(ctx, registry.InstallRequest{Module: module, Manifest: manifest, AllowUnsigned: true, Actor: "system:bundled"})
		if err != nil && !errors.Is(err, registry.ErrExists) {
			return n, fmt.Errorf("install plugin %s: %w", name, err)
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}

// ReminderLead is how long before a ballot closes the scheduled reminder
// goes to the owners of units that have not voted.
const ReminderLead = 24 * time.Hour

// remindDue sends the scheduled reminders of the tenant's ballots that
// close within ReminderLead; each ballot is claimed once, so several
// hosts do not send twice.
func (a *App) remindDue(ctx context.Context, tenantID string) {
	due, err := a.Ballots.DueReminders(ctx, tenantID, ReminderLead)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("ballot reminders", "tenant", tenantID, "error", err)
		}
		return
	}
	for i := range due {
		if _, err := a.Server.RemindNonVoters(ctx, tenantID, "system:scheduler", &due[i]); err != nil {
			a.Logger.Error("ballot reminders", "tenant", tenantID, "error", err)
		}
	}
}

// votingLoop closes ballots whose time is up, every interval, so that
// results can be counted without anyone opening the ballot first, and
// sends the scheduled reminders.
func (a *App) votingLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tenants, err := a.Tenants.List(ctx, false)
			if err != nil {
				a.Logger.Error("close due ballots", "error", err)
				continue
			}
			for _, tn := range tenants {
				if err := a.Ballots.CloseDue(ctx, tn.ID); err != nil && ctx.Err() == nil {
					a.Logger.Error("close due ballots", "tenant", tn.ID, "error", err)
				}
				a.remindDue(ctx, tn.ID)
			}
		}
	}
}
