package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heliumid/heliumid-go/heliumidtest"
)

const fakeHelp = `Usage: heliumid fake [--addr HOST:PORT] [--webhook-url URL]
                     [--webhook-attempts N] [--webhook-backoff D]
                     [--clock real|virtual]
                     [--rate-limit N/D | --token-bucket R [--burst N]]
                     [--api-key-file FILE]

Runs the fake Helium ID API of package heliumidtest as a standalone server,
for trying the other commands, for your own service during development, and
for integration tests in any language. It serves the whole API under /api,
keeps sessions in memory, never decides anything by itself, and holds only
fake personal data (JANE DOE, a specimen passport).

A session's link leads to the fake's own page, on the address it prints:
http://127.0.0.1:8080/?processId=ID. Open it in a browser: this is the
Helium ID fake, you play the end-user. The page shows the session's status
and one button per step the lifecycle allows next (start, submit the
document and selfie, then approve, decline or send to review); each press
moves the session and sends its webhook, as Helium ID would. It works with
JavaScript off. For browser tests: the element showing the status carries
data-session-status, each button data-status="<the status it moves to>".

The admin endpoints do the same from a script, and need no key:

  POST /admin/sessions/{id}/decide  {"status": "successful"}
        walk a session through every step to a decision (successful,
        failed or review), one webhook per step (400 not a decision,
        404 unknown id, 409 not reachable from its status; answers the
        session). "heliumid decide ID STATUS" calls it.
  POST /admin/sessions/{id}/status  {"status": "started"}
        one lifecycle step: not started → started | expired;
        started → submitted | abandoned; submitted → successful | failed |
        review; review → successful | failed (404 unknown id, 409 step not
        allowed; answers the session)
  POST /admin/advance  {"duration": "168h"}   move the fake's clock forward;
        sessions past 7 days expire (not started → expired, started →
        abandoned); a negative duration, or one past the year 9999, is a 400
  POST /admin/fail  {"status": 503, "count": 2, "retryAfter": "1s",
        "message": "...", "body": "<html>...", "delay": "2s", "drop": false,
        "handled": false}   make the next count API requests fail like that;
        any count up to 9223372036854775807 ("until cleared") costs the
        same; {"count": 0} clears the failures queued
  POST /admin/ratelimit  {"tokenBucket": 40, "burst": 1}
        or {"rateLimit": "10/1m"}: change the creation cap while it runs
  POST /admin/reset    forget every session, request, failure and webhook
        (the clock, the cap and the id counters stay)
  GET  /admin/requests   the last 1000 API requests received (headers, and
        bodies cut to 4 KiB; never the key)
  GET  /admin/webhooks   the webhooks sent, pending and given up, with their
        ids and bodies (JSON)
  GET  /admin/webhooks?view=compact   one line per webhook: id, session,
        status, state, attempts, next attempt (text; no bodies)
  POST /admin/webhooks/{id}/redeliver   send that webhook again now
  POST /admin/webhooks/redeliver        send every undelivered webhook again
  GET  /admin/           this list

Form values work too: curl -d status=started .../admin/sessions/ID/status.

The fake accepts the API key heliumidtest_key, unless HELIUMID_API_KEY or
--api-key-file gives one (then it is not printed). With --webhook-url, every
status change (not creation) is POSTed there as a verification.status event
signed with that key, as Helium ID does. A delivery that fails is retried
after --webhook-backoff, then twice as long each time, --webhook-attempts
attempts in all (by default 8: after 5s, 10s, 20s ... about 10 minutes), so
a receiver you restart meanwhile still gets it.

Its clock runs in real time (--clock real): sessions carry the time they
were created and changed, and the creation cap frees as time passes.
--clock virtual stops it: time then moves only with POST /admin/advance,
for reproducible timestamps. /admin/advance works with either. Each change
of a session is stamped at least 1 ms after the one before it.

Any web page you visit can send requests to a port on your machine, so the
fake refuses, with 403, every request from another site that is not GET or
HEAD, on every path (the page's buttons, /admin/, the API): one whose
Sec-Fetch-Site is cross-site or same-site, or whose Origin is not the host
it asked for. Listening on loopback, it also answers only requests for
127.0.0.1, [::1], localhost or a name under .localhost (421 Misdirected
Request for any other Host: a guard against DNS rebinding). curl and the
SDK send neither header and are not affected.

Each request is logged on standard error, and each webhook attempt. Ctrl-C
stops it (exit code 0).

Examples:
  heliumid fake
  heliumid fake --addr 127.0.0.1:0 \
      --webhook-url http://localhost:3000/webhooks/heliumid
  heliumid fake --token-bucket 10 --burst 1
      # a strict cap of 10 creates/s: 429 with Retry-After: 1
  heliumid fake --clock virtual --rate-limit 5/1m
  heliumid fake --addr 0.0.0.0:8080
      # in a container: reachable from the network, any Host accepted
`

