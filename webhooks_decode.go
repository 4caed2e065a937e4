package heliumid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decodeWebhookBody decodes a verified body, {"event": "...", "data": {...}},
// into ev.Event and ev.Data.
//
// json.Unmarshal into a struct holding a *Verification scans the session four
// times: once to validate the whole body, once to find where "data" ends, and
// twice more inside Verification.UnmarshalJSON. Here the envelope is walked
// once by hand, and each member's bytes go to the one parser that decodes
// them: "data" to Verification.UnmarshalJSON (the same tolerant decoding as
// GetVerification), "event" to a string, every other member to json.Valid.
// So the body is still fully validated, and the session is scanned twice
// (inside UnmarshalJSON) after one light pass that only finds its end.
//
// Members are matched by exact name, after unescaping; a name repeated
// decodes again into the same value, the last one winning, as with
// encoding/json.
func decodeWebhookBody(body []byte, ev *WebhookEvent) error {
	w := envelopeWalker{b: body}
	if !w.open() {
		return w.fail("the body is not a JSON object")
	}
	for more := w.first(); more; more = w.next() {
		name, val, ok := w.member()
		if !ok {
			return w.fail("invalid JSON")
		}
		switch name {
		case "event":
			if !decodeEventName(val, &ev.Event) {
				return fmt.Errorf(`%w: "event" is not a JSON string`, ErrInvalidWebhookBody)
			}
		case "data":
			if string(val) == "null" {
				ev.Data = nil
				continue
			}
			if ev.Data == nil {
				ev.Data = new(Verification)
			}
			if err := ev.Data.UnmarshalJSON(val); err != nil {
				return fmt.Errorf(`%w: "data" is not a session object: %s`, ErrInvalidWebhookBody, describeJSONError(err))
			}
		default:
			if !json.Valid(val) {
				return w.fail("invalid JSON")
			}
		}
	}
	if w.err || !w.end() {
		return w.fail("invalid JSON")
	}
	return nil
}

// decodeEventName decodes the "event" member. A plain string (the only kind
// Helium ID sends) is taken as is; anything else goes through encoding/json,
// which also turns null into "".
func decodeEventName(val []byte, out *string) bool {
	if plainJSONString(val) && utf8.Valid(val) && !hasControlByte(val) {
		*out = string(val[1 : len(val)-1])
		return true
	}
	return json.Unmarshal(val, out) == nil
}

func hasControlByte(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// envelopeWalker steps through the members of one JSON object. It checks the
// object's own punctuation strictly and finds where each member's value ends;
// the value's contents are for a real JSON parser to check.
type envelopeWalker struct {
	b   []byte
	i   int
	err bool // the punctuation between members was wrong
}

// fail returns an error matching ErrInvalidWebhookBody that says where the
// body went wrong, without quoting it (it is personal data).
func (w *envelopeWalker) fail(what string) error {
	return fmt.Errorf("%w: %s near byte %d", ErrInvalidWebhookBody, what, min(w.i, len(w.b)))
}

func (w *envelopeWalker) skipSpace() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// open consumes "{".
func (w *envelopeWalker) open() bool {
	w.skipSpace()
	if w.i < len(w.b) && w.b[w.i] == '{' {
		w.i++
		return true
	}
	return false
}

// first reports whether the object has a member, consuming "}" if not.
func (w *envelopeWalker) first() bool {
	w.skipSpace()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return false
	}
	return true
}

// next consumes the "," before another member and reports true, or the
// closing "}" and reports false.
func (w *envelopeWalker) next() bool {
	w.skipSpace()
	if w.i < len(w.b) {
		switch w.b[w.i] {
		case ',':
			w.i++
			return true
		case '}':
			w.i++
			return false
		}
	}
	w.err = true
	return false
}

// end reports whether nothing but whitespace follows the object.
func (w *envelopeWalker) end() bool {
	w.skipSpace()
	return w.i == len(w.b)
}

// member consumes `"name": value` and returns the unescaped name and the
// value's bytes.
func (w *envelopeWalker) member() (name string, val []byte, ok bool) {
	w.skipSpace()
	keyEnd, ok := stringEnd(w.b, w.i)
	if !ok {
		return "", nil, false
	}
	key := w.b[w.i:keyEnd]
	w.i = keyEnd
	w.skipSpace()
	if w.i >= len(w.b) || w.b[w.i] != ':' {
		return "", nil, false
	}
	w.i++
	w.skipSpace()
	valEnd, ok := valueEnd(w.b, w.i)
	if !ok {
		return "", nil, false
	}
	val = w.b[w.i:valEnd]
	w.i = valEnd
	if bytes.IndexByte(key, '\\') < 0 && !hasControlByte(key) {
		return string(key[1 : len(key)-1]), val, true
	}
	// An escaped name is rare: let encoding/json check and unescape it.
	err := json.Unmarshal(key, &name)
	return name, val, err == nil
}

// stringEnd returns the index just after the JSON string starting at b[i].
func stringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++ // the escaped byte cannot end the string
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// valueEnd returns the index just after the JSON value starting at b[i]. For
// valid JSON it is exact; for invalid JSON it returns some end, and the
// parser the value goes to rejects it.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := stringEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	// A number or a literal runs to the next delimiter.
	j := i
	for j < len(b) && strings.IndexByte(",}] \t\r\n", b[j]) < 0 {
		j++
	}
	return j, j > i
}
