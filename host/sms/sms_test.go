package sms_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/host/sms"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestWebhook(t *testing.T) {
	var got sms.Message
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if sms.Sign(secret, r.Header.Get(sms.HeaderTimestamp), body) != r.Header.Get(sms.HeaderSignature) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(body, &got)
	}))
	defer srv.Close()
	w, err := sms.NewWebhook(srv.URL, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SendSMS(context.Background(), "+41441234567", "Your code: 123456"); err != nil {
		t.Fatal(err)
	}
	if got.To != "+41441234567" || got.Text != "Your code: 123456" {
		t.Fatalf("gateway got %+v", got)
	}
	bad, _ := sms.NewWebhook(srv.URL, []byte(strings.Repeat("x", 32)), nil)
	err = bad.SendSMS(context.Background(), "+41441234567", "Your code: 123456")
	if err == nil || strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), "+4144") {
		t.Fatalf("wrong secret: %v", err)
	}
	for _, u := range []string{"http://gateway.example/sms", "ftp://x", "::"} {
		if _, err := sms.NewWebhook(u, secret, nil); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := sms.NewWebhook(srv.URL, []byte("short"), nil); err == nil {
		t.Error("short secret accepted")
	}
}
