// Command webapp is a small web service that verifies its users with Helium
// ID, usable in a browser:
//
//   - GET / lists the users and their verification status, with a sign-up
//     form standing in for your login (POST /signup);
//   - GET or POST /verify?user=NAME sends the user to their verification
//     session (303 to its link), signing them up on a first visit;
//   - GET /status.html?user=NAME shows the user's status, reloading itself
//     until the decision arrives; GET /status?user=NAME is the same as JSON;
//   - POST /webhooks/heliumid receives Helium ID's signed webhooks;
//   - every -sweep, the sessions still undecided are fetched, to catch a
//     decision whose webhooks never arrived.
//
// Sessions and decisions are kept in an SQLite file (-db). With
// HELIUMID_API_KEY set it talks to Helium ID, or to the API at
// HELIUMID_BASE_URL (the day's loop: "heliumid fake"); without, it starts an
// embedded fake Helium ID whose page the Verify button opens.
//
//	go run . -addr 127.0.0.1:3000
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
	"path/filepath"
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

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3000", "address to listen on (the fake Helium ID of the day's loop has 127.0.0.1:8080)")
	dbPath := fs.String("db", "", "SQLite file of users, sessions and decisions (default webapp.db with HELIUMID_API_KEY; a temporary file with the embedded fake)")
	sweepEvery := fs.Duration("sweep", time.Minute, "how often the undecided sessions are fetched, for decisions whose webhooks never arrived")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: every setting is a flag (-help lists them)", fs.Arg(0))
	}
	if *sweepEvery <= 0 {
		return fmt.Errorf("-sweep %v: give a positive duration such as 1m", *sweepEvery)
	}
	apiKey, baseURL := getenv("HELIUMID_API_KEY"), getenv("HELIUMID_BASE_URL")
	if apiKey == "" && baseURL != "" {
		return errors.New("HELIUMID_BASE_URL is set but HELIUMID_API_KEY is not: set both to use that API (heliumid fake accepts heliumidtest_key), or neither for the embedded fake")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	// Listen before anything else: with the embedded fake, the webhook URL is
	// this server's own address.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()

	a := &app{log: logger}
	var fake *heliumidtest.Server
	if apiKey != "" {
		var opts []heliumid.Option
		if baseURL != "" {
			opts = append(opts, heliumid.WithBaseURL(baseURL))
		}
		if a.client, err = heliumid.NewClient(apiKey, opts...); err != nil {
			return err
		}
		if *dbPath == "" {
			*dbPath = "webapp.db"
		}
	} else {
		// The embedded fake stands in for Helium ID; a real service does not
		// import heliumidtest. It forgets its sessions when this process
		// ends, so by default the database is temporary too: a file that
		// outlived it would hold sessions no API knows.
		fake = heliumidtest.NewServer(heliumidtest.WithWallClock(), heliumidtest.WithResubmission())
		defer fake.Close()
		fake.SetWebhookURL(base + "/webhooks/heliumid")
		a.client, apiKey = fake.Client(), fake.APIKey()
		if *dbPath == "" {
			dir, err := os.MkdirTemp("", "webapp-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			*dbPath = filepath.Join(dir, "webapp.db")
		}
	}

	if a.store, err = openStore(ctx, *dbPath); err != nil {
		return err
	}
	defer a.store.Close()

	srv := newServer(a.handler(apiKey), logger)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		a.sweepEvery(sweepCtx, *sweepEvery)
	}()
	defer func() { stopSweep(); <-swept }() // before the store closes

	fmt.Fprintf(stdout, "Listening on %s\n", base)
	fmt.Fprintf(stdout, "Open %s/ in a browser. Database: %s; sweep every %v.\n", base, *dbPath, *sweepEvery)
	if fake != nil {
		fmt.Fprintf(stdout, "Using the embedded fake Helium ID at %s (set HELIUMID_API_KEY and HELIUMID_BASE_URL for another API).\n", fake.URL)
	} else {
		fmt.Fprintf(stdout, "Webhooks are received at %s/webhooks/heliumid: give that URL (or your public one) to the API.\n", base)
	}

	select {
	case err := <-served:
		return err // the listener failed
	case <-ctx.Done():
	}
	// Stop the fake first: Close delivers the webhooks it has queued, and
	// they need this server up.
	if fake != nil {
		fake.Close()
	}
	stopSweep()
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
