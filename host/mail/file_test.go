package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	plmail "github.com/plenum-vote/plenum/host/mail"
)

func TestFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var log bytes.Buffer
	f, err := plmail.NewFile(dir, "noreply@plenum.test", slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := f.Send(context.Background(), plmail.Message{To: []string{"jane@example.org"}, Subject: "Grüße", Text: "hello"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != 5 {
		t.Fatalf("files = %v, %v; want 5", files, err)
	}
	fi, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %v, want 0600", perm)
	}
	data, _ := os.ReadFile(files[0])
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("To") != "<jane@example.org>" {
		t.Errorf("To = %q", m.Header.Get("To"))
	}
	if strings.Count(log.String(), "\n") != 5 || !strings.Contains(log.String(), files[0]) {
		t.Errorf("log = %q, want 5 lines with the paths", log.String())
	}
	if strings.Contains(log.String(), "jane") {
		t.Errorf("log %q names the recipient", log.String())
	}
	if err := f.Send(context.Background(), plmail.Message{To: []string{"jane@example.org"}, Subject: "a\nb"}); !errors.Is(err, plmail.ErrHeaderInjection) {
		t.Errorf("Send = %v, want ErrHeaderInjection", err)
	}
	if _, err := plmail.NewFile(dir, "bad", nil); err == nil {
		t.Error("NewFile accepted a bad sender")
	}
}

func TestConsole(t *testing.T) {
	var out bytes.Buffer
	c := plmail.NewConsole(&out, "noreply@plenum.test")
	err := c.Send(context.Background(), plmail.Message{
		To: []string{"jane@example.org"}, Subject: "Grüße", Text: "Link: https://plenum.test/verify/" + strings.Repeat("x", 90),
		HTML: "<p>x</p>", Headers: map[string]string{"X-Plenum-Tenant": "stadtpark"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"To: <jane@example.org>", "Subject: Grüße", "X-Plenum-Tenant: stadtpark", "https://plenum.test/verify/" + strings.Repeat("x", 90) + "\n", "HTML part"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Send(ctx, plmail.Message{To: []string{"jane@example.org"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
}
