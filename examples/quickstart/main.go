// Command quickstart creates a Helium ID verification session and prints the
// link to send the end-user to.
//
// Without HELIUMID_API_KEY it starts the embedded fake Helium ID, plays the
// end-user on it (started → submitted → successful) and prints each status as
// the SDK reads it back. With HELIUMID_API_KEY set it talks to the real API
// (HELIUMID_BASE_URL overrides the endpoint) and prints only the session's id
// and link: a person moves the session on from there.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	client, fake, err := connect(getenv, stdout)
	if err != nil {
		return err
	}
	if fake != nil {
		defer fake.Close()
	}

	// VendorData is your own id for the end-user: it is how you find the
	// session again.
	session, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
		VendorData: "quickstart-user-42",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created session %s\n", session.ID)
	fmt.Fprintf(stdout, "Send the end-user to: %s\n", session.Link)

	if fake == nil {
		// A test integration gets no automatic decisions, and a live one
		// decides only once a person has verified at the link.
		fmt.Fprintf(stdout, "Set its status in the dashboard, then wait for the decision: go run ./examples/poller -id %s\n", session.ID)
		return nil
	}

	// Nobody opens the fake's link: play the end-user (and Helium ID's
	// decision) with SetStatus, reading each status back through the SDK.
	fmt.Fprintln(stdout, "The fake plays the end-user; each status as the SDK reads it back:")
	for _, step := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		if err := fake.SetStatus(session.ID, step); err != nil {
			return err
		}
		v, err := client.GetVerification(ctx, session.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  status: %s\n", v.Status)
	}

	// How a backend reads the decision when it polls (prefer webhooks: see
	// examples/webapp). It is already there, so the first poll returns.
	v, err := client.WaitForDecision(ctx, session.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Decision: %s\n", v.Status)
	// v now holds the (fake) document data. Its String redacts it, so this
	// is what a log line of v shows; read v.DocumentInfo for the data itself.
	fmt.Fprintf(stdout, "Logged as: %v\n", v)
	return nil
}

// connect returns a client for the real API when HELIUMID_API_KEY is set, and
// otherwise starts the embedded fake Helium ID and returns it with a client
// wired to it. A real service only needs the first branch; the fake is here so
// the example runs without an account.
func connect(getenv func(string) string, stdout io.Writer) (*heliumid.Client, *heliumidtest.Server, error) {
	if key := getenv("HELIUMID_API_KEY"); key != "" {
		var opts []heliumid.Option
		base := heliumid.DefaultBaseURL
		if u := getenv("HELIUMID_BASE_URL"); u != "" {
			base = u
			opts = append(opts, heliumid.WithBaseURL(u))
		}
		client, err := heliumid.NewClient(key, opts...)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "Using the Helium ID API at %s\n", base)
		return client, nil, nil
	}
	fake := heliumidtest.NewServer()
	fmt.Fprintf(stdout, "Using the embedded fake Helium ID at %s (set HELIUMID_API_KEY to use the real API)\n", fake.URL)
	return fake.Client(), fake, nil
}
