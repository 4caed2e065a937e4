package heliumid

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// testKey is the API key of every test client.
const testKey = "sk_test_0123456789abcdef"

// testBaseURL mounts the fake API under a path prefix, like the real /api,
// so a request that drops the prefix fails loudly.
const testBaseURL = "https://api.test/api"

// The bodies the fake answers with when a test scripts nothing else.
const createdData = `{"link":"https://verify.heliumid.io/?processId=ver_123","verificationId":"ver_123"}`

var sessionStarted = okEnvelope(`{"id":"v","status":"started"}`)

// fakeAPI is the one fake of the Helium ID API that this package's tests
// use. It answers each request with what the test scripted for the
// request's route (on), else for every other request (otherwise), else as
// the API documents: a create with a created session, a read with a
// started one. Each route goes through its answers in order, repeating the
// last. It records every request it answered: its method, URL, headers,
// body, when it came (since the fake was made) and the status it got.
//
// It runs in memory, as the Transport of a test's http.Client
// (newFakeClient), where under testing/synctest its clock is the bubble's,
// or over real HTTP/1.1 and TLS with HTTP/2 (serve), where users' requests
// go.
//
// In capped mode (newCappedAPI) a strict token bucket caps creates, as
// Helium ID's undisclosed creation cap might: a create beyond it is
// answered 429 with Retry-After: 1, and every request takes a round trip
// of a few milliseconds. Reads are never capped.
type fakeAPI struct {
	mu        sync.Mutex
	routes    map[string]*script // "METHOD URL" (scheme, host and path: no query) → its answers
	fallback  *script
	capped    *rate.Limiter // nil: uncapped
	roundTrip time.Duration
	start     time.Time
	log       []fakeRequest
}

// answer is how the fake answers one request: a response, or an error as
// a transport would return it.
type answer func(req *http.Request) (*http.Response, error)

// script is a route's answers, the last one repeated.
type script struct {
	answers []answer
	n       int
}

func (s *script) next() answer {
	a := s.answers[min(s.n, len(s.answers)-1)]
	s.n++
	return a
}

// fakeRequest is one request the fake answered.
type fakeRequest struct {
	*http.Request        // its Body already read: see body
	body          []byte // the request's body
	at            time.Duration
	status        int // 0: answered with an error
}

