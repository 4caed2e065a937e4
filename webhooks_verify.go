package heliumid

import (
	"crypto/hmac"
	"net/http"
	"time"

	"github.com/heliumid/heliumid-go/internal/webhooksig"
)

// verify authenticates a delivery and returns when it was signed. It reads the
// headers and hashes the raw body; it never parses the body.
func (cfg *webhookConfig) verify(body []byte, header http.Header, now time.Time) (time.Time, error) {
	ts, ms, err := webhooksig.Timestamp(header)
	if err != nil {
		return time.Time{}, invalidSignature("%v", err)
	}
	signedAt := time.UnixMilli(ms).UTC()
	// Checked before the HMAC: a stale replay is turned away without
	// hashing its body. time.Time.Sub saturates, so an absurd timestamp
	// cannot overflow into the window.
	switch age := now.Sub(signedAt); {
	case age > cfg.tolerance:
		return time.Time{}, invalidSignature("Webhook-Timestamp is %v in the past, beyond the tolerance of %v: check this machine's clock (NTP), or widen WithWebhookTolerance if deliveries wait in a queue before they reach ParseWebhook", age.Round(time.Millisecond), cfg.tolerance)
	case age < -cfg.tolerance:
		return time.Time{}, invalidSignature("Webhook-Timestamp is %v in the future, beyond the tolerance of %v: check this machine's clock (NTP)", (-age).Round(time.Millisecond), cfg.tolerance)
	}

	var sigs [webhooksig.MaxSignatures][webhooksig.Size]byte
	name, n, err := webhooksig.Signatures(header, &sigs)
	if err != nil {
		return time.Time{}, invalidSignature("%v", err)
	}
	var mac [webhooksig.Size]byte
	for _, key := range cfg.keys.keys {
		webhooksig.MAC(mac[:0], key, ts, body)
		for _, sig := range sigs[:n] {
			if hmac.Equal(mac[:], sig[:]) {
				return signedAt, nil
			}
		}
	}
	return time.Time{}, invalidSignature("no signature in %s matches the body: check that the key is the API key of the integration sending the webhook (while rotating keys, accept both with WithWebhookKeys) and that the body is the raw request body, unmodified and not re-encoded", name)
}
