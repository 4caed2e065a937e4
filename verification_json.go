package heliumid

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

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

// wireFields is wireVerification without its UnmarshalJSON, for that
// method to decode the fields with.
type wireFields wireVerification

// UnmarshalJSON decodes a session with encoding/json. A session holding
// only members the SDK models (as the documented ones are) takes one pass,
// strict: a decoder that refuses unknown members (see strictDecode). When
// that pass fails (on an unknown member, which it cannot tell from other
// failures), decoding starts again, leniently: the fields, then the
// members the SDK does not model, into Extra (see extraMembers). Decoding
// the same object twice into w gives what decoding it once does, so what
// the failed pass wrote does not matter.
func (w *wireVerification) UnmarshalJSON(b []byte) error {
	if strictDecode(b, (*wireFields)(w)) {
		return nil
	}
	if err := json.Unmarshal(b, (*wireFields)(w)); err != nil {
		return err
	}
	return extraMembers(b, &w.Extra)
}

// strictDecoder is a json.Decoder that refuses unknown members, kept with
// its reader for reuse: a Decoder reads one value after another from its
// reader, so resetting the reader to the next session's bytes makes it
// decode that session, with the buffers it grew for the last one. Pooled,
// it costs fewer allocations than a json.Unmarshal.
type strictDecoder struct {
	r   bytes.Reader
	dec *json.Decoder
	fed int64 // bytes given to dec so far
}

var strictDecoders = sync.Pool{New: func() any {
	d := new(strictDecoder)
	d.dec = json.NewDecoder(&d.r)
	d.dec.DisallowUnknownFields()
	return d
}}

// maxPooledSession is the largest session strictDecode decodes with a
// pooled decoder, whose buffer grows to the size of what it read: a
// larger one gets a decoder of its own, so the pool never holds on to a
// large buffer. Sessions are a few KiB.
const maxPooledSession = 64 << 10

// strictDecode decodes b, one JSON value, into v, refusing a member v
// has no field for, and reports whether it succeeded.
func strictDecode(b []byte, v any) bool {
	d := strictDecoders.Get().(*strictDecoder)
	d.r.Reset(b)
	d.fed += int64(len(b))
	ok := d.dec.Decode(v) == nil
	// A decoder that failed, or did not consume exactly b (b is one value,
	// so it always does), is dropped rather than trusted again.
	if ok && d.dec.InputOffset() == d.fed && len(b) <= maxPooledSession {
		strictDecoders.Put(d)
	}
	return ok
}

// modeledMembers are the JSON names the SDK reads from a session: the tags
// of Verification's fields and wireVerification's other names for an id.
// Every other member goes to Extra. (TestModeledMembersMatchTheTags keeps
// the list in step with the tags.)
var modeledMembers = [...]string{
	"id", "status", "statusCode", "verificationMethod", "createdAt", "updatedAt", "reason",
	"vendorData", "selfie", "doc", "docInfo", "meta", "_id", "verificationId",
}

// isModeled reports whether encoding/json decodes the member name into a
// field: it matches names without regard to case (bytes.EqualFold).
func isModeled(name string) bool {
	for _, m := range modeledMembers {
		if strings.EqualFold(name, m) {
			return true
		}
	}
	return false
}

// extraMembers adds the members of the JSON object b that the SDK does not
// model to *extra, copied (b is encoding/json's buffer), making the map
// when there is one to add: a session without such members leaves *extra
// as it was, nil on the SDK's own path. As encoding/json does for a map,
// it adds to a map that is already there (a stored Verification decoded
// into again).
func extraMembers(b []byte, extra *map[string]json.RawMessage) error {
	var all map[string]span
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for name, value := range all {
		if isModeled(name) {
			continue
		}
		if *extra == nil {
			*extra = make(map[string]json.RawMessage)
		}
		(*extra)[name] = canonicalJSON(value)
	}
	return nil
}

// span is a member's value as a slice of the bytes being decoded, not a
// copy: extraMembers copies only the members it keeps, before b goes away.
type span []byte

