// Command webapp is a small net/http backend that verifies its users with
// Helium ID:
//
//   - GET /verify creates a session for the signed-in user and redirects the
//     browser to its link;
//   - POST /webhooks/heliumid receives Helium ID's signed webhooks and records
//     each session's status, idempotently;
//   - GET /status shows what was recorded for the user.
//
// Without HELIUMID_API_KEY it runs against the embedded fake Helium ID, which
// delivers its webhooks to this server, and adds POST /fake/complete to play
// the end-user (the fake has no verification page). With HELIUMID_API_KEY set
// it talks to the real API (HELIUMID_BASE_URL overrides the endpoint).
//
//	go run ./examples/webapp -addr localhost:8080
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// newServer returns the server of h, bounded at every stage. Without
// ReadTimeout a client that sends its headers and then stalls mid-body (or
// trickles a byte a minute) holds a handler goroutine, and its memory,
// forever; ReadHeaderTimeout alone bounds only the headers. WriteTimeout
// bounds a client that stops reading the answer, IdleTimeout a kept-alive
// connection nobody uses. WriteTimeout runs from the end of the request's
// headers, so it is longer than /verify's call to Helium ID usually takes
// (the SDK's own http.Client gives up on an attempt after 60 s).
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a webhook body is at most 1 MiB
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	// Listen before anything else: with the embedded fake, the webhook URL is
	// this server's own address.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	a := &app{store: newStore(), log: logger}
	apiKey := getenv("HELIUMID_API_KEY")
	if apiKey != "" {
		var opts []heliumid.Option
		if u := getenv("HELIUMID_BASE_URL"); u != "" {
			opts = append(opts, heliumid.WithBaseURL(u))
		}
		if a.client, err = heliumid.NewClient(apiKey, opts...); err != nil {
			ln.Close()
			return err
		}
	} else {
		// The embedded fake stands in for Helium ID; a real service does not
		// import heliumidtest. It signs its webhooks with its own API key.
		a.fake = heliumidtest.NewServer(heliumidtest.WithWebhookURL(base + "/webhooks/heliumid"))
		defer a.fake.Close()
		a.client, apiKey = a.fake.Client(), a.fake.APIKey()
	}

	srv := newServer(a.routes(apiKey), logger)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "Listening on %s\n", base)
	if a.fake != nil {
		fmt.Fprintf(stdout, "Using the embedded fake Helium ID at %s (set HELIUMID_API_KEY to use the real API). Try:\n", a.fake.URL)
		fmt.Fprintf(stdout, "  curl -i '%s/verify?user=alice'             # 303 to alice's session link\n", base)
		fmt.Fprintf(stdout, "  curl -X POST '%s/fake/complete?user=alice' # the fake end-user passes; webhooks arrive here\n", base)
		fmt.Fprintf(stdout, "  curl '%s/status?user=alice'                # what the webhooks recorded\n", base)
	} else {
		fmt.Fprintf(stdout, "Set the integration's webhook URL (dashboard) to this server's public URL + /webhooks/heliumid\n")
	}

	select {
	case err := <-served:
		return err // the listener failed
	case <-ctx.Done():
	}
	// Stop the fake first: Close delivers the webhooks it has queued, and
	// they need this server up.
	if a.fake != nil {
		a.fake.Close()
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
