package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plenum-vote/plenum/host/plugintool"
	"github.com/plenum-vote/plenum/host/wasm"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

func cmdPlugin(ctx context.Context, env *cmdEnv, args []string) error {
	return subcommand(ctx, env, "plugin", args, map[string]func(context.Context, *cmdEnv, []string) error{
		"build": pluginBuild, "inspect": pluginInspect, "call": pluginCall,
		"keygen": pluginKeygen, "sign": pluginSign, "verify": pluginVerify,
		"install": pluginInstall, "list": pluginList, "enable": pluginEnable, "disable": pluginDisable,
		"new": pluginNew, "test": pluginTest,
	}, []string{"new", "test", "build", "inspect", "call", "keygen", "sign", "verify", "install", "list", "enable", "disable"})
}

func pluginBuild(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin build", "plugin build DIR [--out FILE]")
	out := fs.String("out", "", "write the module to `file` (default DIR/plugin.wasm)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	dir := fs.Arg(0)
	mf := filepath.Join(dir, "plugin.json")
	var m *sdk.Manifest
	if b, err := os.ReadFile(mf); err == nil {
		if m, err = sdk.ParseManifest(b); err != nil {
			return fmt.Errorf("%s: %w", mf, err)
		}
	}
	module, err := plugintool.Build(dir)
	if err != nil {
		return err
	}
	info, err := wasm.Inspect(ctx, module)
	if err != nil {
		return err
	}
	if !info.Plugin {
		return errors.New("the build is not a Plenum plugin: does the package register a hook with the sdk?")
	}
	if *out == "" {
		*out = filepath.Join(dir, "plugin.wasm")
	}
	if err := os.WriteFile(*out, module, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "built %s (%d bytes, sha256 %s)\n", *out, len(module), info.SHA256[:16])
	if m == nil {
		fmt.Fprintf(env.stdout, "note: no %s beside the source; `plenum plugin sign` needs one\n", mf)
	}
	return nil
}

func readManifest(path string) (*sdk.Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := sdk.ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func pluginInspect(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin inspect", "plugin inspect FILE.wasm [--manifest plugin.json]")
	mf := fs.String("manifest", "", "the plugin's manifest `file`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	module, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	info, err := wasm.Inspect(ctx, module)
	if err != nil {
		return err
	}
	w := env.stdout
	fmt.Fprintf(w, "module   %s\nsize     %d bytes\nsha256   %s\nplugin   %v\nabi      v%d (this host: v%d)\n", fs.Arg(0), info.Size, info.SHA256, info.Plugin, info.ABI, sdk.ABIVersion)
	fmt.Fprintf(w, "exports  %s\nimports  %s\n", strings.Join(info.Exports, ", "), strings.Join(info.Imports, ", "))
	if *mf != "" {
		m, err := readManifest(*mf)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "manifest %s %s, hooks %s, capabilities [%s]\n", m.Name, m.Version, strings.Join(m.Hooks, ", "), strings.Join(m.Capabilities, ", "))
		if m.Signature != nil {
			fmt.Fprintf(w, "signed   by key %s (check it with `plenum plugin verify`)\n", m.Signature.KeyID)
		} else {
			fmt.Fprintln(w, "signed   no")
		}
	}
	return nil
}

func pluginCall(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin call", "plugin call FILE.wasm HOOK --input in.json [--manifest plugin.json]")
	input := fs.String("input", "", "the hook's input as JSON (`file`, - for standard input)")
	mf := fs.String("manifest", "", "grant the capabilities and limits of this manifest `file`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || *input == "" {
		fs.Usage()
		return errUsage
	}
	hook, ok := sdk.ParseHook(fs.Arg(1))
	if !ok {
		return fmt.Errorf("unknown hook %q", fs.Arg(1))
	}
	if hook != sdk.HookTally {
		return fmt.Errorf("hook %s: only tally can be called from the command line so far", hook)
	}
	module, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var raw []byte
	if *input == "-" {
		raw, err = readAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(*input)
	}
	if err != nil {
		return err
	}
	var in sdk.TallyInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	spec := wasm.PluginSpec{Name: strings.TrimSuffix(filepath.Base(fs.Arg(0)), ".wasm"), PoolSize: 1}
	if *mf != "" {
		m, err := readManifest(*mf)
		if err != nil {
			return err
		}
		spec = specOf(m)
		spec.PoolSize = 1
	}
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeConfig{Logger: nil})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, module, spec)
	if err != nil {
		return err
	}
	var w wire.Writer
	in.AppendWire(&w)
	start := time.Now()
	outb, err := p.Call(ctx, hook, w.Bytes())
	took := time.Since(start)
	if err != nil {
		return err
	}
	var out sdk.TallyOutput
	if err := out.ReadWire(wire.NewReader(outb)); err != nil {
		return fmt.Errorf("plugin output: %w", err)
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return err
	}
	st := p.Stats()
	fmt.Fprintf(env.stderr, "took %s (first call of a fresh instance), memory %d pages (%d KiB), output %d bytes\n",
		took.Round(time.Microsecond), st.MemoryPagesHighWater, st.MemoryPagesHighWater*64, len(outb))
	return nil
}

