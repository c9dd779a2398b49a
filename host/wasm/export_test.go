package wasm

import "context"

// InstantiateOnce creates one instance of p, _initialize included, and
// closes it, outside the pool: BenchmarkInstantiate measures it.
func InstantiateOnce(ctx context.Context, p *Plugin) error {
	in, err := p.newInstance(ctx)
	if err != nil {
		return err
	}
	in.timer.Stop()
	in.cancel()
	return in.mod.Close(ctx)
}
