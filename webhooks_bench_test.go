package heliumid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// handParseWebhook is what a user would write without the SDK, the baseline
// of BenchmarkParseWebhook: check the timestamp, verify the HMAC with
// crypto/hmac, then json.Unmarshal into a struct shaped like WebhookEvent.
func handParseWebhook(body []byte, header http.Header, key string) (*WebhookEvent, error) {
	ts := header.Get(HeaderWebhookTimestamp)
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, err
	}
	signedAt := time.UnixMilli(ms)
	if d := time.Since(signedAt); d > 5*time.Minute || d < -5*time.Minute {
		return nil, errors.New("stale")
	}
	sig, err := hex.DecodeString(header.Get(HeaderWebhookSignature))
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), sig) {
		return nil, errors.New("bad signature")
	}
	var ev struct {
		Event string        `json:"event"`
		Data  *Verification `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, err
	}
	return &WebhookEvent{Event: ev.Event, Data: ev.Data, Timestamp: signedAt, Raw: body}, nil
}

// BenchmarkParseWebhook compares ParseWebhook with the hand-written check in
// the same run. The performance target: sdk at most 0.8× the time of
// baseline.
func BenchmarkParseWebhook(b *testing.B) {
	header := SignWebhook(webhookFixture, testKey, time.Now())
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(webhookFixture)))
		for b.Loop() {
			if _, err := ParseWebhook(webhookFixture, header, testKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(webhookFixture)))
		for b.Loop() {
			if _, err := handParseWebhook(webhookFixture, header, testKey); err != nil {
				b.Fatal(err)
			}
		}
	})
}
