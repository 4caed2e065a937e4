// Package webhooksig reads the authentication headers of a webhook delivery and
// computes its signature: HMAC-SHA256 over "<timestamp>.<body>". It never
// parses the body. Its errors say what is wrong with a header; the heliumid
// package wraps them in ErrInvalidSignature.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The header names. Helium ID signs in Webhook-Signature; one page of its
// documentation names X-Hmac-Signature, read when Webhook-Signature is
// absent.
const (
	HeaderTimestamp     = "Webhook-Timestamp"
	HeaderSignature     = "Webhook-Signature"
	HeaderHMACSignature = "X-Hmac-Signature"
)

// Bounds on the authentication headers, checked before anything is decoded:
// a real timestamp has 13 digits and a real signature 64 characters (71 with
// "sha256=", 47 as "v1,<base64>").
const (
	Size               = sha256.Size // of a signature
	maxTimestampHeader = 19          // digits; the longest int64 has 19
	MaxHeaderSize      = 1024        // bytes, over every line of the signature header
	MaxSignatures      = 8           // well-formed signatures in it
)

// strictBase64 refuses non-canonical padding bits, so one signature has one
// base64 spelling.
var strictBase64 = base64.StdEncoding.Strict()

// Timestamp reads Webhook-Timestamp: base-10 digits of Unix
// milliseconds, nothing else (no sign, no fraction, no spaces inside). It
// returns the digits, which are what was signed, and their value.
func Timestamp(header http.Header) (string, int64, error) {
	vals := header.Values(HeaderTimestamp)
	switch {
	case len(vals) == 0:
		return "", 0, fmt.Errorf("missing %s header (an http.Header built by hand needs canonical keys: use Header.Set)", HeaderTimestamp)
	case len(vals) > 1:
		return "", 0, fmt.Errorf("%d %s headers; a delivery carries one", len(vals), HeaderTimestamp)
	}
	v := strings.Trim(vals[0], " \t")
	if v == "" || len(v) > maxTimestampHeader || strings.TrimLeft(v, "0123456789") != "" {
		return "", 0, fmt.Errorf("%s is not a base-10 integer of Unix milliseconds", HeaderTimestamp)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("%s is out of range", HeaderTimestamp)
	}
	return v, ms, nil
}

// Signatures decodes the signatures of the signature header into sigs
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
func Signatures(header http.Header, sigs *[MaxSignatures][Size]byte) (name string, n int, err error) {
	name = HeaderSignature
	vals := header.Values(HeaderSignature)
	if len(vals) == 0 {
		if vals = header.Values(HeaderHMACSignature); len(vals) > 0 {
			name = HeaderHMACSignature
		}
	}
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	switch {
	case len(vals) == 0:
		return name, 0, fmt.Errorf("missing %s header, and no %s either (an http.Header built by hand needs canonical keys: use Header.Set)", HeaderSignature, HeaderHMACSignature)
	case size > MaxHeaderSize:
		return name, 0, fmt.Errorf("%s is %d bytes long; at most %d are accepted", name, size, MaxHeaderSize)
	}
	items := 0
	for _, v := range vals {
		for item := range strings.FieldsFuncSeq(v, isSeparator) {
			items++
			if !decode(sigs[min(n, MaxSignatures-1)][:], item) {
				continue // a label ("v1", "t=…") or a scheme this SDK does not use
			}
			if n == MaxSignatures {
				return name, 0, fmt.Errorf("%s lists more than %d signatures", name, MaxSignatures)
			}
			n++
		}
	}
	switch {
	case items == 0:
		return name, 0, fmt.Errorf("%s is empty", name)
	case n == 0:
		return name, 0, fmt.Errorf("%s holds no well-formed signature: want HMAC-SHA256 as 64 hex digits or 44 characters of standard base64, optionally prefixed sha256=, v1= or v1,", name)
	}
	return name, n, nil
}

// isSeparator splits the items of a signature header.
func isSeparator(r rune) bool {
	return r == ' ' || r == '\t' || r == ','
}

// decode decodes one item of the signature header into dst (Size
// bytes), after its optional "sha256=" or "v1=" prefix, and reports whether
// it is a well-formed signature. The length tells the encoding apart: 64 hex
// digits and 44 base64 characters both hold 32 bytes, and neither length is
// valid in the other encoding. Neither prefix can begin a signature in
// either encoding ('=' is only base64's final padding), so stripping one is
// unambiguous.
func decode(dst []byte, s string) bool {
	for _, prefix := range [...]string{"sha256=", "v1="} {
		if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			s = s[len(prefix):]
			break
		}
	}
	switch len(s) {
	case hex.EncodedLen(Size):
		_, err := hex.Decode(dst, []byte(s))
		return err == nil
	case strictBase64.EncodedLen(Size):
		var buf [Size + 1]byte // room for what DecodedLen(44) allows
		n, err := strictBase64.Decode(buf[:], []byte(s))
		return err == nil && n == Size && copy(dst, buf[:n]) == Size
	}
	return false
}

// MAC appends HMAC-SHA256 over "<timestamp>.<body>" keyed with key to
// dst: the documented signature scheme.
func MAC(dst, key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(dst)
}
