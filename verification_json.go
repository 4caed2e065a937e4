package heliumid

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// UnmarshalJSON decodes a verification tolerantly, because every field is
// optional in practice and a backend must not fail on a session it can still
// act on:
//   - createdAt/updatedAt accept RFC 3339 (with or without fractional
//     seconds or a zone; no zone means UTC) and Unix milliseconds; an empty
//     or unparseable timestamp is left zero;
//   - statusCode accepts a number or a decimal string;
//   - a missing status is derived from a known statusCode;
//   - a missing id is taken from "_id" or "verificationId".
//
// The result and the errors are those of encoding/json decoding the fields
// below (see decodeSlow); a session as Helium ID writes it takes a faster
// path to the same result (see scan).
func (v *Verification) UnmarshalJSON(b []byte) error {
	if v.isBlank() {
		if v.scan(b) {
			return nil
		}
		*v = Verification{}
	}
	return v.decodeSlow(b)
}

// decodeSlow is the reference decoding: encoding/json into the fields of
// Verification, with the tolerant types in place of some.
func (v *Verification) decodeSlow(b []byte) error {
	type verificationFields Verification // without this method
	aux := struct {
		*verificationFields
		StatusCode     flexInt  `json:"statusCode"`
		CreatedAt      flexTime `json:"createdAt"`
		UpdatedAt      flexTime `json:"updatedAt"`
		MongoID        string   `json:"_id"`
		VerificationID string   `json:"verificationId"`
	}{verificationFields: (*verificationFields)(v)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	v.finish(aux.StatusCode, aux.CreatedAt, aux.UpdatedAt, aux.MongoID, aux.VerificationID)
	return nil
}

// finish applies what decoding sets whether or not the payload has it.
func (v *Verification) finish(code flexInt, created, updated flexTime, mongoID, verificationID string) {
	v.StatusCode = int(code)
	v.CreatedAt = time.Time(created)
	v.UpdatedAt = time.Time(updated)
	if v.Status == "" {
		v.Status, _ = StatusFromCode(v.StatusCode)
	}
	if v.ID == "" {
		v.ID = firstNonEmpty(mongoID, verificationID)
	}
}

// isBlank reports whether decoding into v starts from scratch: encoding/json
// keeps or merges into what a field held before when the payload leaves it
// out, and only the reference decoding does that. (StatusCode, CreatedAt and
// UpdatedAt are overwritten either way.)
func (v *Verification) isBlank() bool {
	return v.ID == "" && v.Status == "" && v.Method == "" && v.Reason == "" && v.VendorData == "" &&
		v.Selfie == nil && v.Document == nil && v.DocumentInfo == nil && v.Meta == nil
}

// The members of a session, in the order of the switch in scan.
var verificationNames = []string{
	"id", "status", "statusCode", "verificationMethod", "createdAt", "updatedAt", "reason", "vendorData",
	"selfie", "doc", "docInfo", "meta", "_id", "verificationId",
}

// scan is the fast path of UnmarshalJSON, for a blank v. encoding/json reads
// a session twice (json.Unmarshal validates all of it before decoding) and
// assigns every field through reflection; decoding is most of what reading a
// session costs. scan walks the object once and assigns each member
// directly.
//
// It reports true only where decodeSlow would have succeeded with the same
// result: members spelled as documented and not repeated, each of the JSON
// type its field takes, every other member valid JSON. Anything else (an
// escaped or misspelled name, a type mismatch, invalid JSON) returns false,
// v possibly half-filled, for the caller to start over with decodeSlow,
// which then defines the result or the error.
func (v *Verification) scan(b []byte) bool {
	var (
		code                    flexInt
		created, updated        flexTime
		mongoID, verificationID string
	)
	ok := scanObject(b, verificationNames, func(i int, val []byte) bool {
		switch i {
		case 0:
			return scanString(val, &v.ID)
		case 1:
			return scanStatus(val, &v.Status)
		case 2:
			return validJSONValue(val) && code.UnmarshalJSON(val) == nil
		case 3:
			return scanString(val, (*string)(&v.Method))
		case 4:
			return validJSONValue(val) && created.UnmarshalJSON(val) == nil
		case 5:
			return validJSONValue(val) && updated.UnmarshalJSON(val) == nil
		case 6:
			return scanString(val, &v.Reason)
		case 7:
			return scanString(val, &v.VendorData)
		case 8:
			return scanPointer(val, &v.Selfie, (*Media).scan)
		case 9:
			return scanPointer(val, &v.Document, (*Document).scan)
		case 10:
			return scanPointer(val, &v.DocumentInfo, (*DocumentInfo).scan)
		case 11:
			return scanMeta(val, &v.Meta)
		case 12:
			return scanString(val, &mongoID)
		default:
			return scanString(val, &verificationID)
		}
	})
	if ok {
		v.finish(code, created, updated, mongoID, verificationID)
	}
	return ok
}

var mediaNames = []string{"key", "url"}

func (m *Media) scan(b []byte) bool {
	return scanObject(b, mediaNames, func(i int, val []byte) bool {
		if i == 0 {
			return scanString(val, &m.Key)
		}
		return scanString(val, &m.URL)
	})
}

var documentNames = []string{"type", "name", "issuingState", "key", "url"}

func (d *Document) scan(b []byte) bool {
	return scanObject(b, documentNames, func(i int, val []byte) bool {
		switch i {
		case 0:
			return scanString(val, &d.Type)
		case 1:
			return scanString(val, &d.Name)
		case 2:
			return scanString(val, &d.IssuingState)
		case 3:
			return scanStruct(val, d.Key.scan)
		default:
			return scanStruct(val, d.URL.scan)
		}
	})
}

var sidesNames = []string{"front", "back"}

func (s *DocumentSides) scan(b []byte) bool {
	return scanObject(b, sidesNames, func(i int, val []byte) bool {
		if i == 0 {
			return scanString(val, &s.Front)
		}
		return scanString(val, &s.Back)
	})
}

var documentInfoNames = []string{
	"docType", "docNumber", "issueDate", "expiryDate", "issuingState", "firstName", "lastName", "middleName", "dob", "sex",
}

func (d *DocumentInfo) scan(b []byte) bool {
	fields := [...]*string{&d.DocType, &d.DocNumber, &d.IssueDate, &d.ExpiryDate, &d.IssuingState,
		&d.FirstName, &d.LastName, &d.MiddleName, &d.DOB, &d.Sex}
	return scanObject(b, documentInfoNames, func(i int, val []byte) bool {
		return scanString(val, fields[i])
	})
}

// scanObject walks the JSON object b, calling member with each member's
// value and the index of its name in names. It reports false, for the caller
// to fall back on encoding/json, when b is not an object, a name in names
// comes twice (encoding/json would merge the two), a name matches one of
// names only without regard to case (encoding/json would decode it into that
// field), a member of another name is not valid JSON (encoding/json would
// fail), or member reports false. names has at most 64 entries.
func scanObject(b []byte, names []string, member func(i int, val []byte) bool) bool {
	w := jsonWalker{b: b}
	if !w.open('{') {
		return false
	}
	var seen uint64
	for more := w.first(); more; more = w.next() {
		name, val, ok := w.member()
		if !ok {
			return false
		}
		i := indexOf(names, name)
		if i < 0 {
			if foldsToAny(string(name), names) || !json.Valid(val) {
				return false
			}
			continue
		}
		if seen&(1<<i) != 0 || !member(i, val) {
			return false
		}
		seen |= 1 << i
	}
	return !w.err && w.end()
}

func indexOf(names []string, name []byte) int {
	for i, n := range names {
		if n == string(name) {
			return i
		}
	}
	return -1
}

// plainString returns the contents of a JSON string that encoding/json
// would decode to exactly its bytes: no escapes, no control characters,
// valid UTF-8 (json replaces invalid bytes with U+FFFD).
func plainString(val []byte) ([]byte, bool) {
	if !plainJSONString(val) {
		return nil, false
	}
	s := val[1 : len(val)-1]
	if hasControlByte(s) || !utf8.Valid(s) {
		return nil, false
	}
	return s, true
}

// scanString decodes a member of a string field as encoding/json does:
// null leaves the field alone; an escaped string goes through
// encoding/json; any other JSON type is a mismatch (false).
func scanString(val []byte, dst *string) bool {
	if s, ok := plainString(val); ok {
		*dst = string(s)
		return true
	}
	switch {
	case string(val) == "null":
		return true
	case val[0] == '"':
		var s string // not dst: handing dst to encoding/json would move every caller's target to the heap
		if json.Unmarshal(val, &s) != nil {
			return false
		}
		*dst = s
		return true
	}
	return false
}

// scanStatus decodes the status member. A plain string, the way Helium ID
// sends it, goes to ParseStatus without the JSON round trip of
// Status.UnmarshalJSON (and, when the status is one the SDK knows, without
// allocating); any other valid JSON goes to Status.UnmarshalJSON itself.
func scanStatus(val []byte, dst *Status) bool {
	if s, ok := plainString(val); ok {
		if st, known := canonicalStatus(string(s)); known {
			*dst = st
		} else {
			*dst = Status(s)
		}
		return true
	}
	return json.Valid(val) && dst.UnmarshalJSON(val) == nil
}

// scanMeta decodes the free-form meta member as encoding/json decodes it
// into a map[string]any. The flat objects meta usually holds (strings,
// numbers, booleans, null) are decoded here; anything else (a nested value,
// an escaped string) goes to encoding/json, whose map decoding costs a
// dozen allocations even for a two-member object.
func scanMeta(val []byte, dst *map[string]any) bool {
	if string(val) == "null" {
		*dst = nil
		return true
	}
	if val[0] != '{' {
		return false
	}
	m := make(map[string]any)
	w := jsonWalker{b: val}
	flat := w.open('{')
	for more := flat && w.first(); flat && more; more = w.next() {
		key, v, ok := w.member()
		if !ok || !utf8.Valid(key) { // encoding/json would replace invalid bytes in the key
			flat = false
			break
		}
		switch s, plain := plainString(v); {
		case plain:
			m[string(key)] = string(s)
		case string(v) == "true":
			m[string(key)] = true
		case string(v) == "false":
			m[string(key)] = false
		case string(v) == "null":
			m[string(key)] = nil
		case v[0] == '-' || ('0' <= v[0] && v[0] <= '9'):
			// As encoding/json: a valid JSON number, as float64 (and an
			// error if it does not fit, which the fallback reports).
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || !json.Valid(v) {
				flat = false
			}
			m[string(key)] = f
		default:
			flat = false
		}
	}
	if flat && !w.err && w.end() {
		*dst = m
		return true
	}
	return json.Unmarshal(val, dst) == nil
}

// scanPointer decodes a member of a pointer-to-struct field: null sets it
// to nil, an object is scanned into a new value.
func scanPointer[T any](val []byte, dst **T, scan func(*T, []byte) bool) bool {
	if string(val) == "null" {
		*dst = nil
		return true
	}
	if val[0] != '{' {
		return false
	}
	p := new(T)
	if !scan(p, val) {
		return false
	}
	*dst = p
	return true
}

// scanStruct decodes a member of a struct field: null leaves it alone, an
// object is scanned into it.
func scanStruct(val []byte, scan func([]byte) bool) bool {
	if string(val) == "null" {
		return true
	}
	return val[0] == '{' && scan(val)
}

func (v *Verification) validate() string {
	if v.ID == "" && v.Status == "" {
		return "the data holds neither an id nor a status"
	}
	return ""
}

// flexTime decodes the timestamps Helium ID writes, and the variants a
// tolerant client should accept, without ever failing.
type flexTime time.Time

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"}

func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '"' {
		if ms, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			*t = flexTime(time.UnixMilli(ms).UTC())
		}
		return nil
	}
	if plainJSONString(b) {
		t.parse(string(b[1 : len(b)-1]))
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		t.parse(s)
	}
	return nil
}

// parse sets t from the first layout that parses s, if any.
func (t *flexTime) parse(s string) {
	for _, layout := range timeLayouts {
		if parsed, err := time.Parse(layout, s); err == nil {
			*t = flexTime(parsed)
			return
		}
	}
}

var createdNames = []string{"verificationId", "link"}

// scan decodes a blank cv from the data of a create response, like
// Verification.scan: true only where encoding/json would have succeeded with
// the same result.
func (cv *CreatedVerification) scan(b []byte) bool {
	return scanObject(b, createdNames, func(i int, val []byte) bool {
		if i == 0 {
			return scanString(val, &cv.ID)
		}
		return scanString(val, &cv.Link)
	})
}

// validate checks what a create returned: a usable link, and an id (taken
// from the link's processId when the server leaves verificationId out).
func (cv *CreatedVerification) validate() string {
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
