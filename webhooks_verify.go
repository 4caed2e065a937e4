package heliumid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bounds on the authentication headers, checked before anything is decoded:
// a real timestamp has 13 digits and a real signature 64 characters.
const (
	macSize            = sha256.Size
	maxTimestampHeader = 19  // digits; the longest int64 has 19
	maxSignatureHeader = 512 // bytes, over every Webhook-Signature line
	maxSignatures      = 8   // comma-separated signatures
)

// strictBase64 refuses non-canonical padding bits, so one signature has one
// base64 spelling.
var strictBase64 = base64.StdEncoding.Strict()

// verify authenticates a delivery and returns when it was signed. It reads the
// headers and hashes the raw body; it never parses the body.
func (cfg *webhookConfig) verify(body []byte, header http.Header, now time.Time) (time.Time, error) {
	ts, ms, err := webhookTimestamp(header)
	if err != nil {
		return time.Time{}, err
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

	var sigs [maxSignatures][macSize]byte
	n, err := webhookSignatures(header, &sigs)
	if err != nil {
		return time.Time{}, err
	}
	var mac [macSize]byte
	for _, key := range cfg.keys.keys {
		webhookMAC(mac[:0], key, ts, body)
		for _, sig := range sigs[:n] {
			if hmac.Equal(mac[:], sig[:]) {
				return signedAt, nil
			}
		}
	}
	return time.Time{}, invalidSignature("no signature in Webhook-Signature matches the body: check that the key is the API key of the integration sending the webhook (while rotating keys, accept both with WithWebhookKeys) and that the body is the raw request body, unmodified and not re-encoded")
}

// webhookTimestamp reads Webhook-Timestamp: base-10 digits of Unix
// milliseconds, nothing else (no sign, no fraction, no spaces inside). It
// returns the digits, which are what was signed, and their value.
func webhookTimestamp(header http.Header) (string, int64, error) {
	vals := header.Values(HeaderWebhookTimestamp)
	switch {
	case len(vals) == 0:
		return "", 0, invalidSignature("missing %s header (an http.Header built by hand needs canonical keys: use Header.Set)", HeaderWebhookTimestamp)
	case len(vals) > 1:
		return "", 0, invalidSignature("%d %s headers; a delivery carries one", len(vals), HeaderWebhookTimestamp)
	}
	v := strings.Trim(vals[0], " \t")
	if v == "" || len(v) > maxTimestampHeader || strings.TrimLeft(v, "0123456789") != "" {
		return "", 0, invalidSignature("%s is not a base-10 integer of Unix milliseconds", HeaderWebhookTimestamp)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", 0, invalidSignature("%s is out of range", HeaderWebhookTimestamp)
	}
	return v, ms, nil
}

// webhookSignatures decodes the signatures of Webhook-Signature into sigs and
// returns how many there are. The header may list several, separated by
// commas or on several lines (the same thing in HTTP); each is 64 hex digits
// (either case) or 44 characters of padded standard base64. Anything else
// rejects the whole header: a half-understood header is not trusted.
func webhookSignatures(header http.Header, sigs *[maxSignatures][macSize]byte) (int, error) {
	vals := header.Values(HeaderWebhookSignature)
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	switch {
	case len(vals) == 0:
		return 0, invalidSignature("missing %s header (an http.Header built by hand needs canonical keys: use Header.Set)", HeaderWebhookSignature)
	case size > maxSignatureHeader:
		return 0, invalidSignature("%s is %d bytes long; at most %d are accepted", HeaderWebhookSignature, size, maxSignatureHeader)
	}
	n := 0
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.Trim(item, " \t")
			if item == "" {
				continue // "a, b," and an empty line carry nothing to check
			}
			if n == maxSignatures {
				return 0, invalidSignature("%s lists more than %d signatures", HeaderWebhookSignature, maxSignatures)
			}
			if !decodeSignature(sigs[n][:], item) {
				return 0, invalidSignature("%s holds a value that is neither 64 hex digits nor 44 characters of standard base64", HeaderWebhookSignature)
			}
			n++
		}
	}
	if n == 0 {
		return 0, invalidSignature("%s is empty", HeaderWebhookSignature)
	}
	return n, nil
}

// decodeSignature decodes one signature into dst (macSize bytes). The length
// tells the encoding apart: 64 hex digits and 44 base64 characters both hold
// 32 bytes, and neither length is valid in the other encoding.
func decodeSignature(dst []byte, s string) bool {
	switch len(s) {
	case hex.EncodedLen(macSize):
		_, err := hex.Decode(dst, []byte(s))
		return err == nil
	case strictBase64.EncodedLen(macSize):
		var buf [macSize + 1]byte // room for what DecodedLen(44) allows
		n, err := strictBase64.Decode(buf[:], []byte(s))
		return err == nil && n == macSize && copy(dst, buf[:n]) == macSize
	}
	return false
}

// webhookMAC appends HMAC-SHA256 over "<timestamp>.<body>" keyed with key to
// dst: the documented signature scheme.
func webhookMAC(dst, key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(dst)
}
