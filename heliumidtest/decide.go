package heliumidtest

import (
	"fmt"
	"slices"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// Decide walks session id through every lifecycle step to st, a decision:
// heliumid.StatusSuccessful, StatusFailed or StatusReview. Each step is
// what [Server.SetStatus] would do, its webhook included, in order, so
//
//	srv.Decide(id, heliumid.StatusSuccessful)
//
// on a new session does what SetStatus to started, submitted, then
// successful does, at once: no other change can come between the steps.
// From review, Decide goes to successful or failed directly; from failed,
// with [WithResubmission] and the resubmission unused, it walks the
// resubmission (started, submitted, then st).
//
// Decide returns an error matching [ErrInvalidTransition] when st is not a
// decision (nothing changes; st may be an alias ParseStatus knows), when
// the session is in st already, or when it cannot reach st from where it
// is (a final status, review to review); heliumid.ErrNotFound for an
// unknown id, and [ErrClosed] after Close.
func (s *Server) Decide(id string, st heliumid.Status) error {
	st = heliumid.ParseStatus(string(st))
	if !isDecision(st) {
		return fmt.Errorf("heliumidtest: Decide(%q, %q): %w: %q is not a decision: Decide takes %q, %q or %q (SetStatus moves a session one step)",
			id, st, ErrInvalidTransition, st, heliumid.StatusSuccessful, heliumid.StatusFailed, heliumid.StatusReview)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, now, err := s.lookupLocked("Decide", id, st)
	if err != nil {
		return err
	}
	path, err := s.pathTo(sess, st, now)
	if err != nil {
		return err
	}
	for _, step := range path {
		s.change(sess, step, now)
	}
	return nil
}

// isDecision reports whether Decide takes st.
func isDecision(st heliumid.Status) bool {
	return st == heliumid.StatusSuccessful || st == heliumid.StatusFailed || st == heliumid.StatusReview
}

// forward is the step toward a decision from a status that has none among
// its next steps: the end-user's part of the walk.
var forward = map[heliumid.Status]heliumid.Status{
	heliumid.StatusNotStarted: heliumid.StatusStarted,
	heliumid.StatusFailed:     heliumid.StatusStarted, // the resubmission
	heliumid.StatusStarted:    heliumid.StatusSubmitted,
}

// pathTo returns the steps that take sess to the decision st at now,
// without changing it, or an error matching ErrInvalidTransition. The
// caller holds s.mu.
func (s *Server) pathTo(sess *session, st heliumid.Status, now time.Time) ([]heliumid.Status, error) {
	if sess.status == st {
		return nil, fmt.Errorf("%w: session %s is %q already", ErrInvalidTransition, sess.id, st)
	}
	// Walk a copy: which steps are allowed depends on the session's state
	// (its resubmission), which the walk itself changes.
	walker := *sess
	var path []heliumid.Status
	for walker.status != st {
		next := s.nextSteps(&walker, now)
		step := st
		if !slices.Contains(next, st) {
			fwd, ok := forward[walker.status]
			if !ok || !slices.Contains(next, fwd) {
				return nil, fmt.Errorf("%w: session %s cannot reach %q from %q; %s", ErrInvalidTransition, sess.id, st, sess.status, s.describeNext(&walker, next, now))
			}
			step = fwd
		}
		if walker.status == heliumid.StatusFailed {
			walker.resubmitted = true
		}
		walker.status = step
		path = append(path, step)
	}
	return path, nil
}