// Timeouts and bounds of the fake's HTTP server: Ctrl-C waits this long for
// requests in flight, and a request's headers may take at most this long
// and this much memory (the request log keeps 8 KiB of them).
const (
	fakeShutdownTimeout = 3 * time.Second
	fakeHeaderTimeout   = 10 * time.Second
	fakeMaxHeaderBytes  = 64 << 10
)

// Webhook retries of "heliumid fake": spread over minutes, as a real sender
// does, so that a receiver restarted during development gets them.
const (
	fakeWebhookAttempts = 8
	fakeWebhookBackoff  = 5 * time.Second
)

// fakeFlags are the command line of "heliumid fake", checked.
type fakeFlags struct {
	addr       string
	webhookURL string
	retries    int
	backoff    time.Duration
	virtual    bool
	capOpt     heliumidtest.Option // nil: no creation cap
	capText    string              // the cap, for the banner
}

// fake serves "heliumid fake".
func (c *cli) fake(ctx context.Context, args []string) int {
	ff, keyFile, code, done := c.fakeFlags(args)
	if done {
		return code
	}
	key, ownKey, err := c.fakeKey(keyFile)
	if err != nil {
		return c.fail("fake", err)
	}

	ln, err := net.Listen("tcp", ff.addr)
	if err != nil {
		return c.print("fake", fmt.Sprintf("cannot listen on %s: %s", ff.addr, listenReason(err)), listenHint(err), exitFailure)
	}
	logger := log.New(c.stderr, "", log.Ltime|log.Lmicroseconds)
	opts := []heliumidtest.Option{heliumidtest.WithAPIKey(key), ff.capOpt}
	if !ff.virtual {
		opts = append(opts, heliumidtest.WithWallClock())
	}
	if ff.webhookURL != "" {
		opts = append(opts, heliumidtest.WithWebhookURL(ff.webhookURL),
			heliumidtest.WithWebhookRetries(ff.retries, ff.backoff),
			heliumidtest.WithWebhookObserver(func(d heliumidtest.Delivery) { logDelivery(logger, d) }))
	}
	// Session links lead to the hosted page on the address the banner
	// prints, which serves it.
	base := "http://" + publicHostPort(ln.Addr())
	opts = append(opts, heliumidtest.WithPageURL(base))
	// The options were checked above, so NewServer does not panic. The
	// Server also listens on a loopback port of its own, which the front
	// does not use: it serves srv.Handler() on ln.
	srv := heliumidtest.NewServer(opts...)
	front := newFakeFront(srv, logger, isLoopbackAddr(ln.Addr()))
	hs := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: fakeHeaderTimeout,
		MaxHeaderBytes:    fakeMaxHeaderBytes,
		ErrorLog:          logger,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	c.fakeBanner(base, ownKey, key, ff)
	if !isLoopbackAddr(ln.Addr()) {
		fmt.Fprintln(c.stderr, "heliumid fake: warning: listening beyond loopback: whoever reaches this port can use the fake and its admin endpoints")
	}

	code = exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		code = c.print("fake", "serving: "+err.Error(), "", exitFailure)
	}
	sctx, cancel := context.WithTimeout(context.Background(), fakeShutdownTimeout)
	defer cancel()
	if hs.Shutdown(sctx) != nil {
		hs.Close()
	}
	srv.Close() // sends what is due, at most 5 s; retries due later are abandoned
	fmt.Fprintln(c.stderr, "heliumid fake: stopped")
	return code
}

