package heliumidtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// WebhookEvent is the event name of every webhook the Server sends: a
// session changed status. It is heliumid.EventVerificationStatus.
const WebhookEvent = heliumid.EventVerificationStatus

// webhookAttemptTimeout bounds one delivery attempt: a test receiver answers
// in milliseconds, one that does not is treated like a failed attempt.
const webhookAttemptTimeout = 5 * time.Second

// maxDeliveriesKept bounds the record of finished webhooks that
// [Server.Deliveries] reports: the oldest finished ones are forgotten first.
const maxDeliveriesKept = 1000

// Delivery is a webhook the Server sends, as [Server.Deliveries] reports it
// (and [WithWebhookObserver] sees it). It is in one of these states, and
// code that reads one (a log line, a status page) must expect each:
//
//   - queued: Pending, no attempt yet (Attempts 0, Err nil);
//   - in flight: Pending, NextAttempt zero; the other fields describe the
//     attempt before it, if any;
//   - waiting for a retry: Pending, Err says why the last attempt failed,
//     NextAttempt when the next is due;
//   - sent again on request: Pending after an attempt that succeeded
//     (Err nil, StatusCode 2xx), because [Server.Redeliver] was called
//     while that attempt was in flight; the next attempt is due at once;
//   - delivered: not Pending, Err nil ([Delivery.Delivered]);
//   - given up: not Pending, Err says why the last attempt failed, or that
//     Close abandoned it.
//
// Pending alone says nothing about Err: test Err itself.
type Delivery struct {
	ID             string          // "whk_1", "whk_2", … in the order of the changes: what Server.Redeliver takes
	Event          string          // always WebhookEvent
	VerificationID string          // the session that changed
	Status         heliumid.Status // the status it changed to
	Body           []byte          // the signed body: {"event": ..., "data": <the session as GET returns it>}, as WebhookBody builds it
	Attempts       int             // requests made so far, redeliveries included (0 when none was made yet)
	StatusCode     int             // HTTP status of the last attempt; 0 when it got no response
	Err            error           // why the last attempt failed; nil when the receiver answered 2xx, or before any attempt
	Pending        bool            // queued, being sent, or waiting for its next attempt; false once delivered or given up
	NextAttempt    time.Time       // while Pending, when the next attempt is due (wall clock); zero while one is in flight, and once not Pending
}

// Delivered reports whether the receiver accepted the webhook: its last
// attempt was answered 2xx and none is pending.
func (d Delivery) Delivered() bool { return !d.Pending && d.Attempts > 0 && d.Err == nil }

// WebhookBody returns the body of the webhook the Server sends when session
// id changes to status st at time at,
//
//	{"event":"verification.status","data":{...}}
//
// built by the same code as the Server's own deliveries, for testing your
// webhook handler without a Server: sign it with heliumid.SignWebhook and
// POST it to the handler. data is the session as GET returns it: method
// "auto", vendorData (left out when empty), createdAt and updatedAt set to
// at (RFC 3339 in UTC, with milliseconds), the statusCode of st, a fake
// reason when st is failed, expired or abandoned, and from submitted on the
// fake personal data the Server serves (see the package documentation),
// with media URLs on heliumidtest.invalid, a host that never resolves (the
// Server's own point at the Server, which serves the images).
//
// st is written as given. Spell it canonically (heliumid.StatusSuccessful,
// …): any other value, an alias such as "completed" included, is sent
// without statusCode, reason or personal data, as a status Helium ID adds
// later would be, to test that your handler survives one.
func WebhookBody(id string, st heliumid.Status, at time.Time, vendorData string) []byte {
	at = at.UTC()
	sess := &session{id: id, method: heliumid.MethodAuto, vendorData: vendorData, createdAt: at}
	sess.setStatus(st, at)
	body, err := webhookBody(sess.wire())
	if err != nil { // only strings and numbers, no meta: encoding cannot fail
		panic("heliumidtest: WebhookBody: " + err.Error())
	}
	return body
}

