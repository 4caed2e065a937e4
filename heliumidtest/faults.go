package heliumidtest

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// Failure is a fault [Server.FailNext] injects into requests, to test how
// your code handles a failing API. Its fields combine: Delay first, then
// Drop or Status (Drop wins), and with neither the request is answered
// normally, only late.
type Failure struct {
	// Status, when non-zero, answers with this HTTP status (200–599) and an
	// error envelope {"status": false, "message": Message, "data": null,
	// "code": Status} instead of handling the request. A 2xx here makes the
	// envelope-says-failure case the SDK must also handle. Another value is
	// answered as 500 with a message naming the mistake.
	Status int
	// Message is the envelope's message; empty means the status text.
	Message string
	// Body, when non-empty, is sent as is instead of the envelope, with a
	// sniffed Content-Type: a proxy's HTML error page, plain text, truncated
	// JSON. It needs Status.
	Body string
	// RetryAfter, when positive, adds a Retry-After header (whole seconds,
	// rounded up) to the Status response, as a 429 or 503 would carry.
	RetryAfter time.Duration
	// Delay holds the request for this long, in real time, before anything
	// else happens: a slow server, to test timeouts. The wait ends early
	// when the client gives up (the request is then not handled at all) or
	// the Server closes (the connection is dropped).
	Delay time.Duration
	// Drop closes the connection without a response, as a crashed server or
	// a cut network would: the client sees EOF or a reset. Note that Go's
	// http.Transport may resend a GET on its own after such a drop on a
	// reused connection; the resent request meets the next failure, if any.
	Drop bool
	// Handled makes the Server handle the request first (a create creates
	// its session) and only then answer with Status or Drop, so the client
	// sees a failure although the server acted: the case in which retrying
	// a create would make a duplicate session.
	Handled bool
}

// MaxQueuedFailures is how many different failures [Server.FailNext] can
// queue at once. Each costs the memory of one [Failure] whatever its
// count, and a failure queued right after an equal one only adds to its
// count.
const MaxQueuedFailures = 1000

// errTooManyFailures is FailNext's error when MaxQueuedFailures are queued.
var errTooManyFailures = fmt.Errorf("heliumidtest: FailNext: %d different failures are already queued; let requests use them up, or ClearFailures", MaxQueuedFailures)

// failureRun is a queued Failure and how many more requests it meets.
type failureRun struct {
	f    Failure
	left int
}

// FailNext makes the next n requests the Server receives, whatever their
// path, method or key, meet f instead of (or, with Failure.Handled, after)
// the normal handling. Calls queue up: FailNext(1, a) then FailNext(2, b)
// fails the next three requests with a, b, b. Every request still appears
// in [Server.Requests], with the status it got.
//
// n may be as large as you like: math.MaxInt fails every request until
// [Server.ClearFailures] or [Server.Reset]. A queued failure costs the same
// memory whatever its n, and FailNext does no work per request it will
// fail. n <= 0 queues nothing. FailNext returns an error, queuing nothing,
// only when [MaxQueuedFailures] different failures are already queued; a
// test that queues a few can ignore it.
func (s *Server) FailNext(n int, f Failure) error {
	if n <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := len(s.faults); k > 0 && s.faults[k-1].f == f {
		last := &s.faults[k-1]
		last.left = min(last.left, math.MaxInt-n) + n // saturates at math.MaxInt
		return nil
	}
	if len(s.faults) >= MaxQueuedFailures {
		return errTooManyFailures
	}
	s.faults = append(s.faults, failureRun{f: f, left: n})
	return nil
}

// ClearFailures drops every failure [Server.FailNext] queued that requests
// have not met yet: the next requests are handled normally.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// QueuedFailures returns how many more requests the failures queued by
// [Server.FailNext] will meet (math.MaxInt when that many or more), to
// check that a test used them all.
func (s *Server) QueuedFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, r := range s.faults {
		total = min(total, math.MaxInt-r.left) + r.left
	}
	return total
}

// nextFailure takes the failure for the request that just arrived.
func (s *Server) nextFailure() (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Failure{}, false
	}
	run := &s.faults[0]
	f := run.f
	if run.left--; run.left == 0 {
		s.faults[0] = failureRun{}
		s.faults = s.faults[1:]
	}
	return f, true
}

// inject answers r according to f; handle serves r normally.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, f Failure, handle func(http.ResponseWriter)) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client is gone: nobody reads an answer
		case <-s.closing:
			drop(w)
			return
		}
	}
	if !f.Drop && f.Status == 0 {
		handle(w)
		return
	}
	if f.Handled {
		handle(httptest.NewRecorder()) // acted on, answer lost
	}
	if f.Drop {
		drop(w)
		return
	}
	writeFailure(w, f)
}

// writeFailure writes the response of a Failure with a Status.
func writeFailure(w http.ResponseWriter, f Failure) {
	if f.Status < 200 || f.Status > 599 {
		writeEnvelope(w, http.StatusInternalServerError, false,
			fmt.Sprintf("heliumidtest: Failure.Status %d is not an HTTP status from 200 to 599", f.Status), nil)
		return
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(f.RetryAfter), 10))
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", http.DetectContentType([]byte(f.Body)))
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	writeEnvelope(w, f.Status, false, msg, nil)
}

// drop closes r's connection without writing a response.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (never the case for the HTTP/1.1 httptest server):
		// ErrAbortHandler is net/http's own way to abort a response, which
		// it recovers from quietly.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
