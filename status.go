package heliumid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/internal/wire"
	"slices"
)

// Status is the state of a verification session.
//
// The eight constants below are the canonical statuses. A Status read from the
// API may also hold a value this version of the SDK does not know (a status
// Helium ID added later); such a value is kept verbatim so that a new status
// never breaks a backend. Use [Status.IsKnown] to tell the two apart.
type Status string

// The canonical statuses, in lifecycle order: the eight of the session-status
// table of Helium ID's docs (create-verification page), whose wording the
// comments below follow. See [Status.CanTransitionTo] for the lifecycle.
const (
	// StatusNotStarted: the session exists; the end-user has not opened the link.
	StatusNotStarted Status = "not started"
	// StatusStarted: the end-user entered the verification flow.
	StatusStarted Status = "started"
	// StatusSubmitted: the end-user's data was submitted (the status-code
	// table's "completed": "submitted and processed"). Whether a decision
	// follows, the docs do not say; this SDK's lifecycle expects one
	// (successful, failed or review).
	StatusSubmitted Status = "submitted"
	// StatusSuccessful: the end-user was verified. Final.
	StatusSuccessful Status = "successful"
	// StatusFailed: the end-user was not verified. Helium ID's docs
	// contradict themselves on what follows: the statuses page says to
	// create a new session to try again, the session-decisions page allows
	// one resubmission of the same session (which then starts again). This
	// SDK's lifecycle ([Status.CanTransitionTo]) treats it as final;
	// [Verification.Supersedes] applies a resubmission's decision after it.
	StatusFailed Status = "failed"
	// StatusExpired: the end-user never opened the link within
	// [SessionLifetime]. Final.
	StatusExpired Status = "expired"
	// StatusAbandoned: the end-user started but did not finish within
	// [SessionLifetime]. Final.
	StatusAbandoned Status = "abandoned"
	// StatusReview: the automation engine was inconclusive and a human on your
	// side must review the session. Only issued when enabled for the
	// integration.
	StatusReview Status = "review"
)

// SessionLifetime is how long a session lives without a conclusive decision:
// "All verification sessions expire after 7 days" (create-verification page).
// After it, a session still [StatusNotStarted] becomes [StatusExpired] and one
// [StatusStarted] becomes [StatusAbandoned], the two the docs name (see
// [Status.OnExpiry]).
const SessionLifetime = 7 * 24 * time.Hour

// statusCodes maps Helium ID's numeric statusCode (verification-status-codes
// page) to the canonical status, as this SDK reads the labels. review has no
// documented code.
var statusCodes = map[int]Status{
	1001: StatusNotStarted,
	2000: StatusStarted,
	2001: StatusSubmitted,
	2010: StatusSuccessful,
	3033: StatusAbandoned,
	4100: StatusFailed,
	5000: StatusExpired,
}

// StatusFromCode returns the canonical status for one of Helium ID's numeric
// status codes (1001, 2000, 2001, 2010, 3033, 4100, 5000). ok is false for any
// other code.
func StatusFromCode(code int) (s Status, ok bool) {
	s, ok = statusCodes[code]
	return s, ok
}

// Code returns the numeric statusCode Helium ID uses for s. ok is false for
// [StatusReview], which has no documented code, and for unknown statuses.
func (s Status) Code() (code int, ok bool) {
	code, ok = statusCodeOf[s]
	return code, ok
}

// statusCodeOf is statusCodes the other way round.
var statusCodeOf = func() map[Status]int {
	m := make(map[Status]int, len(statusCodes))
	for code, s := range statusCodes {
		m[s] = code
	}
	return m
}()

// ParseStatus turns a status as the API sends it into a Status. It never
// fails:
//   - matching ignores case and surrounding spaces;
//   - the labels of Helium ID's docs map to their canonical status, as this
//     SDK reads them: "created" (the expiry note) to [StatusNotStarted],
//     "completed" ("submitted and processed", verification-status-codes) to
//     [StatusSubmitted], "cancelled" to [StatusExpired]; so do "not_started"
//     and "canceled", spellings no page writes, accepted by this SDK's choice;
//   - a decimal string holding a known status code maps as [StatusFromCode];
//   - anything else is returned verbatim, so [Status.IsKnown] reports false.
func ParseStatus(s string) Status {
	if st, ok := canonicalStatus(s); ok {
		return st
	}
	return Status(s)
}