// webhookBody encodes the webhook of a change to data, the session as GET
// returns it: the one encoding of the Server's deliveries and WebhookBody.
func webhookBody(data wireSession) ([]byte, error) {
	return json.Marshal(struct {
		Event string      `json:"event"`
		Data  wireSession `json:"data"`
	}{WebhookEvent, data})
}

// Deliveries returns the webhooks of the status changes so far (since a
// webhook URL was set), in the order of the changes: those still pending (queued, being sent, or waiting
// for a retry) and the finished ones, delivered or given up (at least the
// 1000 most recent: older finished ones are forgotten).
//
// Each is POSTed to the webhook URL ([WithWebhookURL],
// [Server.SetWebhookURL]) as it is when the attempt starts, with Content-Type
// application/json and the headers heliumid.SignWebhook makes: the API key
// signs it, and Webhook-Timestamp is the wall clock at the attempt (not the
// Server's clock), so heliumid.ParseWebhook accepts it. A response other
// than 2xx, a network error or no answer within 5 s is retried as
// [WithWebhookRetries] says; redirects are not followed.
//
// One background worker sends them, one request at a time: new webhooks in
// the order of the changes, so a receiver that answers sees a session's
// statuses in order. A retry goes out when it is due, after the webhooks
// that were due before it, so a receiver that failed for a while then sees
// some out of order (Helium ID's docs say nothing of the order or of
// retries: a receiver should not count on either). Call [Server.WaitWebhooks]
// first to wait until none is pending.
func (s *Server) Deliveries() []Delivery {
	return s.hooks.deliveries()
}

