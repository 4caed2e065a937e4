package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/heliumidtest"
)

const fakeHelp = `Usage: heliumid fake [--addr HOST:PORT] [--webhook-url URL] [--api-key-file FILE]

Runs the fake Helium ID API of package heliumidtest as a standalone server,
for trying the other commands and for integration tests in any language. It
serves the whole API under /api, keeps sessions in memory, never decides
anything by itself, and holds only fake personal data (JANE DOE, a specimen
passport). New sessions are "not started"; you play the end-user and Helium ID
through the admin endpoints, which need no key:

  POST /admin/sessions/{id}/status  {"status": "started"}   one lifecycle step:
        not started → started | expired; started → submitted | abandoned;
        submitted → successful | failed | review; review → successful | failed
        (404 unknown id, 409 step not allowed; answers the session)
  POST /admin/advance  {"duration": "168h"}   move the fake's clock; sessions
        past 7 days expire (not started → expired, started → abandoned)
  POST /admin/fail  {"status": 503, "count": 2, "retryAfter": "1s",
        "message": "...", "body": "<html>...", "delay": "2s", "drop": false,
        "handled": false}   make the next count API requests fail like that
  GET  /admin/requests   the API requests received (headers, bodies; never the key)
  GET  /admin/webhooks   the webhooks sent and how they went
  GET  /admin/           this list

Form values work too: curl -d status=started .../admin/sessions/ID/status.

The fake accepts the API key heliumidtest_key, unless HELIUMID_API_KEY or
--api-key-file gives one (then it is not printed). With --webhook-url, every
status change (not creation) is POSTed there as a verification.status event
signed with that key, as Helium ID does. Each request is logged on standard
error. Ctrl-C stops it (exit code 0).

Examples:
  heliumid fake
  heliumid fake --addr 127.0.0.1:0 --webhook-url http://localhost:3000/webhooks/heliumid
  heliumid fake --addr 0.0.0.0:8080      # in a container; reachable from the network
`

// fakeShutdownTimeout bounds how long Ctrl-C waits for requests in flight.
const fakeShutdownTimeout = 3 * time.Second

// fake serves "heliumid fake".
func (c *cli) fake(ctx context.Context, args []string) int {
	fs := c.newFlagSet("fake")
	keyFile := keyFlag(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0: any free port)")
	webhookURL := fs.String("webhook-url", "", "POST a signed webhook to `URL` on every status change")
	pos, code, done := c.parse(fs, fakeHelp, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return c.usageError("fake", fmt.Sprintf("unexpected argument %q (fake takes flags only)", pos[0]))
	}
	if *webhookURL != "" {
		u, err := url.Parse(*webhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.usageError("fake", fmt.Sprintf("--webhook-url %q: want an absolute http or https URL", *webhookURL))
		}
	}
	key, ownKey, err := c.fakeKey(*keyFile)
	if err != nil {
		return c.fail("fake", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return c.fail("fake", fmt.Errorf("%w (pass --addr 127.0.0.1:0 for any free port)", err))
	}
	opts := []heliumidtest.Option{heliumidtest.WithAPIKey(key)}
	if *webhookURL != "" {
		opts = append(opts, heliumidtest.WithWebhookURL(*webhookURL))
	}
	// The options were checked above, so NewServer does not panic. The
	// Server also listens on a loopback port of its own, which the front
	// does not use: it serves srv.Handler() on ln.
	srv := heliumidtest.NewServer(opts...)
	logger := log.New(c.stderr, "", log.Ltime|log.Lmicroseconds)
	front := newFakeFront(srv, logger)
	hs := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	c.fakeBanner(ln.Addr(), ownKey, key, *webhookURL)
	if !isLoopbackAddr(ln.Addr()) {
		fmt.Fprintln(c.stderr, "heliumid fake: warning: listening beyond loopback: whoever reaches this port can use the fake and its admin endpoints")
	}

	code = exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		code = c.fail("fake", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), fakeShutdownTimeout)
	defer cancel()
	if hs.Shutdown(sctx) != nil {
		hs.Close()
	}
	srv.Close() // waits for queued webhooks, at most 5 s
	front.close()
	fmt.Fprintln(c.stderr, "heliumid fake: stopped")
	return code
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
func (c *cli) fakeBanner(addr net.Addr, ownKey bool, key, webhookURL string) {
	base := "http://" + publicHostPort(addr)
	keyLine := "  export " + envAPIKey + "=" + key
	if ownKey {
		keyLine = "  # " + envAPIKey + ": the key you gave (not printed)"
	}
	hooks := "Webhooks: off (pass --webhook-url URL to receive them)"
	if webhookURL != "" {
		hooks = "Webhooks: every status change is POSTed to " + webhookURL + ", signed with that key"
	}
	fmt.Fprintf(c.stdout, `heliumid fake: a fake Helium ID API for tests, listening on %[1]s
Not the real service: sessions live in memory, personal data is fake.

  export %[2]s=%[1]s/api
%[3]s

%[4]s

Admin (no key needed):
  curl -X POST %[1]s/admin/sessions/ID/status -d '{"status":"started"}'
  curl -X POST %[1]s/admin/advance -d '{"duration":"168h"}'
  curl -X POST %[1]s/admin/fail -d '{"status":503,"count":1}'
  curl %[1]s/admin/requests
  curl %[1]s/admin/webhooks

Requests are logged on standard error. Ctrl-C stops.
`, base, envBaseURL, keyLine, hooks)
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