// UnmarshalJSON keeps the value's bytes (encoding/json passes a slice of
// the input it decodes).
func (s *span) UnmarshalJSON(b []byte) error {
	*s = b
	return nil
}

// canonicalJSON returns raw, a valid JSON value, as encoding/json writes
// JSON: without insignificant whitespace, with <, >, &, U+2028 and U+2029
// in strings escaped. It is the form json.Marshal gives a
// json.RawMessage back in, so an Extra value survives a Verification's
// own JSON encoding byte for byte. Compact JSON with none of those
// characters (what a server usually sends) is returned as it is.
func canonicalJSON(raw []byte) json.RawMessage {
	if !slices.ContainsFunc(raw, needsCanonical) {
		return bytes.Clone(raw)
	}
	var compact, escaped bytes.Buffer
	_ = json.Compact(&compact, raw) // raw is valid: encoding/json checked it
	json.HTMLEscape(&escaped, compact.Bytes())
	return escaped.Bytes()
}

// needsCanonical reports whether b may be written otherwise by
// encoding/json: whitespace, the characters it escapes for HTML, and the
// first byte of U+2028 and U+2029 (and of other characters, in which case
// canonicalJSON leaves them as they are).
func needsCanonical(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
		return true
	}
	return false
}

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

// MarshalJSON encodes v as the session it was decoded from: the fields
// under their JSON names, then each member of Extra as a member of the same
// object, in the order of their names. Decoding the result with
// UnmarshalJSON gives v back (timestamps to the nanosecond, Extra's values
// compacted), so a Verification stored as JSON keeps what Helium ID sent.
// An Extra member whose name is one the SDK models (see Extra) is an error,
// as is a value that is not valid JSON.
func (v Verification) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(verificationFields(v))
	if err != nil {
		return nil, err
	}
	for name := range v.Extra {
		if isModeled(name) {
			return nil, fmt.Errorf("heliumid: Verification.Extra holds %q, a member the SDK decodes into a field: set the field instead", name)
		}
	}
	return appendMembers(b, v.Extra)
}

// appendMembers adds members, in the order of their names, to obj, a JSON
// object as json.Marshal writes a struct ("{...}", no space after).
func appendMembers[V any](obj []byte, members map[string]V) ([]byte, error) {
	if len(members) == 0 {
		return obj, nil
	}
	out := bytes.NewBuffer(obj[:len(obj)-1])
	sep := len(obj) > 2 // the object already has a member
	for _, name := range slices.Sorted(maps.Keys(members)) {
		value, err := json.Marshal(members[name])
		if err != nil {
			return nil, fmt.Errorf("heliumid: Extra[%q] does not encode as JSON: %w", name, err)
		}
		quoted, _ := json.Marshal(name) // a string always encodes
		if sep {
			out.WriteByte(',')
		}
		sep = true
		out.Write(quoted)
		out.WriteByte(':')
		out.Write(value)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// sentMembers are the members CreateVerification writes from the typed
// fields, with the field each comes from; CreateVerificationRequest.Extra
// cannot hold them.
var sentMembers = [...]struct{ member, field string }{
	{"vendorData", "VendorData"}, {"meta", "Meta"}, {"method", "Method"},
}

// body encodes r as CreateVerification sends it: the typed fields, then
// Extra's members. Its errors match ErrInvalidRequest.
func (r *CreateVerificationRequest) body() ([]byte, error) {
	for name := range r.Extra {
		for _, sent := range sentMembers {
			if strings.EqualFold(name, sent.member) {
				return nil, fmt.Errorf("%w: Extra holds %q, a member the SDK sends from the typed field %s: set the field instead (even when empty, the SDK's value is the one sent)",
					ErrInvalidRequest, name, sent.field)
			}
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("%w: Meta does not encode as JSON: %v", ErrInvalidRequest, err)
	}
	if b, err = appendMembers(b, r.Extra); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRequest, strings.TrimPrefix(err.Error(), "heliumid: "))
	}
	return b, nil
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
