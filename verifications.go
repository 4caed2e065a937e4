package heliumid

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Method is how a session is decided.
type Method string

const (
	// MethodAuto lets Helium ID's automated systems decide (the server's
	// default when Method is empty).
	MethodAuto Method = "auto"
	// MethodManual has an Identity Specialist review the session.
	MethodManual Method = "manual"
)

// CreateVerificationRequest is the body of POST /v1/verifications.
type CreateVerificationRequest struct {
	// VendorData is your own identifier for the session (a user id, an order
	// number). Strongly recommended: it is how you find the session again.
	VendorData string `json:"vendorData,omitempty"`
	// Meta is custom data Helium ID stores with the session and echoes back.
	// It must encode as JSON.
	Meta map[string]any `json:"meta,omitempty"`
	// Method is MethodAuto or MethodManual; empty means the server's default
	// (auto).
	Method Method `json:"method,omitempty"`
	// Extra adds members to the request body, beside the typed fields: for
	// a member Helium ID accepts that this version of the SDK does not
	// model. Each value must encode as JSON; members are sent in the order
	// of their names. A member the SDK sends itself ("vendorData", "meta",
	// "method", in any case) is refused before any I/O with an error
	// matching [ErrInvalidRequest], whatever the typed fields hold: set the
	// typed field instead.
	Extra map[string]any `json:"-"`
}

// CreatedVerification is a session just created.
type CreatedVerification struct {
	// ID identifies the session in GetVerification and in webhooks.
	ID string `json:"verificationId"`
	// Link is where the end-user verifies: redirect them here, or send it to
	// them. It is an absolute http(s) URL (checked before it is returned).
	Link string `json:"link"`
}

// Verification is a session as GET /v1/verifications/{id} returns it. Every
// field is optional in practice: a field the server leaves out is zero.
//
// Selfie, Document, DocumentInfo and Extra are personal data. A
// Verification's Format (what every fmt verb prints) and slog LogValue
// redact them (and VendorData and Meta), so logging a Verification
// is safe; its JSON encoding keeps everything (see MarshalJSON).
type Verification struct {
	ID           string         `json:"id"`
	Status       Status         `json:"status"`
	StatusCode   int            `json:"statusCode,omitempty"`
	Method       Method         `json:"verificationMethod,omitempty"`
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
	Reason       string         `json:"reason,omitempty"`     // why a session was not successful
	VendorData   string         `json:"vendorData,omitempty"` // the VendorData it was created with, when the server echoes it
	Selfie       *Media         `json:"selfie,omitempty"`     // personal data
	Document     *Document      `json:"doc,omitempty"`        // personal data
	DocumentInfo *DocumentInfo  `json:"docInfo,omitempty"`    // personal data
	Meta         map[string]any `json:"meta,omitempty"`       // the Meta it was created with, when the server echoes it

	// Extra holds the members of the session's JSON that the SDK does not
	// model, verbatim: what Helium ID sends beyond the fields above (a
	// member it adds later, say). It is nil when there are none. Members
	// the SDK reads are not in it: the fields' JSON names (matched without
	// regard to case, as encoding/json matches them) and "_id" and
	// "verificationId", which an id is taken from when "id" is missing.
	// Extra may hold personal data: it is redacted wherever the document
	// data is.
	Extra map[string]json.RawMessage `json:"-"`
}

// Media is a stored image: its storage key and a URL to fetch it.
type Media struct {
	Key string `json:"key,omitempty"`
	URL string `json:"url,omitempty"`
}

// Document describes the identity document the end-user submitted.
type Document struct {
	Type         string        `json:"type,omitempty"`
	Name         string        `json:"name,omitempty"`
	IssuingState string        `json:"issuingState,omitempty"`
	Key          DocumentSides `json:"key"` // storage keys of the images
	URL          DocumentSides `json:"url"` // URLs of the images
}

// DocumentSides holds a value for each side of a document.
type DocumentSides struct {
	Front string `json:"front,omitempty"`
	Back  string `json:"back,omitempty"`
}