func canonicalStatus(s string) (Status, bool) {
	if st := Status(s); st.IsKnown() {
		return st, true // the common case, without the allocations below
	}
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "not started", "not_started", "notstarted", "created":
		return StatusNotStarted, true
	case "started":
		return StatusStarted, true
	case "submitted", "completed":
		return StatusSubmitted, true
	case "successful":
		return StatusSuccessful, true
	case "failed":
		return StatusFailed, true
	case "expired", "cancelled", "canceled":
		return StatusExpired, true
	case "abandoned":
		return StatusAbandoned, true
	case "review":
		return StatusReview, true
	}
	if n, err := strconv.Atoi(t); err == nil {
		return StatusFromCode(n)
	}
	return "", false
}

// IsKnown reports whether s is one of the eight canonical statuses.
func (s Status) IsKnown() bool {
	switch s {
	case StatusNotStarted, StatusStarted, StatusSubmitted, StatusSuccessful,
		StatusFailed, StatusExpired, StatusAbandoned, StatusReview:
		return true
	}
	return false
}

// IsTerminal reports whether s is final: [StatusSuccessful], [StatusFailed],
// [StatusExpired] or [StatusAbandoned]. In the lifecycle as this SDK reads it
// nothing follows a terminal status, and to verify the end-user again you
// create a new session; but a failed session may be resubmitted once and
// decided again (see [StatusFailed]). [StatusReview] is not terminal: a
// reviewer still decides.
func (s Status) IsTerminal() bool {
	switch s {
	case StatusSuccessful, StatusFailed, StatusExpired, StatusAbandoned:
		return true
	}
	return false
}

// IsDecided reports whether waiting longer can tell you more: true for a
// terminal status and for [StatusReview], where your side must act. It is the
// condition [Client.WaitForDecision] stops on.
func (s Status) IsDecided() bool {
	return s.IsTerminal() || s == StatusReview
}

// nextStatuses is the lifecycle: the statuses each status can move to
// directly.
var nextStatuses = map[Status][]Status{
	StatusNotStarted: {StatusStarted, StatusExpired},
	StatusStarted:    {StatusSubmitted, StatusAbandoned},
	StatusSubmitted:  {StatusSuccessful, StatusFailed, StatusReview},
	StatusReview:     {StatusSuccessful, StatusFailed},
}

// CanTransitionTo reports whether a session can move from s to next in one
// step of the lifecycle as this SDK reads Helium ID's docs (docs/STATUSES.md
// in the repository): the docs describe not started → started → submitted →
// a decision, review where enabled, and the expiry of not started and
// started; review → successful | failed, and a failed session that goes
// nowhere (the resubmission is left out), are this SDK's reading:
//
//	not started → started | expired
//	started     → submitted | abandoned
//	submitted   → successful | failed | review
//	review      → successful | failed
//
// Terminal statuses go nowhere, and unknown statuses have no known
// transitions. A status never transitions to itself. The graph is this
// SDK's reading of Helium ID's docs, which describe the usual path but no
// complete graph (docs/API.md, "Session statuses"): a resubmission after
// failed is not in it.
func (s Status) CanTransitionTo(next Status) bool {
	return slices.Contains(nextStatuses[s], next)
}

// OnExpiry returns the status a session in s moves to when [SessionLifetime]
// ends without a conclusive decision: [StatusNotStarted] becomes
// [StatusExpired], [StatusStarted] becomes [StatusAbandoned], as Helium ID's
// docs say (create-verification page). For every other status ok is false
// and the session keeps its status. For [StatusSubmitted] and [StatusReview]
// that is this SDK's choice: the docs say all sessions expire after 7 days
// but name no status for these two, and inventing one would hide a decision
// that may still come.
func (s Status) OnExpiry() (next Status, ok bool) {
	switch s {
	case StatusNotStarted:
		return StatusExpired, true
	case StatusStarted:
		return StatusAbandoned, true
	}
	return "", false
}

// UnmarshalJSON decodes a status as the API sends it, without failing on a
// value it does not know: a string goes through [ParseStatus], a number
// through [StatusFromCode] (an unknown code is kept as its decimal text), and
// null leaves the empty Status. Only a JSON value that cannot be a status at
// all (a boolean, object or array) is an error.
func (s *Status) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("heliumid: empty JSON for a status")
	}
	st, err := statusFromJSON(b)
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// statusFromJSON decodes a status from one JSON value, as
// Status.UnmarshalJSON documents.
func statusFromJSON(raw []byte) (Status, error) {
	switch {
	case string(raw) == "null":
		return "", nil
	case wire.Kind(raw) == '"':
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return "", err
		}
		return ParseStatus(str), nil
	case wire.Kind(raw) == '0':
		if n, err := strconv.Atoi(string(raw)); err == nil {
			if st, ok := StatusFromCode(n); ok {
				return st, nil
			}
		}
		return Status(raw), nil
	}
	return "", fmt.Errorf("heliumid: a status must be a JSON string or number, got %.20s", raw)
}