// vendorData is the create's vendorData, "" for another request.
func (r fakeRequest) vendorData() string {
	var b struct {
		VendorData string `json:"vendorData"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.VendorData
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{routes: map[string]*script{}, start: time.Now()}
}

// newCappedAPI is a fake whose creates a token bucket caps at perSecond
// (0: uncapped), answered 429 with Retry-After: 1 beyond it, each request
// taking a 2 ms round trip. A burst of 1 is the strictest cap; a larger
// one absorbs the jitter with which paced creates arrive, as an API
// gateway's bucket does, without raising the rate over any longer window.
func newCappedAPI(perSecond float64, burst int) *fakeAPI {
	f := newFakeAPI()
	f.roundTrip = 2 * time.Millisecond
	if perSecond > 0 {
		f.capped = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return f
}

// newFakeClient returns a client of a fresh in-memory fakeAPI at
// testBaseURL, and the fake.
func newFakeClient(t testing.TB, opts ...Option) (*Client, *fakeAPI) {
	t.Helper()
	api := newFakeAPI()
	return api.client(t, opts...), api
}

// client returns a client of the in-memory fake at testBaseURL.
func (f *fakeAPI) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(testKey, append([]Option{WithBaseURL(testBaseURL), WithHTTPClient(&http.Client{Transport: f})}, opts...)...)
	require.NoError(t, err)
	return c
}

// on scripts the answers to method at url (scheme, host and path; the
// query is not matched).
func (f *fakeAPI) on(method, url string, answers ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+url] = &script{answers: answers}
}

// otherwise scripts the answers to every request no route of on matches.
func (f *fakeAPI) otherwise(answers ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fallback = &script{answers: answers}
}

// setCap changes the cap of a capped fake.
func (f *fakeAPI) setCap(perSecond float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.capped.SetLimit(rate.Limit(perSecond))
}

// RoundTrip answers req in memory.
func (f *fakeAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	if f.roundTrip > 0 {
		time.Sleep(f.roundTrip)
	}
	if err := req.Context().Err(); err != nil {
		return nil, err // as a transport does: nothing sent
	}
	req.Body = io.NopCloser(bytes.NewReader(body)) // for an answer that reads it
	f.mu.Lock()
	a := f.answerFor(req)
	i := len(f.log) // recorded in the order answers were chosen (the cap's order)
	f.log = append(f.log, fakeRequest{Request: req, body: body, at: time.Since(f.start)})
	f.mu.Unlock()
	resp, err := a(req)
	if resp != nil {
		if resp.Request == nil {
			resp.Request = req
		}
		f.mu.Lock()
		f.log[i].status = resp.StatusCode
		f.mu.Unlock()
	}
	return resp, err
}

// answerFor picks req's answer; f.mu is held.
func (f *fakeAPI) answerFor(req *http.Request) answer {
	if req.Method == http.MethodPost && f.capped != nil && !f.capped.Allow() {
		return respond(http.StatusTooManyRequests, errEnvelope(429, "creation cap"), "Retry-After", "1")
	}
	u := *req.URL
	u.RawQuery = ""
	if s, ok := f.routes[req.Method+" "+u.String()]; ok {
		return s.next()
	}
	if f.fallback != nil {
		return f.fallback.next()
	}
	if req.Method == http.MethodPost {
		return respond(http.StatusOK, okEnvelope(createdData))
	}
	return respond(http.StatusOK, sessionStarted)
}

// ServeHTTP answers r over real HTTP. An answer that is an error cuts the
// connection, as a failing network would.
func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Routes are scripted at testBaseURL; a served request is matched as if
	// it had gone there.
	in := r.Clone(r.Context())
	in.URL.Scheme, in.URL.Host = "https", "api.test"
	in.Body = r.Body
	resp, err := f.RoundTrip(in)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer resp.Body.Close()
	for name, values := range resp.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// serve serves the fake over real HTTP, "HTTP/1.1" on loopback or
// "HTTP/2" (TLS, with HTTP/2 negotiated as Go negotiates it with the real
// https API), and returns a client of it (with WithRetryBackoff(1ms, 1ms)
// before opts) and its base URL.
func (f *fakeAPI) serve(t testing.TB, proto string, opts ...Option) (*Client, string) {
	t.Helper()
	base, hc := serveOver(t, proto, f)
	c, err := NewClient(testKey, append([]Option{WithBaseURL(base), WithHTTPClient(hc), WithRetryBackoff(time.Millisecond, time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return c, base
}

// newServedAPI serves over HTTP/1.1 a fake that answers every request
// with answers (in order, the last repeated), and returns it, a client of
// it (see serve) and its base URL.
func newServedAPI(t testing.TB, answers ...answer) (*fakeAPI, *Client, string) {
	t.Helper()
	api := newFakeAPI()
	if len(answers) > 0 {
		api.otherwise(answers...)
	}
	c, base := api.serve(t, "HTTP/1.1")
	return api, c, base
}

// serveOver serves h over proto (see fakeAPI.serve) and returns the base
// URL under which it is mounted (the server's URL + "/api") and an
// http.Client that trusts it. Tests whose server must misbehave below
// what an answer can say (stall, cut a body) serve their own handler here.
func serveOver(t testing.TB, proto string, h http.Handler) (baseURL string, hc *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	switch proto {
	case "HTTP/1.1":
		srv.Start()
	case "HTTP/2":
		srv.EnableHTTP2 = true
		srv.StartTLS()
	default:
		t.Fatalf("unknown protocol %q", proto)
	}
	t.Cleanup(srv.Close)
	return srv.URL + "/api", srv.Client()
}

// protocols are the transports a request-path test runs over.
var protocols = []string{"HTTP/1.1", "HTTP/2"}

// requests returns what the fake answered, in order.
func (f *fakeAPI) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// count is how many requests the fake answered.
func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

// last returns the last request the fake answered, and its body.
func (f *fakeAPI) last(t testing.TB) (*http.Request, []byte) {
	t.Helper()
	reqs := f.requests()
	require.NotEmpty(t, reqs, "no request was sent")
	return reqs[len(reqs)-1].Request, reqs[len(reqs)-1].body
}

// times returns when each request came, since the fake was made.
func (f *fakeAPI) times() []time.Duration {
	var at []time.Duration
	for _, r := range f.requests() {
		at = append(at, r.at)
	}
	return at
}

// gaps returns the time between consecutive requests.
func (f *fakeAPI) gaps() []time.Duration {
	at := f.times()
	var out []time.Duration
	for i := 1; i < len(at); i++ {
		out = append(out, at[i]-at[i-1])
	}
	return out
}

// created counts the creates answered 2xx and 429 that came in [from, to).
func (f *fakeAPI) created(from, to time.Duration) (ok, throttled int) {
	for _, r := range f.requests() {
		if r.Method != http.MethodPost || r.at < from || r.at >= to {
			continue
		}
		switch {
		case r.status >= 200 && r.status < 300:
			ok++
		case r.status == http.StatusTooManyRequests:
			throttled++
		}
	}
	return ok, throttled
}

// admitted returns when the creates answered 2xx came, in order.
func (f *fakeAPI) admitted() []time.Duration {
	var at []time.Duration
	for _, r := range f.requests() {
		if r.Method == http.MethodPost && r.status >= 200 && r.status < 300 {
			at = append(at, r.at)
		}
	}
	slices.Sort(at)
	return at
}

// throttles returns when the creates answered 429 came, one per burst of
// 429s (those within a second of each other are one throttle).
func (f *fakeAPI) throttles() []time.Duration {
	var out []time.Duration
	for _, r := range f.requests() {
		if r.status == http.StatusTooManyRequests && (len(out) == 0 || r.at-out[len(out)-1] > time.Second) {
			out = append(out, r.at)
		}
	}
	return out
}

// okEnvelope wraps data in the documented success envelope.
func okEnvelope(data string) string {
	return `{"status":true,"message":"OK","code":200,"data":` + data + `}`
}

// errEnvelope is the documented error envelope.
func errEnvelope(code int, message string) string {
	return `{"status":false,"message":"` + message + `","code":` + strconv.Itoa(code) + `}`
}

// respond answers status with body and header pairs.
func respond(status int, body string, headerPairs ...string) answer {
	return func(req *http.Request) (*http.Response, error) {
		h := make(http.Header)
		for i := 0; i+1 < len(headerPairs); i += 2 {
			h.Set(headerPairs[i], headerPairs[i+1])
		}
		return &http.Response{
			Status:        strconv.Itoa(status) + " " + http.StatusText(status),
			StatusCode:    status,
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        h,
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       req,
		}, nil
	}
}

// failWith answers with err, as a transport would.
func failWith(err error) answer {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// sequence answers each call with the next answer, repeating the last: a
// script to wrap, or to give a route of its own.
func sequence(answers ...answer) answer {
	s := &script{answers: answers}
	var mu sync.Mutex
	return func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		a := s.next()
		mu.Unlock()
		return a(req)
	}
}
