// Package sms sends text messages (one-time sign-in codes, the weakest
// fallback factor) through a gateway the operator runs or rents.
//
// Plenum speaks one small protocol rather than one vendor's API: a JSON
// POST of {"to": "+41…", "text": "…"} to the configured URL, signed with
// HMAC-SHA256 over the timestamp and body so the gateway can tell it came
// from this host and is fresh. A few lines of glue at the gateway turn it
// into any provider's call.
package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Signature headers of every request.
const (
	HeaderTimestamp = "X-Plenum-Timestamp"
	HeaderSignature = "X-Plenum-Signature"
)

// Message is the JSON body a gateway receives.
type Message struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// Webhook posts messages to a gateway.
type Webhook struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a sender to endpoint (https, or http on loopback)
// signing with secret (at least 32 bytes).
func NewWebhook(endpoint string, secret []byte, client *http.Client) (*Webhook, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, fmt.Errorf("sms: webhook URL %q must be https (or http to a loopback address)", endpoint)
	}
	if len(secret) < 32 {
		return nil, errors.New("sms: the webhook secret must have at least 32 bytes")
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Webhook{url: endpoint, secret: secret, client: client, now: time.Now}, nil
}

func isLoopback(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// Sign returns the signature of body at timestamp ts (Unix seconds):
// hex HMAC-SHA256 of "ts.body". Gateways recompute it to check a request.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SendSMS implements mfa.SMSSender. The number and text stay out of
// errors: they are personal data and a secret.
func (w *Webhook) SendSMS(ctx context.Context, to, text string) error {
	body, err := json.Marshal(Message{To: to, Text: text})
	if err != nil {
		return fmt.Errorf("sms: encode: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("sms: gateway unreachable: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms: gateway answered %d", resp.StatusCode)
	}
	return nil
}
