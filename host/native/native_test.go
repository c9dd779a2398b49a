package native_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plenum-vote/plenum/host/native"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "native-tally")
	cmd := exec.Command("go", "build", "-o", bin, "../../plugins/native-tally")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func fixture() []byte {
	in := &sdk.TallyInput{Rule: "simple_majority", Quorum: 5}
	for _, c := range []string{"yes", "no", "yes", "abstain", "yes"} {
		in.Votes = append(in.Votes, sdk.Vote{Voter: "u", Choice: c, Weight: sdk.One()})
	}
	var w wire.Writer
	in.AppendWire(&w)
	return w.Bytes()
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// A zombie (state Z) has exited.
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

func TestNativePlugin(t *testing.T) {
	ctx := context.Background()
	bin := build(t)
	sum, err := native.FileChecksum(bin)
	if err != nil {
		t.Fatal(err)
	}
	wrong := sha256.Sum256([]byte("another binary"))
	if _, err := native.Start(ctx, bin, wrong[:], native.Options{}); err == nil {
		t.Fatal("a binary with the wrong checksum was started")
	}
	p, err := native.Start(ctx, bin, sum, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	call := func() {
		t.Helper()
		b, err := p.Call(ctx, sdk.HookTally, fixture())
		if err != nil {
			t.Fatal(err)
		}
		var out sdk.TallyOutput
		if err := out.ReadWire(wire.NewReader(b)); err != nil || out.Decision != "pass" || out.Counts[0].Votes != 3 {
			t.Fatalf("%+v %v", out, err)
		}
	}
	call()
	if _, err := p.Call(ctx, sdk.HookEmbargo, nil); !errors.Is(err, native.ErrUnknownHook) {
		t.Fatalf("unimplemented hook: %v", err)
	}
	if _, err := p.Call(ctx, sdk.HookTally, []byte{0xff}); !errors.Is(err, native.ErrPluginError) {
		t.Fatalf("malformed input: %v", err)
	}
	// A crashed plugin is restarted on the next call.
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && alive(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	call()
	if p.Restarts() != 1 || p.Pid() == pid {
		t.Fatalf("restarts %d, pid %d (was %d)", p.Restarts(), p.Pid(), pid)
	}
	// Close leaves no process behind.
	pid = p.Pid()
	p.Close()
	for i := 0; i < 200 && alive(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(pid) {
		t.Fatalf("plugin process %d outlived Close", pid)
	}
	if _, err := p.Call(ctx, sdk.HookTally, fixture()); err == nil {
		t.Fatal("call after Close succeeded")
	}
}

// TestHelperHost is not a test: run by TestNoOrphans as a separate host
// process, it starts the plugin, prints its pid and waits to be killed.
func TestHelperHost(t *testing.T) {
	bin := os.Getenv("PLENUM_NATIVE_HELPER_BIN")
	if bin == "" {
		t.Skip("helper process only")
	}
	sum, _ := native.FileChecksum(bin)
	p, err := native.Start(context.Background(), bin, sum, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("pid " + strconv.Itoa(p.Pid()) + "\n")
	time.Sleep(time.Minute)
}

// A host killed without any chance to clean up leaves no plugin running.
func TestNoOrphans(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHost$", "-test.v")
	cmd.Env = append(os.Environ(), "PLENUM_NATIVE_HELPER_BIN="+bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	pid := 0
	deadline := time.Now().Add(30 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		chunk := make([]byte, 64)
		n, err := out.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for _, line := range strings.Split(string(buf), "\n") {
			if v, ok := strings.CutPrefix(line, "pid "); ok {
				pid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if err != nil {
			break
		}
	}
	if pid == 0 {
		cmd.Process.Kill()
		t.Fatalf("helper host printed no plugin pid: %s", buf)
	}
	if !alive(pid) {
		t.Fatal("plugin not running")
	}
	cmd.Process.Kill() // SIGKILL: the host gets no chance to clean up
	cmd.Wait()
	for i := 0; i < 300 && alive(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("plugin %d outlived its killed host", pid)
	}
}
