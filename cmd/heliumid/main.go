// Command heliumid is the command line for the Helium ID identity-verification
// API: create a session and open its link, check a status, wait for a
// decision, send a signed test webhook to a local endpoint, and run the fake
// Helium ID server of package heliumidtest for integration tests in any
// language (and decide its sessions).
//
//	go install github.com/heliumid/heliumid-go/cmd/heliumid@latest
//	heliumid help
//
// The API key comes from HELIUMID_API_KEY or --api-key-file, never from a
// flag value (which would land in the shell's history); the base URL from
// HELIUMID_BASE_URL. Run "heliumid help" for the commands and exit codes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	heliumid "github.com/heliumid/heliumid-go"
)

// Exit codes. 0–3 are also the outcomes of "heliumid wait", so that no error
// of any command can be mistaken for a decision.
const (
	exitOK          = 0   // success; wait: the session is successful
	exitUnsuccess   = 1   // wait: failed, expired or abandoned
	exitReview      = 2   // wait: in review
	exitTimeout     = 3   // wait: no decision before --timeout
	exitFailure     = 4   // the command failed: network, API error, webhook receiver said no
	exitUsage       = 64  // bad command line (sysexits EX_USAGE)
	exitConfig      = 78  // no usable API key or base URL (sysexits EX_CONFIG)
	exitInterrupted = 130 // SIGINT or SIGTERM (128 + SIGINT, as shells report it)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once, should shutting down take long
	}()
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: it parses args, runs the command they name, and
// returns the exit code. env looks up environment variables (os.LookupEnv in
// main), so tests pass HELIUMID_API_KEY and HELIUMID_BASE_URL without
// touching the process environment. Cancelling ctx interrupts the command.
func run(ctx context.Context, args []string, env func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{env: env, stdin: stdin, stdout: stdout, stderr: stderr}
	return c.main(ctx, args)
}

// cli holds what every command uses: the environment, the standard streams,
// and options for the clients it builds.
type cli struct {
	env    func(string) (string, bool)
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// clientOptions are appended to the options of every heliumid.Client
	// the commands build. Tests shorten the retry backoff with them.
	clientOptions []heliumid.Option
}

// command is one subcommand.
type command struct {
	name    string // as typed, "webhook send" for a nested one
	summary string // one line for "heliumid help"
	run     func(c *cli, ctx context.Context, args []string) int
}

// commands lists the subcommands in the order "heliumid help" shows them.
// (A function, not a variable: the commands refer back to it for help.)
func commands() []command {
	return []command{
		{"create", "create a verification session; prints its id and link", (*cli).create},
		{"get", "show one session", (*cli).get},
		{"list", "list sessions", (*cli).list},
		{"wait", "wait for a session's decision, with a live status line", (*cli).wait},
		{"webhook send", "send a signed test webhook to your endpoint", (*cli).webhookSend},
		{"fake", "run a fake Helium ID API for local and integration tests", (*cli).fake},
		{"decide", "walk a fake session to a decision (successful, failed, review)", (*cli).decide},
		{"version", "print the version", (*cli).version},
		{"help", "show help for a command", (*cli).help},
	}
}

func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, mainUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(c.stdout, mainUsage())
		return exitOK
	case "-version", "--version":
		return c.version(ctx, nil)
	case "webhook":
		if len(args) < 2 {
			return c.usageError("webhook", "missing subcommand: the only one is \"webhook send\"")
		}
		switch args[1] {
		case "send":
			return c.webhookSend(ctx, args[2:])
		case "-h", "-help", "--help":
			return c.webhookSend(ctx, []string{"--help"})
		}
		return c.usageError("webhook", fmt.Sprintf("unknown subcommand %q: the only one is \"webhook send\"", args[1]))
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(c, ctx, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "heliumid: unknown command %q\nRun 'heliumid help' for the list of commands.\n", args[0])
	return exitUsage
}

func mainUsage() string {
	s := `heliumid: the command line for the Helium ID identity-verification API

Usage:
  heliumid <command> [flags] [arguments]

Commands:
`
	for _, cmd := range commands() {
		s += fmt.Sprintf("  %-13s %s\n", cmd.name, cmd.summary)
	}
	return s + `
Environment:
  HELIUMID_API_KEY   your integration's API key; or pass --api-key-file FILE
                     ("-" reads it from standard input). There is no flag
                     for the key itself: it would land in your shell history.
  HELIUMID_BASE_URL  the API's base URL, by default
                     ` + heliumid.DefaultBaseURL + `; http is allowed for
                     loopback hosts only, such as http://127.0.0.1:8080/api
                     for "heliumid fake"

Exit codes:
  0    success; wait: the session is successful
  1    wait: the session failed, expired or was abandoned
  2    wait: the session is in review (a human on your side must decide)
  3    wait: no decision before --timeout
  4    the command failed: network error, error from the API, webhook
       receiver answered other than 2xx, fake server could not listen
  64   usage error: unknown command, bad flag or argument
  78   configuration error: no API key, unreadable key file, bad
       HELIUMID_BASE_URL
  130  interrupted (Ctrl-C)

Run 'heliumid <command> --help' for a command's flags and examples.
`
}

// help serves "heliumid help [command]".
func (c *cli) help(ctx context.Context, args []string) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(c.stdout, mainUsage())
		return exitOK
	case args[0] == "help" || isHelpFlag(args[0]):
		fmt.Fprint(c.stdout, "Usage: heliumid help [command]\n\nShows the commands, environment and exit codes, or a command's help.\n")
		return exitOK
	case args[0] == "webhook":
		return c.webhookSend(ctx, []string{"--help"})
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(c, ctx, []string{"--help"})
		}
	}
	fmt.Fprintf(c.stderr, "heliumid help: unknown command %q\nRun 'heliumid help' for the list of commands.\n", args[0])
	return exitUsage
}

// version serves "heliumid version".
func (c *cli) version(_ context.Context, args []string) int {
	if len(args) > 0 {
		if isHelpFlag(args[0]) {
			fmt.Fprint(c.stdout, "Usage: heliumid version\n\nPrints the version of heliumid-go this command was built from.\n")
			return exitOK
		}
		return c.usageError("version", "version takes no arguments")
	}
	fmt.Fprintf(c.stdout, "heliumid %s\n", heliumid.Version)
	return exitOK
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "-help" || s == "--help"
}
