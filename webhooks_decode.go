package heliumid

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// decodeWebhookBody decodes a verified body, {"event": "...", "data": {...}},
// into ev.Event and ev.Data.
//
// json.Unmarshal into a struct holding a *Verification would validate the
// whole body, find where "data" ends, and only then decode the session. Here
// the envelope is walked once (jsonWalker), and each member's bytes go to the
// one parser that decodes them: "data" to Verification.UnmarshalJSON (the
// same tolerant decoding as GetVerification, which reads a session as Helium
// ID writes it in one pass), "event" to a string, every other member to
// json.Valid. The body is still fully validated.
//
// Members are matched by exact name, after unescaping; a name repeated
// decodes again into the same value, the last one winning, as with
// encoding/json.
func decodeWebhookBody(body []byte, ev *WebhookEvent) error {
	w := jsonWalker{b: body}
	if !w.open('{') {
		return webhookBodyError(&w, "the body is not a JSON object")
	}
	for more := w.first(); more; more = w.next() {
		name, val, ok := w.member()
		if !ok {
			return webhookBodyError(&w, "invalid JSON")
		}
		switch string(name) {
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
				return webhookBodyError(&w, "invalid JSON")
			}
		}
	}
	if w.err || !w.end() {
		return webhookBodyError(&w, "invalid JSON")
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

// webhookBodyError returns an error matching ErrInvalidWebhookBody that says
// where the body went wrong, without quoting it (it is personal data).
func webhookBodyError(w *jsonWalker, what string) error {
	return fmt.Errorf("%w: %s near byte %d", ErrInvalidWebhookBody, what, min(w.i, len(w.b)))
}
