package heliumidtest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// timeLayout is how the API writes timestamps: RFC 3339 with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Reasons the Server gives for sessions that were not successful. They say
// they are fake so nobody mistakes a fixture for a real decision.
const (
	reasonFailed    = "heliumidtest: the document could not be verified (fake decision)"
	reasonRefailed  = "heliumidtest: the document could not be verified again; limit exceeded: the one resubmission is used (fake decision)"
	reasonExpired   = "heliumidtest: the end-user did not start the session within 7 days"
	reasonAbandoned = "heliumidtest: the end-user started but did not finish within 7 days"
)

// session is one verification session as the Server stores it.
type session struct {
	id          string
	status      heliumid.Status
	method      heliumid.Method
	vendorData  string
	meta        json.RawMessage // compact JSON object, nil when not given
	createdAt   time.Time
	updatedAt   time.Time
	reason      string
	submitted   bool   // the end-user's data exists: docInfo, doc and selfie are served
	resubmitted bool   // it went from failed to started once (WithResubmission)
	origin      string // scheme://host it was created through, where its media URLs point ("": nowhere)
}

// newID returns the n-th session id: shaped like a UUID, deterministic (so
// examples can print it), and plainly a test value ("7e57").
func newID(n int) string {
	return fmt.Sprintf("7e570000-0000-4000-8000-%012d", n)
}

// setStatus moves sess to st at time at, with what the change brings: a
// reason for an unsuccessful end, and the end-user's (fake) data once it was
// submitted.
func (sess *session) setStatus(st heliumid.Status, at time.Time) {
	sess.status = st
	sess.updatedAt = at
	if st == heliumid.StatusStarted { // a resubmission starts over
		sess.submitted, sess.reason = false, ""
	}
	switch st {
	case heliumid.StatusSubmitted, heliumid.StatusReview, heliumid.StatusSuccessful, heliumid.StatusFailed:
		sess.submitted = true
	}
	switch st {
	case heliumid.StatusFailed:
		sess.reason = reasonFailed
		if sess.resubmitted {
			sess.reason = reasonRefailed
		}
	case heliumid.StatusExpired:
		sess.reason = reasonExpired
	case heliumid.StatusAbandoned:
		sess.reason = reasonAbandoned
	}
}

// The wire form of a session, as GET /v1/verifications/{id} serves it. It is
// declared here rather than reusing the SDK's types, so that a mistake in
// the SDK's JSON tags shows up as a failing test instead of agreeing with
// itself.
type wireSession struct {
	ID                 string          `json:"id"`
	Status             string          `json:"status"`
	StatusCode         int             `json:"statusCode,omitempty"` // review has no documented code
	VerificationMethod string          `json:"verificationMethod"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	Reason             string          `json:"reason,omitempty"`
	Selfie             *wireMedia      `json:"selfie,omitempty"`
	Doc                *wireDoc        `json:"doc,omitempty"`
	DocInfo            *wireDocInfo    `json:"docInfo,omitempty"`
	VendorData         string          `json:"vendorData,omitempty"`
	Meta               json.RawMessage `json:"meta,omitempty"`
}

type wireMedia struct {
	Key string `json:"key"`
	URL string `json:"url"`
}

type wireSides struct {
	Front string `json:"front"`
	Back  string `json:"back"`
}

type wireDoc struct {
	Type         string    `json:"type"`
	Name         string    `json:"name"`
	IssuingState string    `json:"issuingState"`
	Key          wireSides `json:"key"`
	URL          wireSides `json:"url"`
}

type wireDocInfo struct {
	DocType      string `json:"docType"`
	DocNumber    string `json:"docNumber"`
	IssueDate    string `json:"issueDate"`
	ExpiryDate   string `json:"expiryDate"`
	IssuingState string `json:"issuingState"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	MiddleName   string `json:"middleName"`
	DOB          string `json:"dob"`
	Sex          string `json:"sex"`
}

// wire returns sess as the API serves it.
func (sess *session) wire() wireSession {
	w := wireSession{
		ID:                 sess.id,
		Status:             string(sess.status),
		VerificationMethod: string(sess.method),
		CreatedAt:          sess.createdAt.Format(timeLayout),
		UpdatedAt:          sess.updatedAt.Format(timeLayout),
		Reason:             sess.reason,
		VendorData:         sess.vendorData,
		Meta:               sess.meta,
	}
	w.StatusCode, _ = sess.status.Code()
	if sess.submitted {
		w.Selfie, w.Doc, w.DocInfo = fakePersonalData(sess.origin, sess.id)
	}
	return w
}

// fakePersonalData returns the end-user data of a submitted session: a
// specimen passport of Utopia ("UTO", the country ICAO uses for specimen
// documents) in the name of JANE DOE, with image URLs under origin, where
// the Server serves fake images (see media.go; "" for URLs that lead
// nowhere). It lets tests check that personal data is handled (redacted in
// logs, stored encrypted, …) without any real person's data.
func fakePersonalData(origin, id string) (*wireMedia, *wireDoc, *wireDocInfo) {
	// The Server's ids need no escaping; those given to WebhookBody may.
	id = url.PathEscape(id)
	selfie := &wireMedia{Key: "heliumidtest/" + id + "/selfie.jpg", URL: mediaURL(origin, id, "selfie.jpg")}
	doc := &wireDoc{
		Type:         "passport",
		Name:         "Utopia specimen passport",
		IssuingState: "UTO",
		Key:          wireSides{Front: "heliumidtest/" + id + "/doc-front.jpg", Back: "heliumidtest/" + id + "/doc-back.jpg"},
		URL:          wireSides{Front: mediaURL(origin, id, "doc-front.jpg"), Back: mediaURL(origin, id, "doc-back.jpg")},
	}
	info := &wireDocInfo{
		DocType:      "P",
		DocNumber:    "X0000000",
		IssueDate:    "2020-01-01",
		ExpiryDate:   "2030-01-01",
		IssuingState: "UTO",
		FirstName:    "JANE",
		LastName:     "DOE",
		MiddleName:   "",
		DOB:          "1990-01-01",
		Sex:          "F",
	}
	return selfie, doc, info
}
