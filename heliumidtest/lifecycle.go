package heliumidtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// ErrInvalidTransition is returned by [Server.SetStatus] for a change the
// session lifecycle forbids (see heliumid.Status.CanTransitionTo).
var ErrInvalidTransition = errors.New("heliumidtest: transition not allowed by the lifecycle")

// allStatuses lists the canonical statuses, to name the allowed next ones
// in an error.
var allStatuses = []heliumid.Status{
	heliumid.StatusNotStarted, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful,
	heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned, heliumid.StatusReview,
}

// SetStatus moves session id to st, as the end-user or Helium ID would, and
// sends a webhook when [WithWebhookURL] is set. updatedAt becomes the
// virtual clock's now.
//
// Only one lifecycle step at a time is allowed:
//
//	not started → started | expired
//	started     → submitted | abandoned
//	submitted   → successful | failed | review
//	review      → successful | failed
//
// so a test walks a session to a decision step by step (started, submitted,
// successful), one webhook per step, as the real service does. From
// submitted on, the session carries fake personal data (see the package
// documentation); a failed, expired or abandoned one carries a reason. st
// may be an alias ParseStatus knows ("completed" is submitted).
//
// SetStatus returns an error matching heliumid.ErrNotFound for an unknown
// id, [ErrInvalidTransition] for a step the lifecycle forbids (nothing
// changes), and [ErrClosed] after Close.
func (s *Server) SetStatus(id string, st heliumid.Status) error {
	st = heliumid.ParseStatus(string(st))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("heliumidtest: SetStatus(%q, %q): %w", id, st, ErrClosed)
	}
	sess, ok := s.sessions[id]
	if !ok {
		return fmt.Errorf("heliumidtest: SetStatus(%q, %q): %w: the server has no session with this id", id, st, heliumid.ErrNotFound)
	}
	now := s.tick() // expiry first: a session past its lifetime has expired
	if !sess.status.CanTransitionTo(st) {
		return fmt.Errorf("%w: session %s cannot go from %q to %q; %s", ErrInvalidTransition, id, sess.status, st, allowedNext(sess.status))
	}
	s.change(sess, st, now)
	return nil
}

// allowedNext describes where a session in st may go, for an error message.
func allowedNext(st heliumid.Status) string {
	var next []string
	for _, n := range allStatuses {
		if st.CanTransitionTo(n) {
			next = append(next, fmt.Sprintf("%q", n))
		}
	}
	if len(next) == 0 {
		return fmt.Sprintf("%q is final: create a new session instead", st)
	}
	return fmt.Sprintf("from %q it can go to %s", st, strings.Join(next, " or "))
}

// change applies a status change and queues its webhook. The caller holds
// s.mu, so webhooks are queued in the order the changes happened.
func (s *Server) change(sess *session, st heliumid.Status, at time.Time) {
	sess.setStatus(st, at)
	if s.hooks != nil {
		s.hooks.enqueue(sess.id, st, sess.wire())
	}
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
