package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Serve runs the HTTP server on ln (or on Config.Listen when ln is nil)
// and the background jobs until ctx ends, then shuts down gracefully: the
// server stops accepting, in-flight requests finish within
// Config.ShutdownTimeout, and a last audit checkpoint is written. ready,
// when not nil, is called once the server accepts connections.
func (a *App) Serve(ctx context.Context, ln net.Listener, ready func(addr net.Addr)) error {
	srv := a.Server
	var err error
	if ln == nil {
		ln, err = net.Listen("tcp", a.Config.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w (set PLENUM_LISTEN or --listen to a free address)", a.Config.Listen, err)
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr())
	}
	jobs, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		var wg sync.WaitGroup
		wg.Go(func() { a.votingLoop(jobs, time.Minute) })
		if a.Config.Backups {
			wg.Go(func() { a.backupLoop(jobs) })
		}
		wg.Go(func() { a.retentionLoop(jobs) })
		a.checkpointLoop(jobs)
		wg.Wait()
	}()

	select {
	case err = <-serveErr:
		stopJobs()
		<-jobsDone
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	// If Shutdown ran before the server goroutine reached its accept loop,
	// it had nothing to stop; closing the listener ends Serve either way.
	_ = ln.Close()
	stopJobs()
	<-jobsDone
	if err := <-serveErr; err != nil && !errors.Is(err, net.ErrClosed) {
		a.Logger.Error("server", "error", err)
	}
	if _, err := a.Audit.Checkpoint(sctx); err != nil {
		a.Logger.Error("final audit checkpoint", "error", err)
	}
	return shutErr
}

// checkpointLoop signs the heads of advanced audit chains every
// Config.CheckpointInterval.
func (a *App) checkpointLoop(ctx context.Context) {
	t := time.NewTicker(a.Config.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.Audit.Checkpoint(ctx); err != nil {
				if ctx.Err() == nil {
					a.Logger.Error("audit checkpoint", "error", err)
				}
			} else if n > 0 {
				a.Logger.Debug("audit checkpoint", "chains", n)
			}
		}
	}
}