// WaitWebhooks blocks until no webhook is pending: none queued, being sent
// or waiting for a retry, or until ctx ends, when it returns ctx's error.
// With the default retries that takes at most about 150 ms per failing
// webhook; with retries spread over minutes, bound it with ctx. Without a
// webhook URL it returns nil at once.
func (s *Server) WaitWebhooks(ctx context.Context) error {
	d := s.hooks
	for {
		d.mu.Lock()
		idle := d.idle
		busy := len(d.pending) > 0 || d.inFlight != nil || d.observing > 0
		d.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Redeliver sends webhook id (a [Delivery.ID]) again, at once: one waiting
// for a retry is tried now, one delivered or given up gets a new series of
// attempts (as many as [WithWebhookRetries] allows), with the same body
// signed anew. One being sent is sent again once this attempt ends. It
// returns an error matching heliumid.ErrNotFound for an id the Server does
// not know (or no longer keeps), and [ErrClosed] after Close.
func (s *Server) Redeliver(id string) error {
	return s.hooks.redeliver(id)
}

// RedeliverFailed sends again, at once, every webhook that is not
// delivered: those waiting for a retry, and those given up (each gets a new
// series of attempts). It is what to call after restarting a receiver that
// missed deliveries. It returns how many it queued.
func (s *Server) RedeliverFailed() int {
	return s.hooks.redeliverFailed()
}

// SetWebhookURL sets or changes the URL the Server POSTs webhooks to, while
// it runs: what [WithWebhookURL] sets at the start. It is the way out of a
// webhook test's chicken-and-egg, where the service under test needs
// srv.Client() before its own URL exists:
//
//	srv := heliumidtest.NewServer()
//	defer srv.Close()
//	svc := httptest.NewServer(newService(srv.Client())) // your handler
//	defer svc.Close()
//	srv.SetWebhookURL(svc.URL + "/webhooks/heliumid")
//
// Changes from then on are sent (none is sent for earlier ones); every
// attempt from then on goes to rawURL, retries of earlier webhooks
// included ([Server.RedeliverFailed] sends those again at once). It is safe
// to call while webhooks are being delivered: an attempt in flight
// finishes at the URL it started with.
//
// rawURL must be an absolute http or https URL. SetWebhookURL returns
// nothing, so an invalid one is reported where a test looks for webhooks:
// each attempt while it is set fails, without a request, with an error in
// [Delivery].Err (and to [WithWebhookObserver]) saying what is wrong with
// it, and is retried or given up as any failed attempt. After Close it does
// nothing.
func (s *Server) SetWebhookURL(rawURL string) {
	s.hooks.setURL(rawURL)
}

// delivery is a Delivery with the dispatcher's bookkeeping.
type delivery struct {
	Delivery
	seq    int       // order of the change
	due    time.Time // when the next attempt may go; meaningful while pending
	series int       // attempts in the current series (Redeliver starts a new one)
	again  bool      // Redeliver was called while an attempt was in flight
	gone   bool      // forgotten by Reset: record nothing more
}

// dispatcher queues webhooks and delivers them from one goroutine. Every
// Server has one; it queues nothing until a webhook URL is set.
type dispatcher struct {
	apiKey    string
	attempts  int
	backoff   time.Duration
	observe   func(Delivery) // nil: none
	transport *http.Transport
	hc        *http.Client
	ctx       context.Context // cancelled when Close gives up waiting
	cancel    context.CancelFunc
	wake      chan struct{} // buffered 1: "look at the queue"
	done      chan struct{} // closed when the worker returns

	mu       sync.Mutex
	on       bool        // a webhook URL was set: changes are queued
	url      string      // where attempts go; "" while urlErr is set
	urlErr   error       // the URL set is invalid: attempts fail with it
	all      []*delivery // every delivery kept, in order of the changes
	pending  []*delivery // queued or waiting for a retry, in order of the changes
	inFlight *delivery
	// observing counts attempts whose observer call has not returned:
	// WaitWebhooks waits for them too, so that a test's observer has heard
	// every attempt when it returns.
	observing int
	idle      chan struct{} // closed while nothing is pending, in flight or being observed
	closing   bool
	deadline  time.Time // when closing: pending attempts due later are abandoned
	seq       int
}

func newDispatcher(apiKey string, attempts int, backoff time.Duration, observe func(Delivery)) *dispatcher {
	// No keep-alives: every attempt has its own connection, closed when
	// the attempt ends, so nothing of the transport outlives Close.
	transport := &http.Transport{
		DialContext:       (&net.Dialer{Timeout: webhookAttemptTimeout}).DialContext,
		DisableKeepAlives: true,
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &dispatcher{
		apiKey:    apiKey,
		attempts:  attempts,
		backoff:   backoff,
		observe:   observe,
		transport: transport,
		hc: &http.Client{
			Transport: transport,
			// A real sender does not follow a receiver's redirect with a
			// signed body; the 3xx counts as a failed attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ctx:    ctx,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		idle:   idle,
	}
}

func (d *dispatcher) start() { go d.run() }

// setURL sets where attempts go from now on, and turns queueing on.
func (d *dispatcher) setURL(rawURL string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return
	}
	d.on = true
	d.url, d.urlErr = rawURL, nil
	if msg := checkWebhookURL(rawURL); msg != "" {
		d.url, d.urlErr = "", fmt.Errorf("heliumidtest: no attempt made: the URL given to SetWebhookURL%s", msg)
	}
}

// enqueue queues the webhook of a change to st, when a webhook URL is set.
// data returns the session as GET returns it; it is called at once, so a
// later change cannot alter the webhook.
func (d *dispatcher) enqueue(id string, st heliumid.Status, data func() wireSession) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing || !d.on {
		return
	}
	body, err := webhookBody(data())
	d.seq++
	del := &delivery{seq: d.seq, due: time.Now(), Delivery: Delivery{
		ID: "whk_" + strconv.Itoa(d.seq), Event: WebhookEvent, VerificationID: id, Status: st, Body: body,
	}}
	d.keep(del)
	if err != nil { // cannot happen with the Server's own types; record it rather than lose it
		del.Err = fmt.Errorf("heliumidtest: encoding the webhook: %w", err)
		return
	}
	d.schedule(del, del.due)
}

// keep adds del to the record, forgetting the oldest finished deliveries
// beyond maxDeliveriesKept (compacting once the record holds twice that).
// The caller holds d.mu.
func (d *dispatcher) keep(del *delivery) {
	d.all = append(d.all, del)
	if len(d.all) < 2*maxDeliveriesKept {
		return
	}
	finished := 0
	for _, x := range d.all {
		if !x.Pending {
			finished++
		}
	}
	drop := finished - maxDeliveriesKept
	d.all = slices.DeleteFunc(d.all, func(x *delivery) bool {
		if drop > 0 && !x.Pending {
			drop--
			return true
		}
		return false
	})
}

// schedule makes del pending, its next attempt due at due. The caller holds
// d.mu.
func (d *dispatcher) schedule(del *delivery, due time.Time) {
	if !del.Pending {
		del.Pending = true
		// pending stays in order of the changes: the worker picks the
		// earliest due, the earliest change first among equals.
		i, _ := slices.BinarySearchFunc(d.pending, del.seq, func(x *delivery, seq int) int { return x.seq - seq })
		d.pending = slices.Insert(d.pending, i, del)
	}
	del.due, del.NextAttempt = due, due
	d.busy()
	d.signal()
}

// busy marks the dispatcher as having work; the caller holds d.mu.
func (d *dispatcher) busy() {
	select {
	case <-d.idle:
		d.idle = make(chan struct{})
	default:
	}
}

// settle closes idle when no work is left; the caller holds d.mu.
func (d *dispatcher) settle() {
	if len(d.pending) > 0 || d.inFlight != nil || d.observing > 0 {
		return
	}
	select {
	case <-d.idle:
	default:
		close(d.idle)
	}
}

func (d *dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func (d *dispatcher) deliveries() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.all) == 0 {
		return nil
	}
	out := make([]Delivery, len(d.all))
	for i, del := range d.all {
		out[i] = del.snapshot()
	}
	return out
}

// snapshot copies a delivery for the caller; the caller holds d.mu.
func (del *delivery) snapshot() Delivery {
	c := del.Delivery
	c.Body = bytes.Clone(del.Body)
	return c
}

// next returns the pending delivery to attempt next (the earliest due, the
// earliest change among equals) and its index; the caller holds d.mu.
func (d *dispatcher) next() (int, *delivery) {
	best := -1
	for i, del := range d.pending {
		if best < 0 || del.due.Before(d.pending[best].due) {
			best = i
		}
	}
	if best < 0 {
		return -1, nil
	}
	return best, d.pending[best]
}

// run is the worker: attempt each pending delivery when it is due, until
// closed.
func (d *dispatcher) run() {
	defer close(d.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		d.mu.Lock()
		i, del := d.next()
		switch {
		case d.closing && (del == nil || del.due.After(d.deadline) || d.ctx.Err() != nil):
			abandoned := d.abandonLocked()
			d.mu.Unlock()
			if d.observe != nil {
				for _, a := range abandoned {
					d.observe(a)
				}
			}
			return
		case del == nil:
			d.mu.Unlock()
			<-d.wake
			continue
		}
		if wait := time.Until(del.due); wait > 0 {
			d.mu.Unlock()
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-d.wake:
				timer.Stop()
			case <-d.ctx.Done():
			}
			continue
		}
		d.pending = slices.Delete(d.pending, i, i+1)
		d.inFlight = del
		del.series++
		del.Attempts++
		del.NextAttempt = time.Time{} // it is happening now
		target, urlErr := d.url, d.urlErr
		d.mu.Unlock()

		status, err := 0, urlErr
		if err == nil {
			status, err = d.post(target, del.Body)
		}

		d.mu.Lock()
		d.inFlight = nil
		if del.gone {
			d.settle()
			d.mu.Unlock()
			continue
		}
		// The attempt's outcome, then what comes next: a redelivery asked
		// for meanwhile makes it pending again whatever the outcome, so a
		// successful attempt can leave it pending with Err nil (see the
		// states listed at Delivery).
		del.StatusCode, del.Err, del.Pending, del.NextAttempt = status, err, false, time.Time{}
		switch {
		case del.again:
			del.again, del.series = false, 0
			d.schedule(del, time.Now())
		case err != nil && del.series < d.attempts && d.ctx.Err() == nil:
			d.schedule(del, time.Now().Add(d.wait(del.series)))
		}
		if d.ctx.Err() != nil && err != nil {
			del.Err = fmt.Errorf("heliumidtest: webhook abandoned when the server closed: %w", err)
		}
		snap := del.snapshot()
		if d.observe == nil {
			d.settle()
			d.mu.Unlock()
			continue
		}
		d.observing++
		d.mu.Unlock()
		d.observe(snap)
		d.mu.Lock()
		d.observing--
		d.settle()
		d.mu.Unlock()
	}
}