// specOf turns a manifest into the runtime's plugin spec.
func specOf(m *sdk.Manifest) wasm.PluginSpec {
	return wasm.PluginSpec{
		Name: m.Name, Version: m.Version, Capabilities: m.Capabilities,
		Limits: wasm.Limits{
			MemoryPages: m.Limits.MemoryPages, Deadline: time.Duration(m.Limits.DeadlineMS) * time.Millisecond,
			MaxInput: m.Limits.MaxInputBytes, MaxOutput: m.Limits.MaxOutputBytes, MaxLogBytes: m.Limits.MaxLogBytes,
		},
	}
}

func readAll(f *os.File) ([]byte, error) {
	return io.ReadAll(io.LimitReader(f, 16<<20))
}

func pluginKeygen(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin keygen", "plugin keygen --out KEYFILE")
	out := fs.String("out", "", "write the private key to `file` (0600); the public key is printed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errUsage
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key: %w (refusing to replace an existing key)", err)
	}
	if _, err := fmt.Fprintln(f, base64.StdEncoding.EncodeToString(key.Seed())); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "private key %s\npublic key  %s\nkey id      %s\n", *out, base64.StdEncoding.EncodeToString(pub), sdk.KeyID(pub))
	return nil
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key %s is accessible to other users: chmod 600 %s", path, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key %s is not a base64 ed25519 seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func pluginSign(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin sign", "plugin sign FILE.wasm --manifest plugin.json --key KEYFILE")
	mf := fs.String("manifest", "", "the plugin's manifest `file`; the signature is written into it")
	keyFile := fs.String("key", "", "ed25519 private key `file` from `plenum plugin keygen`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *mf == "" || *keyFile == "" {
		fs.Usage()
		return errUsage
	}
	module, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	m, err := readManifest(*mf)
	if err != nil {
		return err
	}
	key, err := readPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	if info, err := wasm.Inspect(ctx, module); err != nil {
		return err
	} else if !info.Plugin || info.ABI != m.ABI {
		return fmt.Errorf("%s is not a Plenum plugin of ABI v%d", fs.Arg(0), m.ABI)
	}
	if err := sdk.Sign(m, module, key); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*mf, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "signed %s %s with key %s\n", m.Name, m.Version, m.Signature.KeyID)
	return nil
}

func pluginVerify(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "plugin verify", "plugin verify FILE.wasm --manifest plugin.json --trust PUBKEY[,PUBKEY…]")
	mf := fs.String("manifest", "", "the plugin's manifest `file`")
	trust := fs.String("trust", "", "comma-separated base64 ed25519 public `keys` to trust")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *mf == "" || *trust == "" {
		fs.Usage()
		return errUsage
	}
	module, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	m, err := readManifest(*mf)
	if err != nil {
		return err
	}
	var keys []ed25519.PublicKey
	for _, k := range strings.Split(*trust, ",") {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return fmt.Errorf("trusted key %q is not a base64 ed25519 public key", k)
		}
		keys = append(keys, ed25519.PublicKey(b))
	}
	id, err := sdk.Verify(m, module, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s %s: signature valid, key %s\n", m.Name, m.Version, id)
	return nil
}
