// Command poller waits for the decision on a Helium ID verification session
// with Client.WaitForDecision, under a deadline. When a session ends failed,
// expired or abandoned, which are final, it creates a fresh one for the same
// end-user, up to -sessions in all.
//
// Without HELIUMID_API_KEY it runs against the embedded fake Helium ID and
// plays the end-user there: the first session is never opened and expires,
// the second one passes. With HELIUMID_API_KEY set it talks to the real API
// (HELIUMID_BASE_URL overrides the endpoint); -id waits for a session you
// created before, such as the one examples/quickstart printed.
//
//	go run ./examples/poller
//	go run ./examples/poller -id <session id> -timeout 30m
//
// Polling suits scripts and back-office jobs. A web backend should take the
// decision from webhooks instead (see examples/webapp): polling spends
// requests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
		fmt.Fprintln(os.Stderr, "poller:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("poller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "wait for this existing session instead of creating one")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for each session's decision")
	maxSessions := fs.Int("sessions", 3, "sessions to use at most, the first included")
	vendor := fs.String("vendor", "poller-user-42", "VendorData of new sessions: your id for the end-user")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxSessions < 1 || *timeout <= 0 {
		return errors.New("-sessions and -timeout must be positive")
	}

	if *id != "" && getenv("HELIUMID_API_KEY") == "" {
		return errors.New("-id needs HELIUMID_API_KEY: the embedded fake starts with no sessions")
	}

	client, fake, err := connect(getenv, stdout)
	if err != nil {
		return err
	}
	if fake != nil {
		defer fake.Close()
	}

	sessionID := *id
	for n := 1; ; n++ {
		if sessionID == "" {
			session, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: *vendor})
			if err != nil {
				return err
			}
			sessionID = session.ID
			fmt.Fprintf(stdout, "Session %d of at most %d: %s (new)\n", n, *maxSessions, sessionID)
			fmt.Fprintf(stdout, "  Send the end-user to: %s\n", session.Link)
			if fake != nil {
				if err := playEndUser(fake, sessionID, n, stdout); err != nil {
					return err
				}
			}
		} else {
			fmt.Fprintf(stdout, "Session %d of at most %d: %s\n", n, *maxSessions, sessionID)
		}

		fmt.Fprintf(stdout, "  Waiting up to %v for a decision...\n", *timeout)
		v, err := waitForDecision(ctx, client, sessionID, *timeout)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("%w; wait again later: go run ./examples/poller -id %s", err, sessionID)
		}
		if err != nil {
			return err
		}

		switch v.Status {
		case heliumid.StatusSuccessful:
			fmt.Fprintln(stdout, "  Decision: successful. The end-user is verified.")
			return nil
		case heliumid.StatusReview:
			fmt.Fprintln(stdout, "  Decision: review. Someone on your side must decide, in the dashboard.")
			return nil
		case heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned:
			fmt.Fprintf(stdout, "  Decision: %s, which is final. Reason: %q\n", v.Status, v.Reason)
		default:
			return fmt.Errorf("session %s: unexpected status %q", v.ID, v.Status)
		}
		if n == *maxSessions {
			return fmt.Errorf("not verified, and -sessions %d reached", *maxSessions)
		}
		sessionID = "" // the next round creates a fresh session
	}
}

// waitForDecision bounds WaitForDecision with a deadline: a session nobody
// opens takes a week to expire.
func waitForDecision(ctx context.Context, client *heliumid.Client, id string, timeout time.Duration) (*heliumid.Verification, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return client.WaitForDecision(ctx, id)
}

// playEndUser stands in for the end-user on the embedded fake, whose links
// nobody visits: session 1 is never opened and expires a week later; the
// next one passes. A real end-user does this while WaitForDecision polls.
func playEndUser(fake *heliumidtest.Server, id string, n int, stdout io.Writer) error {
	if n == 1 {
		fmt.Fprintln(stdout, "  (fake) Nobody opens the link; a week passes.")
		fake.Advance(heliumid.SessionLifetime)
		return nil
	}
	fmt.Fprintln(stdout, "  (fake) The end-user opens the link, submits a document and passes.")
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		if err := fake.SetStatus(id, st); err != nil {
			return err
		}
	}
	return nil
}

// connect returns a client for the real API when HELIUMID_API_KEY is set, and
// otherwise starts the embedded fake Helium ID and returns it with a client
// wired to it. A real program needs only the first branch.
func connect(getenv func(string) string, stdout io.Writer) (*heliumid.Client, *heliumidtest.Server, error) {
	if key := getenv("HELIUMID_API_KEY"); key != "" {
		var opts []heliumid.Option
		if u := getenv("HELIUMID_BASE_URL"); u != "" {
			opts = append(opts, heliumid.WithBaseURL(u))
		}
		client, err := heliumid.NewClient(key, opts...)
		return client, nil, err
	}
	fake := heliumidtest.NewServer()
	fmt.Fprintf(stdout, "Using the embedded fake Helium ID at %s (set HELIUMID_API_KEY to use the real API)\n", fake.URL)
	return fake.Client(), fake, nil
}
