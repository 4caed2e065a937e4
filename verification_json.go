package heliumid

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/heliumid/heliumid-go/internal/wire"
)

// wireVerification is a session as it comes over the wire, for
// encoding/json to decode in one pass: Verification's own fields as they
// are, except the members that come in more than one shape, kept raw (each
// shadows Verification's field of the same JSON name, which encoding/json
// then leaves alone), and the other names an id arrives under. into turns
// it into a Verification.
type wireVerification struct {
	verificationFields
	Status         json.RawMessage `json:"status"`     // a string, or a numeric status code
	StatusCode     json.RawMessage `json:"statusCode"` // a number or a decimal string
	CreatedAt      json.RawMessage `json:"createdAt"`  // RFC 3339 or Unix milliseconds
	UpdatedAt      json.RawMessage `json:"updatedAt"`
	MongoID        string          `json:"_id"`
	VerificationID string          `json:"verificationId"`
}

// verificationFields is Verification without its methods, so that its
// fields are decoded directly rather than through Verification.UnmarshalJSON.
type verificationFields Verification

// into sets v from w, the one conversion step of every decoding of a
// session (see UnmarshalJSON for the rules). A member the JSON left out
// leaves what w was given: nothing, on the SDK's own path. It returns what
// makes the session unusable, or "".
func (w *wireVerification) into(v *Verification) string {
	*v = Verification(w.verificationFields)
	if w.Status != nil {
		st, err := statusFromJSON(w.Status)
		if err != nil {
			return `field "status" holds a JSON ` + wire.KindName(w.Status) + ": a status is a string or a number"
		}
		v.Status = st
	}
	if w.StatusCode != nil {
		v.StatusCode = wire.Int(w.StatusCode)
	}
	if w.CreatedAt != nil {
		v.CreatedAt = wire.Time(w.CreatedAt)
	}
	if w.UpdatedAt != nil {
		v.UpdatedAt = wire.Time(w.UpdatedAt)
	}
	if v.Status == "" {
		v.Status, _ = StatusFromCode(v.StatusCode)
	}
	if v.ID == "" {
		v.ID = cmp.Or(w.MongoID, w.VerificationID)
	}
	return ""
}

// UnmarshalJSON decodes a session the way the SDK decodes what Helium ID
// sends, for sessions you stored as JSON. It is tolerant, because every
// field is optional in practice and a backend must not fail on a session it
// can still act on:
//   - createdAt/updatedAt accept RFC 3339 (with or without fractional
//     seconds or a zone; no zone means UTC) and Unix milliseconds; an empty
//     or unparseable timestamp is left zero;
//   - statusCode accepts a number or a decimal string;
//   - status goes through [ParseStatus], or [StatusFromCode] when it is a
//     number; a missing status is derived from a known statusCode;
//   - a missing id is taken from "_id" or "verificationId".
//
// A member of another JSON type than its field's (an "id" that is a number,
// a "status" that is a boolean) is an error. Decoding into a Verification
// that already holds values merges, as encoding/json does: a field the JSON
// leaves out keeps its value.
func (v *Verification) UnmarshalJSON(b []byte) error {
	w := wireVerification{verificationFields: verificationFields(*v)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if msg := w.into(v); msg != "" {
		return errors.New("heliumid: " + msg)
	}
	return nil
}

func (v *Verification) wire() any { return new(wireVerification) }

func (v *Verification) fromWire(w any) string {
	if msg := w.(*wireVerification).into(v); msg != "" {
		return msg
	}
	if v.ID == "" && v.Status == "" {
		return "the data holds neither an id nor a status"
	}
	return ""
}

// The data of a create response is decoded into CreatedVerification
// itself: two plain strings.
func (cv *CreatedVerification) wire() any { return cv }

// fromWire checks what a create returned: a usable link, and an id (taken
// from the link's processId when the server leaves verificationId out).
func (cv *CreatedVerification) fromWire(any) string {
	if cv.Link == "" {
		return "the data holds no link"
	}
	u, err := url.Parse(cv.Link)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))) {
		// Users redirect end-users to this link: a javascript: or
		// plain-http URL must not get that far.
		return "data.link is not an absolute https URL"
	}
	if cv.ID == "" {
		cv.ID = strings.TrimSpace(u.Query().Get("processId"))
	}
	if cv.ID == "" {
		return "the data holds no verificationId"
	}
	return ""
}
