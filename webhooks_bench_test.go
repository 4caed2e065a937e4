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

// handVerifyWebhook is the check a user would write without the SDK: the
// timestamp within 5 minutes, then the HMAC with crypto/hmac. It returns
// when the delivery was signed.
func handVerifyWebhook(body []byte, header http.Header, key string) (time.Time, error) {
	ts := header.Get(headerTimestamp)
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	signedAt := time.UnixMilli(ms)
	if d := time.Since(signedAt); d > 5*time.Minute || d < -5*time.Minute {
		return time.Time{}, errors.New("stale")
	}
	sig, err := hex.DecodeString(header.Get(headerSignature))
	if err != nil {
		return time.Time{}, err
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), sig) {
		return time.Time{}, errors.New("bad signature")
	}
	return signedAt, nil
}

// handParseWebhook verifies by hand, then decodes with json.Unmarshal into
// a struct shaped like WebhookEvent, with the SDK's Verification: the
// reference decoding of TestParseWebhook_decodesLikeEncodingJSON.
func handParseWebhook(body []byte, header http.Header, key string) (*WebhookEvent, error) {
	signedAt, err := handVerifyWebhook(body, header, key)
	if err != nil {
		return nil, err
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

// handWebhookEvent is a webhook delivery as hand-written code declares it.
type handWebhookEvent struct {
	Event     string            `json:"event"`
	Data      *handVerification `json:"data"`
	Timestamp time.Time         `json:"-"`
	Raw       []byte            `json:"-"`
}

// handParseWebhookPlain is what a user would write without the SDK, the
// baseline of BenchmarkParseWebhook: verify by hand, then json.Unmarshal
// into structs of its own, with plain types (see handVerification in
// bench_test.go for why not Verification).
func handParseWebhookPlain(body []byte, header http.Header, key string) (*handWebhookEvent, error) {
	signedAt, err := handVerifyWebhook(body, header, key)
	if err != nil {
		return nil, err
	}
	ev := &handWebhookEvent{Timestamp: signedAt, Raw: body}
	if err := json.Unmarshal(body, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// BenchmarkParseWebhook compares ParseWebhook with the hand-written check,
// alternating round by round (see runRounds).
func BenchmarkParseWebhook(b *testing.B) {
	header := SignWebhook(webhookFixture, testKey, time.Now())
	runRounds(b, benchImpl{"baseline", loopOp(func() error {
		_, err := handParseWebhookPlain(webhookFixture, header, testKey)
		return err
	})}, benchImpl{"sdk", loopOp(func() error {
		_, err := ParseWebhook(webhookFixture, header, testKey)
		return err
	})})
}
