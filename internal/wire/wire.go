// Package wire reads the loosely typed values a server sends: JSON members
// that come in more than one shape (a number or a decimal string, a string
// or a list of strings, RFC 3339 or Unix milliseconds), a Retry-After
// header, the title of a proxy's HTML error page. Nothing here fails: what
// cannot be read is zero, so that a response the SDK can still act on is
// never lost to a field it does not need.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind tells the type of a JSON value that encoding/json has already
// validated (a json.RawMessage it filled) by its first byte: '"' string,
// '{' object, '[' array, 't' or 'f' boolean, 'n' null, '0' number. An
// absent member (nil) is 'n'.
func Kind(raw []byte) byte {
	if len(raw) == 0 {
		return 'n'
	}
	if c := raw[0]; c == '-' || ('0' <= c && c <= '9') {
		return '0'
	}
	return raw[0]
}

// KindName names the JSON type of a validated value, for messages.
func KindName(raw []byte) string {
	switch Kind(raw) {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case '"':
		return "string"
	case '0':
		return "number"
	}
	return "null"
}

// Int decodes a number that may arrive as a JSON number or a decimal
// string; anything else (or a number outside ±2³¹) is 0 rather than a
// failed response.
func Int(raw json.RawMessage) int {
	switch Kind(raw) {
	case '0':
		return parseInt(string(raw))
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return parseInt(s)
		}
	}
	return 0
}

func parseInt(s string) int {
	if i, err := strconv.Atoi(s); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -1<<31 && f <= 1<<31 {
		return int(f)
	}
	return 0
}

// Message decodes an envelope's "message" (or else "error"), which is
// usually a string but, from validation layers, sometimes a list of strings
// or an object (kept as its JSON text). It is returned whole and
// untrusted: the caller cleans it, scrubs it and only then cuts it.
func Message(message, errText json.RawMessage) string {
	for _, raw := range [...]json.RawMessage{message, errText} {
		var s string
		var list []string
		switch {
		case Kind(raw) == 'n':
		case json.Unmarshal(raw, &s) == nil:
		case json.Unmarshal(raw, &list) == nil:
			s = strings.Join(list, "; ")
		default:
			s = string(raw)
		}
		if s != "" {
			return s
		}
	}
	return ""
}

// The layouts a timestamp is tried in after strict RFC 3339.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"}

// Time decodes the timestamps Helium ID writes (RFC 3339 with milliseconds)
// and the variants a tolerant client should accept: any fraction, no zone
// (UTC), a space for the T, Unix milliseconds. Anything else is the zero
// time, never an error.
func Time(raw json.RawMessage) time.Time {
	switch Kind(raw) {
	case '"':
		var t time.Time
		if t.UnmarshalJSON(raw) == nil { // strict RFC 3339: what Helium ID sends
			return t
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
	case '0':
		if ms, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return time.UnixMilli(ms).UTC()
		}
	}
	return time.Time{}
}

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It returns 0 when the header is absent, malformed or in the past.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		secs, err = math.MaxUint64, nil // absurdly long, but still "wait": it must exceed any cap
	}
	if err == nil {
		const maxSecs = uint64(math.MaxInt64) / uint64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// HTMLTitle returns the text of the <title> in the first 4 KiB of body (a
// proxy's error page says what went wrong there), or nil.
func HTMLTitle(body []byte) []byte {
	lower := bytes.ToLower(body[:min(len(body), 4096)])
	i := bytes.Index(lower, []byte("<title>"))
	if i < 0 {
		return nil
	}
	rest := body[i+len("<title>") : len(lower)]
	j := bytes.Index(bytes.ToLower(rest), []byte("</title>"))
	if j < 0 {
		return nil
	}
	return bytes.TrimSpace(rest[:j])
}
