package heliumidtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// ErrInvalidTransition is returned by [Server.SetStatus] for a change the
// session lifecycle forbids, and by [Server.Decide] for a status that is not
// a decision or that the session cannot reach.
var ErrInvalidTransition = errors.New("heliumidtest: transition not allowed by the lifecycle")

// lifecycle is the fake's session lifecycle, one step at a time. It is
// spelled out here rather than read from heliumid.Status.CanTransitionTo so
// that what the fake plays stays what SetStatus documents, whatever the
// SDK's reading of the lifecycle becomes. The one resubmission of
// [WithResubmission] (failed → started) is not in it: see nextSteps.
var lifecycle = map[heliumid.Status][]heliumid.Status{
	heliumid.StatusNotStarted: {heliumid.StatusStarted, heliumid.StatusExpired},
	heliumid.StatusStarted:    {heliumid.StatusSubmitted, heliumid.StatusAbandoned},
	heliumid.StatusSubmitted:  {heliumid.StatusSuccessful, heliumid.StatusFailed, heliumid.StatusReview},
	heliumid.StatusReview:     {heliumid.StatusSuccessful, heliumid.StatusFailed},
}

// SetStatus moves session id to st, as the end-user or Helium ID would, and
// sends a webhook when a webhook URL is set ([WithWebhookURL],
// [Server.SetWebhookURL]). updatedAt becomes the Server's now, or 1 ms after
// the session's previous change when that is later (on the virtual clock,
// which moves only with Advance, successive changes would otherwise carry
// the same instant): each change of a session is stamped strictly later
// than the one before it, so an apply rule by updatedAt can tell them apart.
//
// Only one lifecycle step at a time is allowed:
//
//	not started → started | expired
//	started     → submitted | abandoned
//	submitted   → successful | failed | review
//	review      → successful | failed
//	failed      → started, once, only with [WithResubmission]
//
// so a test walks a session to a decision step by step (started, submitted,
// successful), one webhook per step, as the real service does, or in one
// call with [Server.Decide]. From submitted on, the session carries fake
// personal data (see the package documentation); a failed, expired or
// abandoned one carries a reason. A resubmission (failed → started) clears
// the reason and the personal data until the session is submitted again.
// st may be an alias ParseStatus knows ("completed" is submitted).
//
// SetStatus returns an error matching heliumid.ErrNotFound for an unknown
// id, [ErrInvalidTransition] for a step the lifecycle forbids (nothing
// changes), and [ErrClosed] after Close.
func (s *Server) SetStatus(id string, st heliumid.Status) error {
	st = heliumid.ParseStatus(string(st))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, now, err := s.lookupLocked("SetStatus", id, st)
	if err != nil {
		return err
	}
	if err := s.checkStep(sess, st, now); err != nil {
		return err
	}
	s.change(sess, st, now)
	return nil
}

// lookupLocked finds session id for method (whose arguments were id and st)
// and applies what the time brought: expiry first, so that a session past
// its lifetime has expired. The caller holds s.mu.
func (s *Server) lookupLocked(method, id string, st heliumid.Status) (*session, time.Time, error) {
	if s.closed {
		return nil, time.Time{}, fmt.Errorf("heliumidtest: %s(%q, %q): %w", method, id, st, ErrClosed)
	}
	sess, ok := s.sessions[id]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("heliumidtest: %s(%q, %q): %w: the server has no session with this id", method, id, st, heliumid.ErrNotFound)
	}
	return sess, s.tick(), nil
}

// nextSteps lists where sess may go in one step at now: the lifecycle's
// steps, and started from failed when [WithResubmission] allows it, the
// session's one resubmission is unused and its lifetime is not over. The
// caller holds s.mu.
func (s *Server) nextSteps(sess *session, now time.Time) []heliumid.Status {
	if sess.status == heliumid.StatusFailed && s.resubmissionError(sess, now) == "" {
		return []heliumid.Status{heliumid.StatusStarted}
	}
	return lifecycle[sess.status]
}

