package heliumid

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heliumid/heliumid-go/internal/webhooksig"
)

// EventVerificationStatus is the event name of a webhook about a session's
// status change: the name heliumidtest sends (Helium ID's docs name none).
// Compare [WebhookEvent.Event] with it, and acknowledge other names.
const EventVerificationStatus = "verification.status"

// MaxWebhookBodySize is the largest webhook body [WebhookHandler] reads
// (1 MiB); a larger one is answered 413 unread. Real deliveries are a few
// KiB. Bound your own reads the same way when you call [ParseWebhook] from
// another router, for example with http.MaxBytesReader.
const MaxWebhookBodySize = 1 << 20

// defaultWebhookTolerance is how far a delivery's Webhook-Timestamp may lie
// in the past or the future before it is rejected, unless
// [WithWebhookTolerance] says otherwise. It bounds how long a captured
// delivery can be replayed, while leaving room for clock skew and retries in
// flight.
const defaultWebhookTolerance = 5 * time.Minute

var (
	// ErrInvalidSignature reports a webhook that failed authentication: a
	// missing or malformed Webhook-Timestamp or Webhook-Signature header, a
	// signature made with another key or over other bytes, or a timestamp
	// outside the tolerance. The error's text says which. Nothing of the body
	// was parsed. [WebhookHandler] answers 401.
	ErrInvalidSignature = errors.New("heliumid: invalid webhook signature")

	// ErrInvalidWebhookBody reports a webhook whose signature verified but
	// whose body is not a JSON object of the documented shape
	// ({"event": "...", "data": {...}}) with the documented JSON types.
	// [WebhookHandler] answers 400.
	ErrInvalidWebhookBody = errors.New("heliumid: invalid webhook body")
)

// WebhookEvent is a verified webhook delivery.
//
// Raw holds personal data (the session's document data). A WebhookEvent's
// Format (what every fmt verb prints) and slog LogValue leave Raw out and print Data through
// [Verification]'s redaction, so logging an event is safe.
type WebhookEvent struct {
	// Event is the event name, such as "verification.status". A name the
	// SDK does not know is kept as is, never an error.
	Event string
	// Data is the session the event is about, decoded as tolerantly as
	// [Client.GetVerification] decodes it (an unknown status is kept). It is
	// nil when the body has no "data" or "data" is null.
	Data *Verification
	// Timestamp is when Helium ID signed the delivery (Webhook-Timestamp),
	// in UTC.
	Timestamp time.Time
	// Raw is the whole verified body, a copy of the bytes given to
	// ParseWebhook. It is personal data: store it like the session itself.
	Raw json.RawMessage
}

// ParseWebhook authenticates a webhook delivery, then decodes it. Pass the
// raw request body, unmodified, the request's headers and the API key of the
// integration the webhook belongs to.
//
// Authentication comes first and touches no JSON. The signature is
// HMAC-SHA256 over "<Webhook-Timestamp>.<body>" keyed with apiKey (or a key
// of [WithWebhookKeys]), read from the Webhook-Signature header, or from
// X-Hmac-Signature when there is no Webhook-Signature header at all (an
// empty Webhook-Signature is a rejection). The header lists one or more
// signatures, separated by spaces or commas (or on several lines), each as
// hex (either case) or standard base64, optionally prefixed "sha256=", "v1="
// or, as Standard Webhooks writes it, "v1," ("v1,<base64> v1,<base64>").
// Items that are not a well-formed signature are skipped; at least one must
// be, at most 8 are read from at most 1 KiB, and one that matches is enough.
// Signatures are compared in constant time. Webhook-Timestamp is required
// either way: Unix milliseconds, as base-10 digits, within the tolerance
// (5 minutes, or [WithWebhookTolerance]) of this machine's
// clock, in the past or the future. Any failure here returns an error
// matching [ErrInvalidSignature] that says what failed.
//
// Decoding follows: a body that is not a JSON object, or whose "event" is not
// a string or whose "data" is not a session object, returns an error
// matching [ErrInvalidWebhookBody]. A missing or null "data" gives a nil
// Data, not an error; unknown event names, statuses and fields are kept or
// ignored, never an error.
//
// A blank apiKey returns an error matching [ErrMissingAPIKey]; an invalid
// option one matching [ErrInvalidOption]. ParseWebhook does not bound the
// body: read it through a limit such as [MaxWebhookBodySize] first, or use
// [WebhookHandler], which does.
func ParseWebhook(body []byte, header http.Header, apiKey string, opts ...WebhookOption) (*WebhookEvent, error) {
	cfg, err := newWebhookConfig("ParseWebhook", apiKey, opts)
	if err != nil {
		return nil, err
	}
	return cfg.parse(body, header, time.Now())
}

// parse verifies, then decodes, one delivery.
func (cfg *webhookConfig) parse(body []byte, header http.Header, now time.Time) (*WebhookEvent, error) {
	signedAt, err := cfg.verify(body, header, now)
	if err != nil {
		return nil, err
	}
	ev := &WebhookEvent{Timestamp: signedAt, Raw: bytes.Clone(body)}
	if err := decodeWebhookBody(body, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// SignWebhook returns the headers of a delivery of body at time t, signed
// with apiKey as this SDK reads Helium ID's HMAC page: Webhook-Timestamp
// (Unix milliseconds) and Webhook-Signature (HMAC-SHA256 over
// "<timestamp>.<body>", in lowercase hex: the page names no encoding, and
// ParseWebhook accepts the others it may be; see docs/API.md).
// Use it to test your webhook endpoint: a request carrying these headers and
// body passes [ParseWebhook] and [WebhookHandler] with the same key while t
// is within the tolerance of the clock.
//
// The key is used exactly as given (ParseWebhook trims surrounding
// whitespace from its key, so sign with the trimmed key).
func SignWebhook(body []byte, apiKey string, t time.Time) http.Header {
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	var mac [webhooksig.Size]byte
	webhooksig.MAC(mac[:0], []byte(apiKey), ts, body)
	h := make(http.Header, 2)
	h[webhooksig.HeaderTimestamp] = []string{ts}
	h[webhooksig.HeaderSignature] = []string{hex.EncodeToString(mac[:])}
	return h
}

// invalidSignature returns an error matching ErrInvalidSignature that says
// what failed and what to check.
func invalidSignature(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidSignature}, args...)...)
}