// DocumentInfo is what was read off the document. Dates are kept as the
// server writes them.
type DocumentInfo struct {
	DocType      string `json:"docType,omitempty"`
	DocNumber    string `json:"docNumber,omitempty"`
	IssueDate    string `json:"issueDate,omitempty"`
	ExpiryDate   string `json:"expiryDate,omitempty"`
	IssuingState string `json:"issuingState,omitempty"`
	FirstName    string `json:"firstName,omitempty"`
	LastName     string `json:"lastName,omitempty"`
	MiddleName   string `json:"middleName,omitempty"`
	DOB          string `json:"dob,omitempty"`
	Sex          string `json:"sex,omitempty"`
}

// ExpiresAt returns when the session expires unless it gets a conclusive
// decision first: CreatedAt + SessionLifetime. It is the zero time when
// CreatedAt is unknown.
func (v *Verification) ExpiresAt() time.Time {
	if v == nil || v.CreatedAt.IsZero() {
		return time.Time{}
	}
	return v.CreatedAt.Add(SessionLifetime)
}

// CreateVerification creates a verification session: POST /v1/verifications.
// Send the end-user to the returned Link; the decision arrives by webhook, or
// by GetVerification / WaitForDecision with the returned ID.
//
// Each attempt first waits for the limiter of WithRateLimiter. The call is
// retried only when Helium ID cannot have created the session: after a 429,
// or when the connection failed before the request was sent. A timeout or 5xx
// is returned, not retried: the session may exist, and a retry would create a
// second, billed one. Look it up by VendorData with ListVerifications.
func (c *Client) CreateVerification(ctx context.Context, req *CreateVerificationRequest, opts ...Option) (*CreatedVerification, error) {
	cfg, err := c.startCall(ctx, opts)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: CreateVerification needs a request; pass &heliumid.CreateVerificationRequest{} for the defaults", ErrInvalidRequest)
	}
	if err := req.Method.validate(); err != nil {
		return nil, err
	}
	body, err := req.body()
	if err != nil {
		return nil, err
	}
	var out CreatedVerification
	err = c.do(ctx, cfg, &call{op: "CreateVerification", route: routeVerifications, method: http.MethodPost, path: "/v1/verifications", body: body, create: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (m Method) validate() error {
	switch m {
	case "", MethodAuto, MethodManual:
		return nil
	}
	return fmt.Errorf("%w: method %q is not %q or %q", ErrInvalidRequest, string(m), MethodAuto, MethodManual)
}

// GetVerification fetches one session, with its status and, once submitted,
// the document data: GET /v1/verifications/{id}. An unknown id returns an
// error matching ErrNotFound.
func (c *Client) GetVerification(ctx context.Context, id string, opts ...Option) (*Verification, error) {
	cfg, err := c.startCall(ctx, opts)
	if err != nil {
		return nil, err
	}
	return c.getVerification(ctx, cfg, id)
}

func (c *Client) getVerification(ctx context.Context, cfg *config, id string) (*Verification, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	var v Verification
	r := &call{op: "GetVerification", route: routeVerification, method: http.MethodGet, path: "/v1/verifications/" + url.PathEscape(id)}
	if err := c.do(ctx, cfg, r, &v); err != nil {
		return nil, err
	}
	if v.ID == "" {
		v.ID = id // the payload's fields are all optional; the id asked for is known
	}
	return &v, nil
}

// The routes of Operation: path templates, never an id.
const (
	routeVerifications = "/v1/verifications"
	routeVerification  = "/v1/verifications/{id}"
)

// maxIDLength bounds an id: real ids are short, and a long one is a mistake
// (or an attack) that should not reach a URL.
const maxIDLength = 256

// validateID rejects an id that is empty or could leave its path segment. The
// remaining ids are still path-escaped.
func validateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: verification id is empty", ErrInvalidRequest)
	case len(id) > maxIDLength:
		return fmt.Errorf("%w: verification id is %d bytes long; ids are at most %d", ErrInvalidRequest, len(id), maxIDLength)
	case id == "." || id == ".." || strings.ContainsAny(id, "/\\?#%"):
		return fmt.Errorf("%w: verification id %q contains characters an id never has (/ \\ ? # %%) or is a dot segment", ErrInvalidRequest, id)
	case !validHeaderValue(id) || strings.ContainsRune(id, ' '):
		return fmt.Errorf("%w: verification id %q contains spaces or control characters", ErrInvalidRequest, id)
	}
	return nil
}
