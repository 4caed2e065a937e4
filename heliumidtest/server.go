package heliumidtest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// apiPrefix is where the API is mounted, like the real base URL's "/api": a
// client that drops the base URL's path fails loudly with a 404.
const apiPrefix = "/api"

// webhookCloseTimeout bounds how long Close waits for webhook deliveries, so
// a receiver that never answers cannot hang a test suite.
const webhookCloseTimeout = 5 * time.Second

// ErrClosed is returned by [Server.SetStatus] after [Server.Close].
var ErrClosed = errors.New("heliumidtest: server closed")

// Server is a fake Helium ID API listening on a loopback address, for tests.
// It serves the API's whole wire contract over real HTTP, keeps sessions in
// memory, and adds a control API (SetStatus, Advance, FailNext, …) to drive
// what the real service does on its own.
//
// A Server is safe for concurrent use. Close it when done: no goroutine it
// started outlives Close.
type Server struct {
	// URL is the base URL of the API, such as "http://127.0.0.1:41234/api":
	// pass it to heliumid.WithBaseURL (Client does). Like the real base URL
	// it carries the "/api" path prefix, so a client that drops it gets 404.
	URL string

	cfg       config
	ts        *httptest.Server
	hooks     *dispatcher   // nil without WithWebhookURL
	closing   chan struct{} // closed when Close starts: cuts injected delays short
	closeOnce sync.Once
	closeWait time.Duration // how long Close waits for webhooks; tests shorten it

	mu        sync.Mutex // guards everything below; never held during network I/O
	closed    bool
	now       time.Time // the virtual clock
	sessions  map[string]*session
	order     []*session // creation order: list order and expiry order
	nextID    int
	nextReq   int
	creations *creationCap // nil: no cap
	faults    []Failure    // injected into the next requests, first first
	log       []*Request
}

// NewServer starts a Server and returns it. Without options it accepts
// [DefaultAPIKey], has no creation cap, sends no webhooks, and its clock
// reads the wall clock's now (then moves only with [Server.Advance]).
//
// NewServer panics when an option has an invalid value, or when it cannot
// listen on a loopback port (as httptest.NewServer does).
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if len(cfg.errs) > 0 {
		panic("heliumidtest: NewServer: " + strings.Join(cfg.errs, "; "))
	}
	start := cfg.start
	if start.IsZero() {
		start = time.Now()
	}
	s := &Server{
		cfg:       cfg,
		closing:   make(chan struct{}),
		closeWait: webhookCloseTimeout,
		now:       start.UTC().Truncate(time.Millisecond),
		sessions:  make(map[string]*session),
	}
	if cfg.rateN > 0 {
		s.creations = &creationCap{n: cfg.rateN, per: cfg.ratePer}
	}
	if cfg.webhookURL != "" {
		s.hooks = newDispatcher(cfg.webhookURL, cfg.apiKey, cfg.webhookAttempts, cfg.webhookBackoff)
		s.hooks.start()
	}
	s.ts = httptest.NewServer(s.Handler())
	s.URL = s.ts.URL + apiPrefix
	return s
}

// Handler returns the Server's API handler, the one its own listener
// serves: the endpoints under "/api", the envelope, the key check, the
// faults of [Server.FailNext] (Drop included, by hijacking the connection)
// and the request log of [Server.Requests]. It is for serving the fake from
// your own listener or mux, as "heliumid fake" does; Server.URL still points
// at the Server's own loopback listener.
//
// The handler expects the API's paths as they are, "/api" prefix included:
// mount it at "/" or "/api/", not under http.StripPrefix. Requests through
// it share the Server's sessions, clock, injected failures and log with
// those through URL. A Failure.Drop needs a server that can hijack the
// connection (HTTP/1.x); elsewhere the response is aborted with
// http.ErrAbortHandler. Close ends the injected delays of requests in
// progress through it too, but does not wait for them: shut your own server
// down first.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close shuts the Server down. It waits for the requests in progress on its
// own listener (an injected delay ends at once, its connection dropped),
// then for the webhooks already queued, retries included, for at most 5
// seconds: a delivery still pending then is abandoned and recorded as
// failed in [Server.Deliveries]. After Close, SetStatus returns [ErrClosed]
// and Advance does nothing. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.ts.Close()
		if s.hooks != nil {
			s.hooks.close(s.closeWait)
		}
	})
}

// APIKey returns the API key the Server accepts in the x-api-key header
// and signs webhooks with: [DefaultAPIKey] unless [WithAPIKey] set another.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Now returns the Server's virtual clock: the time it stamps on sessions
// and measures expiry and the creation cap against. It moves only with
// [Server.Advance].
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Client returns a *heliumid.Client wired to s: its API key, its URL, and an
// http.Client whose idle connections Close releases. opts come last, so
// they override these defaults, which suit tests:
//
//   - retries back off 1–10 ms instead of 0.5–10 s, so a test of a retried
//     5xx takes milliseconds;
//   - the Retry-After cap is 0: a 429 with Retry-After fails at once with
//     heliumid.ErrRateLimited instead of sleeping, because the Server's
//     clock does not move while the client sleeps (only Advance moves it),
//     so waiting in real time could never free the cap. Like a production
//     client, the returned Client then holds its 429 cool-down for
//     Retry-After in real time: after Advance, call Client again for a
//     fresh one. Pass heliumid.WithRetryAfterCap to wait instead.
//
// Client never returns nil. Should opts hold an invalid option, every call
// of the returned Client fails with the error heliumid.NewClient reported
// (matching heliumid.ErrInvalidOption), so the test fails with the reason.
func (s *Server) Client(opts ...heliumid.Option) *heliumid.Client {
	base := []heliumid.Option{
		heliumid.WithBaseURL(s.URL),
		heliumid.WithHTTPClient(s.ts.Client()),
		heliumid.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
		heliumid.WithRetryAfterCap(0),
	}
	c, err := heliumid.NewClient(s.cfg.apiKey, append(base, opts...)...)
	if err == nil {
		return c
	}
	failing := &http.Client{Transport: failingTransport{fmt.Errorf("heliumidtest: Server.Client: %w", err)}}
	// These options are valid by construction (the key passed NewServer's
	// check, URL is loopback), so this NewClient cannot fail.
	c, _ = heliumid.NewClient(s.cfg.apiKey, heliumid.WithBaseURL(s.URL), heliumid.WithHTTPClient(failing), heliumid.WithMaxRetries(0))
	return c
}

// failingTransport fails every request with err: the way Client reports
// invalid options without a panic or a nil client.
type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, t.err
}