// resubmissionError says why failed sess cannot be resubmitted at now, or
// "" when it can. The caller holds s.mu.
func (s *Server) resubmissionError(sess *session, now time.Time) string {
	switch {
	case !s.cfg.resubmission:
		return `"failed" is final: create a new session instead (a Server started WithResubmission accepts one resubmission)`
	case sess.resubmitted:
		return "limit exceeded: the session was resubmitted once already, and Helium ID allows one resubmission"
	case !now.Before(sess.createdAt.Add(heliumid.SessionLifetime)):
		return "its 7-day lifetime is over: create a new session instead"
	}
	return ""
}

// checkStep returns nil when sess may go to st in one step at now, else an
// error matching ErrInvalidTransition that says where it may go. The caller
// holds s.mu.
func (s *Server) checkStep(sess *session, st heliumid.Status, now time.Time) error {
	next := s.nextSteps(sess, now)
	if slices.Contains(next, st) {
		return nil
	}
	return fmt.Errorf("%w: session %s cannot go from %q to %q; %s", ErrInvalidTransition, sess.id, sess.status, st, s.describeNext(sess, next, now))
}

// describeNext says where sess, whose next steps are next, may go, for an
// error message. The caller holds s.mu.
func (s *Server) describeNext(sess *session, next []heliumid.Status, now time.Time) string {
	if len(next) == 0 {
		if sess.status == heliumid.StatusFailed {
			return s.resubmissionError(sess, now)
		}
		return fmt.Sprintf("%q is final: create a new session instead", sess.status)
	}
	quoted := make([]string, len(next))
	for i, n := range next {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return fmt.Sprintf("from %q it can go to %s", sess.status, strings.Join(quoted, " or "))
}

// change applies a status change and queues its webhook. The caller holds
// s.mu, so webhooks are queued in the order the changes happened. at is
// when the change happened; it is stamped at least 1 ms after the
// session's previous change (see SetStatus).
func (s *Server) change(sess *session, st heliumid.Status, at time.Time) {
	if prev := sess.updatedAt.Add(time.Millisecond); at.Before(prev) {
		at = prev
	}
	if sess.status == heliumid.StatusFailed && st == heliumid.StatusStarted {
		sess.resubmitted = true
	}
	sess.setStatus(st, at)
	s.hooks.enqueue(sess.id, st, sess.wire)
}

// Advance moves the Server's clock forward by d and applies what the time
// brings: every session whose lifetime (heliumid.SessionLifetime, 7 days
// from createdAt) ended meanwhile and that had no decision changes status,
// as heliumid.Status.OnExpiry says (not started becomes expired, started
// becomes abandoned; submitted, review and final sessions stay), with
// updatedAt at the instant it expired and a webhook each, in creation
// order. Moving the clock also slides the window of [WithRateLimit] and
// fills the bucket of [WithTokenBucket]. With [WithWallClock], Advance adds
// to the real time elapsed.
//
// A d of zero or less does nothing: the clock never goes back. The clock
// stops at the end of year 9999, the last instant the API's timestamps can
// write, however far it is advanced. Advance after Close does nothing.
func (s *Server) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.clock.advance(d)
	s.tick()
}

// Verification returns session id as a client would read it with
// GetVerification, and whether the Server has it: a way to assert on the
// Server's state without a request (which would show up in [Server.Requests]
// and count against injected failures).
func (s *Server) Verification(id string) (*heliumid.Verification, bool) {
	w, ok := s.snapshot(id)
	if !ok {
		return nil, false
	}
	// Decoding the wire form gives exactly what the SDK would see.
	b, err := json.Marshal(w)
	if err != nil {
		return nil, false
	}
	var v heliumid.Verification
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false
	}
	return &v, true
}

// snapshot returns session id as the API serves it, copied under the lock.
func (s *Server) snapshot(id string) (wireSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	sess, ok := s.sessions[id]
	if !ok {
		return wireSession{}, false
	}
	return sess.wire(), true
}
