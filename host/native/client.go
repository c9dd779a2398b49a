package native

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plenum-vote/plenum/sdk"
)

// Plugin is a running native plugin. It is safe for concurrent use.
type Plugin struct {
	path     string
	checksum []byte
	timeout  time.Duration

	mu       sync.Mutex
	client   *goplugin.Client
	rpc      *rpcClient
	restarts int
	closed   bool
}

// Options tune Start.
type Options struct {
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
}

// Start launches the executable at path after checking that its SHA-256
// is checksum (go-plugin's SecureConfig), and completes the handshake.
func Start(ctx context.Context, path string, checksum []byte, opts Options) (*Plugin, error) {
	if len(checksum) != sha256.Size {
		return nil, fmt.Errorf("native plugin %s: a SHA-256 checksum is required", path)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	p := &Plugin{path: path, checksum: checksum, timeout: opts.Timeout}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Plugin) start() error {
	cmd := exec.Command(p.path)
	cmd.Env = []string{} // nothing of the host's environment (secrets) leaks into the plugin
	orphanProof(cmd)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake(),
		Plugins:          goplugin.PluginSet{pluginKey: &hooksPlugin{}},
		Cmd:              cmd,
		SecureConfig:     &goplugin.SecureConfig{Checksum: p.checksum, Hash: sha256.New()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off}),
		StartTimeout:     10 * time.Second,
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return fmt.Errorf("start native plugin %s: %w", p.path, err)
	}
	raw, err := rpc.Dispense(pluginKey)
	if err != nil {
		client.Kill()
		return fmt.Errorf("start native plugin %s: %w", p.path, err)
	}
	p.client, p.rpc = client, raw.(*rpcClient)
	return nil
}

// Call runs hook h with the wire-encoded input, restarting the plugin
// once if its process has died.
func (p *Plugin) Call(ctx context.Context, h sdk.Hook, in []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	rpc, err := p.live()
	if err != nil {
		return nil, err
	}
	out, err := rpc.call(ctx, h, in)
	if err != nil && status.Code(err) == codes.Unavailable {
		// The connection broke: if the process died (go-plugin notices a
		// moment later), restart it and try once more.
		for i := 0; i < 100 && !p.exited(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if p.exited() {
			if rpc, rerr := p.live(); rerr == nil {
				return rpc.call(ctx, h, in)
			}
		}
	}
	return out, err
}

// live returns the RPC client of a running process, restarting a dead one.
func (p *Plugin) live() (*rpcClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("native plugin %s is closed", p.path)
	}
	if p.client.Exited() {
		p.client.Kill()
		if err := p.start(); err != nil {
			return nil, err
		}
		p.restarts++
	}
	return p.rpc, nil
}

func (p *Plugin) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client.Exited()
}

// Restarts returns how often the plugin was restarted after a crash.
func (p *Plugin) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Pid returns the plugin's process id, or 0.
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Close ends the plugin process.
func (p *Plugin) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.client.Kill()
	}
}

// FileChecksum returns the SHA-256 of the file at path, for Start.
func FileChecksum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
