package heliumid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Webhook header names, as Helium ID sends them.
const (
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// WebhookEvent is a verified webhook delivery.
type WebhookEvent struct {
	Event     string          // the event name, such as "verification.status"; unknown names are kept
	Data      *Verification   // the session the event is about
	Timestamp time.Time       // when Helium ID signed the delivery (Webhook-Timestamp)
	Raw       json.RawMessage // the whole verified body
}

// SignWebhook returns the headers Helium ID would send with body at time t,
// signed with apiKey: Webhook-Timestamp (Unix milliseconds) and
// Webhook-Signature (lowercase hex HMAC-SHA256 over "<timestamp>.<body>").
// Use it to test your webhook endpoint.
func SignWebhook(body []byte, apiKey string, t time.Time) http.Header {
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	h := http.Header{}
	h.Set(HeaderWebhookTimestamp, ts)
	h.Set(HeaderWebhookSignature, hex.EncodeToString(webhookMAC(apiKey, ts, body)))
	return h
}

// webhookMAC computes HMAC-SHA256 over "<timestamp>.<body>" keyed with key.
func webhookMAC(key, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