// wait is how long after the n-th failed attempt of a series the next
// one goes: backoff doubled n-1 times, at most maxWebhookBackoff.
func (d *dispatcher) wait(n int) time.Duration {
	w := d.backoff
	for range n - 1 {
		if w >= maxWebhookBackoff/2 {
			return maxWebhookBackoff
		}
		w *= 2
	}
	return w
}

// abandonLocked gives up every pending delivery, when Close has waited
// long enough or nothing more is due before its deadline, and returns them
// for the observer. The caller holds d.mu.
func (d *dispatcher) abandonLocked() []Delivery {
	var out []Delivery
	for _, del := range d.pending {
		if del.Err == nil {
			del.Err = errors.New("heliumidtest: webhook abandoned: the server closed before it could be delivered")
		} else {
			del.Err = fmt.Errorf("heliumidtest: webhook abandoned when the server closed: %w", del.Err)
		}
		del.Pending, del.NextAttempt = false, time.Time{}
		out = append(out, del.snapshot())
	}
	d.pending = nil
	d.settle()
	return out
}

// post sends one attempt, signed at the wall clock's now.
func (d *dispatcher) post(target string, body []byte) (status int, err error) {
	ctx, cancel := context.WithTimeout(d.ctx, webhookAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range heliumid.SignWebhook(body, d.apiKey, time.Now()) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "heliumidtest (heliumid-go/"+heliumid.Version+")")
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("heliumidtest: the webhook receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// redeliver makes delivery id due at once, with a new series of attempts
// unless it is waiting for a retry of the current one.
func (d *dispatcher) redeliver(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return fmt.Errorf("heliumidtest: Redeliver(%q): %w", id, ErrClosed)
	}
	i := slices.IndexFunc(d.all, func(x *delivery) bool { return x.ID == id })
	if i < 0 && !d.on {
		return fmt.Errorf("heliumidtest: Redeliver(%q): %w: the Server sends no webhooks (see WithWebhookURL and SetWebhookURL)", id, heliumid.ErrNotFound)
	}
	if i < 0 {
		return fmt.Errorf("heliumidtest: Redeliver(%q): %w: no such webhook (Deliveries lists them)", id, heliumid.ErrNotFound)
	}
	d.again(d.all[i])
	return nil
}

func (d *dispatcher) redeliverFailed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return 0
	}
	n := 0
	for _, del := range d.all {
		if del.Err != nil && del != d.inFlight { // waiting for a retry, or given up
			d.again(del)
			n++
		}
	}
	return n
}

// again makes del due now; the caller holds d.mu.
func (d *dispatcher) again(del *delivery) {
	switch {
	case del == d.inFlight:
		del.again = true
	case del.Pending:
		d.schedule(del, time.Now())
	default:
		del.series = 0
		d.schedule(del, time.Now())
	}
}

// reset forgets every delivery: pending ones are dropped, one in flight
// finishes unrecorded.
func (d *dispatcher) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, del := range d.all {
		del.gone = true
	}
	d.all, d.pending = nil, nil
	d.settle()
}

// close stops taking webhooks, lets the worker send what is due within
// timeout (retries due later are abandoned at once), then abandons what is
// left and releases the transport.
func (d *dispatcher) close(timeout time.Duration) {
	d.mu.Lock()
	d.closing = true
	d.deadline = time.Now().Add(timeout)
	d.mu.Unlock()
	d.signal()
	t := time.NewTimer(timeout)
	select {
	case <-d.done:
	case <-t.C:
		d.cancel()
		<-d.done
	}
	t.Stop()
	d.cancel()
	d.transport.CloseIdleConnections()
}