// fakeFlags parses and checks the command line of "heliumid fake".
func (c *cli) fakeFlags(args []string) (ff fakeFlags, keyFile string, code int, done bool) {
	fs := c.newFlagSet("fake")
	kf := keyFlag(fs)
	fs.StringVar(&ff.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0: any free port)")
	fs.StringVar(&ff.webhookURL, "webhook-url", "", "POST a signed webhook to `URL` on every status change")
	fs.IntVar(&ff.retries, "webhook-attempts", fakeWebhookAttempts, "attempts per webhook, `N` in all, before giving up")
	fs.DurationVar(&ff.backoff, "webhook-backoff", fakeWebhookBackoff, "wait `D` before a webhook's first retry,\ndoubling after each (at most 1h)")
	clockMode := fs.String("clock", "real", "`real`: the clock runs in real time;\nvirtual: only /admin/advance moves it")
	window := fs.String("rate-limit", "", "cap session creation at `N/D`, a sliding window:\n10/1m is 10 per minute")
	bucket := fs.Float64("token-bucket", 0, "cap session creation with a strict token bucket\nof `R` creates per second")
	burst := fs.Int("burst", 1, "the token bucket's burst: `N` creates at once at most\n(with --token-bucket)")
	pos, code, done := c.parse(fs, fakeHelp, args)
	if done {
		return ff, "", code, true
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	usage := func(msg string) (fakeFlags, string, int, bool) { return ff, "", c.usageError("fake", msg), true }
	switch {
	case len(pos) > 0:
		return usage(fmt.Sprintf("unexpected argument %q (fake takes flags only)", pos[0]))
	case *clockMode != "real" && *clockMode != "virtual":
		return usage(fmt.Sprintf("--clock %q: want real or virtual", *clockMode))
	case ff.retries < 1:
		return usage(fmt.Sprintf("--webhook-attempts %d: want at least 1", ff.retries))
	case ff.backoff < 0 || ff.backoff > time.Hour:
		return usage(fmt.Sprintf("--webhook-backoff %v: want from 0s to 1h", ff.backoff))
	case set["rate-limit"] && set["token-bucket"]:
		return usage("--rate-limit and --token-bucket are two kinds of cap: give one")
	case set["burst"] && !set["token-bucket"]:
		return usage("--burst goes with --token-bucket")
	}
	if msg := checkListenAddr(ff.addr); msg != "" {
		return usage(msg)
	}
	if ff.webhookURL != "" {
		u, err := url.Parse(ff.webhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usage(fmt.Sprintf("--webhook-url %q: want an absolute http or https URL", ff.webhookURL))
		}
	}
	ff.virtual = *clockMode == "virtual"
	switch {
	case set["rate-limit"]:
		n, per, msg := parseWindow(*window)
		if msg != "" {
			return usage("--rate-limit: " + msg)
		}
		ff.capOpt = heliumidtest.WithRateLimit(n, per)
		ff.capText = fmt.Sprintf("at most %d sessions per %v (sliding window)", n, per)
	case set["token-bucket"]:
		if !(*bucket > 0) || *bucket > 1e9 || *burst < 1 {
			return usage(fmt.Sprintf("--token-bucket %g --burst %d: want a rate above 0 (and at most 1e9) and a burst of at least 1", *bucket, *burst))
		}
		ff.capOpt = heliumidtest.WithTokenBucket(*bucket, *burst)
		ff.capText = fmt.Sprintf("%g sessions per second, bursts of %d (token bucket)", *bucket, *burst)
	}
	return ff, *kf, 0, false
}

// checkListenAddr says what is wrong with a --addr, or "".
func checkListenAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("--addr %q: want HOST:PORT, such as 127.0.0.1:8080 (port 0: any free port; :8080 listens on every interface)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return fmt.Sprintf("--addr %q: the port %q is not a number from 0 to 65535", addr, port)
		}
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("--addr %q: the host %q is not a host name or IP address", addr, host)
	}
	return ""
}

// parseWindow reads --rate-limit N/D: "10/1m", "5/1s", "100/1h".
func parseWindow(s string) (n int, per time.Duration, msg string) {
	ns, ds, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return 0, 0, fmt.Sprintf("%q: want N/D, such as 10/1m (10 sessions per minute)", s)
	}
	if per, err = time.ParseDuration(ds); err != nil || per <= 0 {
		return 0, 0, fmt.Sprintf("%q: the window %q is not a positive Go duration, such as 1m or 1s", s, ds)
	}
	return n, per, ""
}

// listenReason is why listening failed, without the "listen tcp ...:"
// that repeats the address.
func listenReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return strings.TrimPrefix(op.Err.Error(), "bind: ")
	}
	return err.Error()
}

// listenHint says what to do when the fake cannot listen.
func listenHint(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "another program (another heliumid fake?) listens on that port: pass --addr 127.0.0.1:0 for any free port, or stop the other one"
	case errors.Is(err, syscall.EACCES):
		return "ports below 1024 need privileges: pick a port above 1024, such as --addr 127.0.0.1:8080"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "that host is not an address of this machine: use 127.0.0.1, or 0.0.0.0 for every interface"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name does not resolve: use 127.0.0.1, localhost or an address of this machine"
	}
	return "pass --addr 127.0.0.1:0 for any free port"
}

