package heliumid

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
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
func (v *Verification) UnmarshalJSON(b []byte) error {
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
	v.StatusCode = int(aux.StatusCode)
	v.CreatedAt = time.Time(aux.CreatedAt)
	v.UpdatedAt = time.Time(aux.UpdatedAt)
	if v.Status == "" {
		v.Status, _ = StatusFromCode(v.StatusCode)
	}
	if v.ID == "" {
		v.ID = firstNonEmpty(aux.MongoID, aux.VerificationID)
	}
	return nil
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
	var s string
	if plainJSONString(b) {
		s = string(b[1 : len(b)-1])
	} else if json.Unmarshal(b, &s) != nil {
		return nil
	}
	for _, layout := range timeLayouts {
		if parsed, err := time.Parse(layout, s); err == nil {
			*t = flexTime(parsed)
			return nil
		}
	}
	return nil
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
