package heliumidtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	heliumid "github.com/heliumid/heliumid-go"

	"github.com/heliumid/heliumid-go/internal/ctxwait"
)

// WebhookEvent is the event name of every webhook the Server sends: a
// session changed status.
const WebhookEvent = "verification.status"

// webhookAttemptTimeout bounds one delivery attempt: a test receiver answers
// in milliseconds, one that does not is treated like a failed attempt.
const webhookAttemptTimeout = 5 * time.Second

// Delivery is the outcome of one webhook, as [Server.Deliveries] reports
// it.
type Delivery struct {
	Event          string          // always WebhookEvent
	VerificationID string          // the session that changed
	Status         heliumid.Status // the status it changed to
	Body           []byte          // the signed body: {"event": ..., "data": <the session as GET returns it>}, as WebhookBody builds it
	Attempts       int             // requests made (0 when Close gave up before the first)
	StatusCode     int             // HTTP status of the last attempt; 0 when it got no response
	Err            error           // nil when the receiver answered 2xx; else why the last attempt failed
}

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
// fake personal data the Server serves (see the package documentation).
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

// Deliveries returns the webhooks the Server has finished with, delivered
// or given up, in the order the status changes happened.
//
// Webhooks are sent one at a time by a single background worker, in the
// order of the changes, so a receiver sees a session's statuses in order.
// Each is POSTed to the URL of [WithWebhookURL] with Content-Type
// application/json and the headers heliumid.SignWebhook makes: the API key
// signs it, and Webhook-Timestamp is the wall clock at the attempt (not the
// virtual clock), so heliumid.ParseWebhook accepts it. A response other
// than 2xx, a network error or no answer within 5 s is retried as
// [WithWebhookRetries] says; redirects are not followed. Call
// [Server.WaitWebhooks] first to wait for the queue to drain.
func (s *Server) Deliveries() []Delivery {
	if s.hooks == nil {
		return nil
	}
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Delivery, len(d.finished))
	for i, del := range d.finished {
		out[i] = del
		out[i].Body = bytes.Clone(del.Body)
	}
	return out
}

// WaitWebhooks blocks until no webhook is queued or being delivered
// (retries included), or until ctx ends, when it returns ctx's error.
// Without [WithWebhookURL] it returns nil at once.
func (s *Server) WaitWebhooks(ctx context.Context) error {
	if s.hooks == nil {
		return nil
	}
	d := s.hooks
	for {
		d.mu.Lock()
		busy, idle := d.busy, d.idle
		d.mu.Unlock()
		if busy == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// dispatcher queues webhooks and delivers them from one goroutine.
type dispatcher struct {
	url       string
	apiKey    string
	attempts  int
	backoff   time.Duration
	transport *http.Transport
	hc        *http.Client
	ctx       context.Context // cancelled when Close gives up waiting
	cancel    context.CancelFunc
	wake      chan struct{} // buffered 1: "look at the queue"
	done      chan struct{} // closed when the worker returns

	mu       sync.Mutex
	queue    []*Delivery
	busy     int           // queued plus in flight
	idle     chan struct{} // closed whenever busy is 0
	closing  bool
	finished []Delivery
}

func newDispatcher(url, apiKey string, attempts int, backoff time.Duration) *dispatcher {
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
		url:       url,
		apiKey:    apiKey,
		attempts:  attempts,
		backoff:   backoff,
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

// enqueue queues the webhook of a change to st. data is the session as GET
// returns it, taken at the change, so a later change cannot alter it.
func (d *dispatcher) enqueue(id string, st heliumid.Status, data wireSession) {
	body, err := webhookBody(data)
	del := &Delivery{Event: WebhookEvent, VerificationID: id, Status: st, Body: body}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil { // cannot happen with the Server's own types; record it rather than lose it
		del.Err = fmt.Errorf("heliumidtest: encoding the webhook: %w", err)
		d.finished = append(d.finished, *del)
		return
	}
	if d.closing {
		return
	}
	if d.busy == 0 {
		d.idle = make(chan struct{})
	}
	d.busy++
	d.queue = append(d.queue, del)
	d.signal()
}

func (d *dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// run is the worker: deliver the queue in order until closed and empty.
func (d *dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			closing := d.closing
			d.mu.Unlock()
			if closing {
				return
			}
			<-d.wake
			continue
		}
		del := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()

		d.deliver(del)

		d.mu.Lock()
		d.finished = append(d.finished, *del)
		d.busy--
		if d.busy == 0 {
			close(d.idle)
		}
		d.mu.Unlock()
	}
}

// deliver makes up to d.attempts attempts, backing off between them, and
// records the outcome in del.
func (d *dispatcher) deliver(del *Delivery) {
	wait := d.backoff
	for attempt := 1; attempt <= d.attempts; attempt++ {
		if attempt > 1 {
			if ctxwait.Sleep(d.ctx, wait) != nil {
				break
			}
			wait *= 2
		}
		if d.ctx.Err() != nil {
			break
		}
		del.Attempts = attempt
		del.StatusCode, del.Err = d.post(del.Body)
		if del.Err == nil {
			return
		}
	}
	if d.ctx.Err() != nil {
		if del.Err == nil {
			del.Err = fmt.Errorf("heliumidtest: webhook abandoned: the server closed before it could be delivered")
		} else {
			del.Err = fmt.Errorf("heliumidtest: webhook abandoned when the server closed: %w", del.Err)
		}
	}
}

// post sends one attempt, signed at the wall clock's now.
func (d *dispatcher) post(body []byte) (status int, err error) {
	ctx, cancel := context.WithTimeout(d.ctx, webhookAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
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

// close stops taking webhooks, lets the worker drain the queue for at most
// timeout, then abandons what is left and releases the transport.
func (d *dispatcher) close(timeout time.Duration) {
	d.mu.Lock()
	d.closing = true
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