// logDelivery logs one webhook attempt of the fake, or its abandonment. It
// expects every state a Delivery can be in (see heliumidtest.Delivery):
// pending says nothing about an error, which is nil before any attempt
// and after a successful one that a redelivery asked to repeat.
func logDelivery(logger *log.Logger, d heliumidtest.Delivery) {
	head := fmt.Sprintf("webhook %s %s %s → %s:", d.ID, d.Event, clean(d.VerificationID), clean(string(d.Status)))
	switch {
	case d.Delivered():
		logger.Printf("%s %d (attempt %d)", head, d.StatusCode, d.Attempts)
	case d.Pending && d.Err == nil && d.Attempts == 0:
		logger.Printf("%s queued", head)
	case d.Pending && d.Err == nil:
		logger.Printf("%s %d (attempt %d); sending it again %s, as a redelivery asked", head, d.StatusCode, d.Attempts, nextAttempt(d))
	case d.Pending:
		logger.Printf("%s failed: %s (attempt %d); next attempt %s", head, clean(d.Err.Error()), d.Attempts, nextAttempt(d))
	default:
		reason := "no answer"
		if d.Err != nil {
			reason = clean(d.Err.Error())
		}
		logger.Printf("%s failed: %s (attempt %d); given up: POST /admin/webhooks/%s/redeliver sends it again", head, reason, d.Attempts, d.ID)
	}
}

// nextAttempt says when a pending delivery's next attempt goes: "now", or
// "in 5s".
func nextAttempt(d heliumidtest.Delivery) string {
	wait := time.Until(d.NextAttempt).Round(time.Second)
	if d.NextAttempt.IsZero() || wait <= 0 {
		return "now"
	}
	return "in " + wait.String()
}

// fakeKey returns the key the fake accepts: the user's (from
// --api-key-file or HELIUMID_API_KEY), so webhooks are signed with it, or
// heliumidtest's default. own reports the user's; it is never printed.
func (c *cli) fakeKey(keyFile string) (key string, own bool, err error) {
	key, err = c.apiKey(keyFile)
	switch {
	case errors.Is(err, errNoKey):
		return heliumidtest.DefaultAPIKey, false, nil
	case err != nil:
		return "", false, err
	case strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return "", false, &configError{errors.New("the API key holds spaces or characters other than printable ASCII; the fake needs a key that can travel in a header")}
	}
	return key, key != heliumidtest.DefaultAPIKey, nil
}

// fakeBanner prints how to use the running fake.
func (c *cli) fakeBanner(base string, ownKey bool, key string, ff fakeFlags) {
	keyLine := "  export " + envAPIKey + "=" + key
	if ownKey {
		keyLine = "  # " + envAPIKey + ": the key you gave (not printed)"
	}
	hooks := "Webhooks: off (pass --webhook-url URL to receive them)"
	if ff.webhookURL != "" {
		hooks = fmt.Sprintf("Webhooks: every status change is POSTed to %s, signed with that key\n  (%d attempts in all, retried after %v, doubling)", ff.webhookURL, ff.retries, ff.backoff)
	}
	clockLine := "Clock: real time (--clock virtual stops it; /admin/advance moves it either way)"
	if ff.virtual {
		clockLine = "Clock: virtual, stopped; only /admin/advance moves it"
	}
	capLine := "Creation cap: none (--rate-limit N/D or --token-bucket R sets one)"
	if ff.capText != "" {
		capLine = "Creation cap: " + ff.capText
	}
	fmt.Fprintf(c.stdout, `heliumid fake: a fake Helium ID API for tests, listening on %[1]s
Not the real service: sessions live in memory, personal data is fake.

  export %[2]s=%[1]s/api
%[3]s

A session's link opens the fake's own page, %[1]s/?processId=ID:
you play the end-user there, one button per step, in any browser.

%[4]s
%[5]s
%[6]s

Admin (no key needed; GET %[1]s/admin/ lists everything):
  curl -X POST %[1]s/admin/sessions/ID/decide -d '{"status":"successful"}'
  curl -X POST %[1]s/admin/sessions/ID/status -d '{"status":"started"}'
  curl -X POST %[1]s/admin/advance -d '{"duration":"168h"}'
  curl -X POST %[1]s/admin/fail -d '{"status":503,"count":1}'
  curl -X POST %[1]s/admin/reset
  curl %[1]s/admin/requests
  curl '%[1]s/admin/webhooks?view=compact'

Requests are logged on standard error. Ctrl-C stops.
`, base, envBaseURL, keyLine, hooks, clockLine, capLine)
}

// publicHostPort is the address clients should dial: a wildcard listen
// address (":8080", "0.0.0.0:8080", "[::]:8080") is reached on 127.0.0.1.
func publicHostPort(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() { // Go listens on both IPv4 and IPv6 then
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

func isLoopbackAddr(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
