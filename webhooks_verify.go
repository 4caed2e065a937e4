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

// headerHMACSignature is where the signature is read from when
// Webhook-Signature is absent: one page of Helium ID's documentation names
// this header.
const headerHMACSignature = "X-Hmac-Signature"

// Bounds on the authentication headers, checked before anything is decoded:
// a real timestamp has 13 digits and a real signature 64 characters (71 with
// "sha256=", 47 as "v1,<base64>").
const (
	macSize            = sha256.Size
	maxTimestampHeader = 19   // digits; the longest int64 has 19
	maxSignatureHeader = 1024 // bytes, over every line of the signature header
	maxSignatures      = 8    // well-formed signatures in it
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
	name, n, err := webhookSignatures(header, &sigs)
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
	return time.Time{}, invalidSignature("no signature in %s matches the body: check that the key is the API key of the integration sending the webhook (while rotating keys, accept both with WithWebhookKeys) and that the body is the raw request body, unmodified and not re-encoded", name)
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

// webhookSignatures decodes the signatures of the signature header into sigs
// and returns the header's name and how many there are.
//
// The header is Webhook-Signature, or X-Hmac-Signature when there is no
// Webhook-Signature at all (an empty one is a rejection, not an absence). It
// lists items separated by spaces, tabs or commas, on one line or several
// (the same thing in HTTP). A signature is 64 hex digits (either case) or 44
// characters of padded standard base64, optionally prefixed "sha256=" or
// "v1="; a bare "v1" is the label Standard Webhooks puts before a signature
// ("v1,<base64>"), so "v1,<sig>" is a signature too. Any other item is not a
// well-formed signature and is skipped: senders add labels and schemes of
// their own (Stripe's "t=…", Standard Webhooks' "v1a,…"), and skipping them
// accepts nothing more, since only a signature made with the key matches. A
// header without a single well-formed signature is rejected.
func webhookSignatures(header http.Header, sigs *[maxSignatures][macSize]byte) (name string, n int, err error) {
	name = HeaderWebhookSignature
	vals := header.Values(HeaderWebhookSignature)
	if len(vals) == 0 {
		if vals = header.Values(headerHMACSignature); len(vals) > 0 {
			name = headerHMACSignature
		}
	}
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	switch {
	case len(vals) == 0:
		return name, 0, invalidSignature("missing %s header, and no %s either (an http.Header built by hand needs canonical keys: use Header.Set)", HeaderWebhookSignature, headerHMACSignature)
	case size > maxSignatureHeader:
		return name, 0, invalidSignature("%s is %d bytes long; at most %d are accepted", name, size, maxSignatureHeader)
	}
	items := 0
	for _, v := range vals {
		for item := range strings.FieldsFuncSeq(v, isSignatureSeparator) {
			items++
			if !decodeSignature(sigs[min(n, maxSignatures-1)][:], item) {
				continue // a label ("v1", "t=…") or a scheme this SDK does not use
			}
			if n == maxSignatures {
				return name, 0, invalidSignature("%s lists more than %d signatures", name, maxSignatures)
			}
			n++
		}
	}
	switch {
	case items == 0:
		return name, 0, invalidSignature("%s is empty", name)
	case n == 0:
		return name, 0, invalidSignature("%s holds no well-formed signature: want HMAC-SHA256 as 64 hex digits or 44 characters of standard base64, optionally prefixed sha256=, v1= or v1,", name)
	}
	return name, n, nil
}

// isSignatureSeparator splits the items of a signature header.
func isSignatureSeparator(r rune) bool {
	return r == ' ' || r == '\t' || r == ','
}

// decodeSignature decodes one item of the signature header into dst (macSize
// bytes), after its optional "sha256=" or "v1=" prefix, and reports whether
// it is a well-formed signature. The length tells the encoding apart: 64 hex
// digits and 44 base64 characters both hold 32 bytes, and neither length is
// valid in the other encoding. Neither prefix can begin a signature in
// either encoding ('=' is only base64's final padding), so stripping one is
// unambiguous.
func decodeSignature(dst []byte, s string) bool {
	for _, prefix := range [...]string{"sha256=", "v1="} {
		if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			s = s[len(prefix):]
			break
		}
	}
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
