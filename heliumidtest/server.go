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
	"github.com/heliumid/heliumid-go/internal/loopback"
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
	hooks     *dispatcher   // idle until a webhook URL is set
	page      http.Handler  // the hosted verification page
	pageBase  string        // origin of the page in session links: "http://127.0.0.1:PORT"
	closing   chan struct{} // closed when Close starts: cuts injected delays short
	closeOnce sync.Once
	closeWait time.Duration // how long Close waits for webhooks; tests shorten it

	mu         sync.Mutex // guards everything below; never held during network I/O
	closed     bool
	clock      clock // the Server's time: see tick
	sessions   map[string]*session
	order      []*session // creation order: list order and expiry order
	expiryNext int        // index in order of the first session whose expiry is ahead
	nextID     int
	nextReq    int
	creations  creationCap  // nil: no cap
	faults     []failureRun // injected into the next requests, first first
	log        requestLog
}

// NewServer starts a Server and returns it. Without options it accepts
// [DefaultAPIKey], has no creation cap, sends no webhooks, and its clock
// reads the wall clock's now, then moves only with [Server.Advance] (unless
// [WithWallClock]).
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
		clock:     newClock(start, cfg.wallClock),
		sessions:  make(map[string]*session),
	}
	if cfg.creations != nil {
		s.creations = cfg.creations(s.clock.now())
	}
	s.hooks = newDispatcher(cfg.apiKey, cfg.webhookAttempts, cfg.webhookBackoff, cfg.webhookObserver)
	if cfg.webhookURL != "" {
		s.hooks.setURL(cfg.webhookURL)
	}
	s.hooks.start()
	s.page = s.pageHandler()
	// The listener exists before the server starts, so the page's origin
	// is set before any request can read it.
	s.ts = httptest.NewUnstartedServer(loopbackOnly(s.Handler()))
	s.pageBase = cfg.pageOrigin
	if s.pageBase == "" {
		s.pageBase = "http://" + s.ts.Listener.Addr().String()
	}
	s.ts.Start()
	s.URL = s.ts.URL + apiPrefix
	return s
}

// Handler returns the Server's API handler, the one its own listener
// serves: the endpoints under "/api", the envelope, the key check, the
// faults of [Server.FailNext] (Drop included, by hijacking the connection)
// and the request log of [Server.Requests], and the hosted verification
// page at "/?processId=<id>" (see the package documentation). It is for
// serving the fake from your own listener or mux, as "heliumid fake" does;
// Server.URL still points at the Server's own loopback listener, and the
// sessions' links too unless [WithPageURL] points them at yours. The
// handler does not check the Host header as the Server's own listener
// does: whoever listens decides ("heliumid fake", listening on loopback,
// refuses a Host that is not a loopback name).
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
// then for the webhooks queued or due, retries included, for at most 5
// seconds: a delivery still pending then, or whose next attempt is due
// later, is abandoned at once and recorded as failed in
// [Server.Deliveries]. After Close, SetStatus returns [ErrClosed] and
// Advance does nothing. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.ts.Close()
		s.hooks.close(s.closeWait)
	})
}

// APIKey returns the API key the Server accepts in the x-api-key header
// and signs webhooks with: [DefaultAPIKey] unless [WithAPIKey] set another.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Now returns the Server's clock: the time it stamps on sessions and
// measures expiry and the creation cap against, in whole milliseconds. On
// the default, virtual clock it moves only with [Server.Advance]; with
// [WithWallClock] it runs in real time as well. It never goes back, and
// stops at the end of year 9999.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tick()
}

// Reset forgets what the Server holds, as if it had just started: every
// session, the request log, the failures [Server.FailNext] queued, the
// creation cap's history (the window empties, the bucket fills), and every
// webhook, queued, waiting for a retry or finished (one being sent finishes,
// unrecorded). It keeps the configuration (key, cap, webhook URL, clock
// mode), the clock itself, which never goes back, and the counters of
// session, request and webhook ids, so that an id from before Reset is
// unknown (404) rather than someone else's. Reset after Close does nothing.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.sessions = make(map[string]*session)
	s.order, s.expiryNext = nil, 0
	s.faults = nil
	s.log = requestLog{}
	if s.creations != nil {
		s.creations.reset(s.tick())
	}
	s.hooks.reset()
}

// Client returns a *heliumid.Client wired to s: its API key, its URL, and an
// http.Client whose idle connections Close releases. opts come last, so
// they override these defaults, which suit tests:
//
//   - retries back off 1–10 ms instead of 0.5–10 s, so a test of a retried
//     5xx takes milliseconds;
//   - the Retry-After cap is 0: a 429 fails its call at once with
//     heliumid.ErrRateLimited (APIError.RetryAfter says what the Server
//     asked) instead of sleeping, because the Server's virtual clock does
//     not move while the client sleeps, so waiting in real time could never
//     free the cap. A cap of 0 also means the 429 pauses nothing after it:
//     once [Server.Advance] frees the cap, the same Client's next create
//     gets through. Pass heliumid.WithRetryAfterCap to wait out Retry-After
//     instead, as a production client does (with [WithWallClock], waiting
//     does free the cap; a 429 then pauses the Client's creates, never its
//     reads, for at most that cap);
//   - adaptive pacing is off (heliumid.WithAdaptiveRate(false)): after a
//     429 a production client paces its creates in real time, which against
//     the virtual clock would only slow a test down. To rehearse pacing,
//     serve the cap on the wall clock ([WithWallClock], [WithTokenBucket])
//     and pass heliumid.WithAdaptiveRate(true) with a Retry-After cap.
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
		heliumid.WithAdaptiveRate(false),
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

// loopbackOnly guards the Server's own listener, which is on 127.0.0.1,
// against DNS rebinding: a request whose Host is not a loopback name is
// answered 421. Handler has no such guard: whoever serves it on a listener
// of their own decides (as "heliumid fake" does).
func loopbackOnly(h http.Handler) http.Handler { return loopback.Only("heliumidtest", h) }
