package main

import (
	"context"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	heliumid "github.com/heliumid/heliumid-go"
)

const waitHelp = `Usage: heliumid wait [--timeout D] [--interval D] [--json] [--show-personal-data] ID

Polls a session (GET /v1/verifications/{id}) every --interval until it has a
decision, showing its status as it changes, and exits with a code that says
which decision:

  0  successful
  1  failed, expired or abandoned (final: create a new session to try again)
  2  review: a human on your side must decide
  3  no decision before --timeout
  4  an error that asking again cannot fix (unknown id, wrong key); network
     errors, 5xx and 429 do not end the wait: it asks again at the next tick
  130  interrupted (Ctrl-C)

The status line goes to standard error: on a terminal, one line rewritten in
place, with the time elapsed, cut to the terminal's width (the id is cut
first, never the status); otherwise (a pipe, a file) a plain line per change,
with no \r or escape sequences. The result goes to standard output: the id,
the status and the reason, or with --json the session as "heliumid get
--json" prints it (on a timeout, the last status read). Personal data is left
out unless you pass --show-personal-data.

Examples:
  heliumid wait ID
  heliumid wait --timeout 30m ID && echo verified
  heliumid wait --timeout 0 --json ID > decision.json
`

// wait serves "heliumid wait".
func (c *cli) wait(ctx context.Context, args []string) int {
	fs := c.newFlagSet("wait")
	keyFile := keyFlag(fs)
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after `D` with exit code 3; 0 waits until a decision or Ctrl-C")
	interval := fs.Duration("interval", 2*time.Second, "ask for the status every `D`")
	asJSON := fs.Bool("json", false, "print the decided session as JSON")
	showPII := fs.Bool("show-personal-data", false, "include the end-user's personal data (docInfo, doc, selfie) in the result")
	pos, code, done := c.parse(fs, waitHelp, args)
	if done {
		return code
	}
	switch {
	case len(pos) == 0:
		return c.usageError("wait", "missing the session ID")
	case len(pos) > 1:
		return c.usageError("wait", fmt.Sprintf("want one session ID, got %d arguments", len(pos)))
	case *timeout < 0:
		return c.usageError("wait", fmt.Sprintf("--timeout %v: want 0 (no limit) or more", *timeout))
	case *interval <= 0:
		return c.usageError("wait", fmt.Sprintf("--interval %v: want more than 0", *interval))
	}
	id := pos[0]

	client, err := c.client(*keyFile)
	if err != nil {
		return c.fail("wait", err)
	}
	defer client.CloseIdleConnections()
	wctx := ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	line := c.newStatusLine(c.stderr, c.stdout, id)
	var last *heliumid.Verification
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-wctx.Done():
		case <-tick.C:
			v, err := client.GetVerification(wctx, id)
			switch {
			case err == nil:
				last = v
				if v.Status.IsDecided() {
					line.end(v.Status)
					return c.decided(v, *asJSON, *showPII)
				}
				line.show(v.Status, "")
			case wctx.Err() != nil: // reported below
			case !heliumid.IsTransient(err): // asking again cannot help: unknown id, wrong key, …
				line.close()
				return c.fail("wait", err)
			default:
				var st heliumid.Status
				if last != nil {
					st = last.Status
				}
				msg, _ := c.describe(err)
				line.show(st, "retrying: "+msg)
			}
			tick.Reset(*interval)
		}
		if wctx.Err() != nil {
			line.close()
			if ctx.Err() != nil {
				return c.fail("wait", ctx.Err())
			}
			return c.timedOut(id, *timeout, last, *asJSON, *showPII)
		}
	}
}

// decided prints the decided session and returns the exit code its status
// stands for.
func (c *cli) decided(v *heliumid.Verification, asJSON, showPII bool) int {
	if err := c.printResult(v, asJSON, showPII); err != nil {
		return c.fail("wait", err)
	}
	switch v.Status {
	case heliumid.StatusSuccessful:
		return exitOK
	case heliumid.StatusReview:
		return exitReview
	}
	return exitUnsuccess // failed, expired, abandoned: the other decided statuses
}

// timedOut reports a wait that outlasted --timeout.
func (c *cli) timedOut(id string, timeout time.Duration, last *heliumid.Verification, asJSON, showPII bool) int {
	where := "no status could be read"
	if last != nil {
		where = fmt.Sprintf("last status: %s", formatStatus(last))
		if asJSON {
			if err := c.printResult(last, true, showPII); err != nil {
				return c.fail("wait", err)
			}
		}
	}
	fmt.Fprintf(c.stderr, "heliumid wait: no decision on %s within %v (%s)\n", clean(id), timeout, where)
	return exitTimeout
}

func (c *cli) printResult(v *heliumid.Verification, asJSON, showPII bool) error {
	v, hidden := withoutPersonalData(v, showPII)
	if asJSON {
		if err := writeJSON(c.stdout, v); err != nil {
			return err
		}
		if hidden {
			fmt.Fprintln(c.stderr, personalDataNote)
		}
		return nil
	}
	if _, err := fmt.Fprintf(c.stdout, "%s: %s\n", clean(v.ID), formatStatus(v)); err != nil {
		return err
	}
	if v.Reason != "" {
		fmt.Fprintf(c.stdout, "reason: %s\n", clean(v.Reason))
	}
	return nil
}

// statusLine shows a waiting session's status on w: on a terminal, one line
// rewritten in place, with the time waited so far, cut to the terminal's
// width (a line wider than the terminal wraps, and \r then rewrites only
// its last row, leaving stale copies above); elsewhere (a pipe, a file), a
// plain line per change, with no \r or escape sequence.
type statusLine struct {
	w          io.Writer
	id         string
	tty        bool
	width      int  // columns of the terminal
	resultHere bool // the result goes where the line does: it says the decision, the line need not
	start      time.Time
	last       string // the text last shown
	open       bool   // a terminal line awaits its newline
}

// newStatusLine returns the status line for session id on w; results
// are printed on result.
func (c *cli) newStatusLine(w, result io.Writer, id string) *statusLine {
	tty, width := c.terminal(w)
	return &statusLine{w: w, id: clean(id), tty: tty, width: width, resultHere: sameFile(w, result), start: time.Now()}
}

// show displays status, with note in parentheses when not empty.
func (l *statusLine) show(status heliumid.Status, note string) {
	if l.tty {
		elapsed := time.Since(l.start).Round(time.Second).String()
		fmt.Fprintf(l.w, "\r\x1b[K%s", fitStatus(l.id, orDash(string(status)), clean(note), elapsed, l.width))
		l.open = true
		return
	}
	text := l.id + ": " + orDash(string(status))
	if note != "" {
		text += " (" + clean(note) + ")"
	}
	if text != l.last {
		fmt.Fprintln(l.w, text)
	}
	l.last = text
}

// end shows the decided status, unless the result, printed next, goes
// to the same terminal, pipe or file and says it: then a terminal's line
// is erased, so that the decision is printed once.
func (l *statusLine) end(status heliumid.Status) {
	if !l.resultHere {
		l.show(status, "")
		l.close()
		return
	}
	if l.open {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.open = false
	}
}

// close ends an open terminal line, so what follows starts on its own.
func (l *statusLine) close() {
	if l.open {
		fmt.Fprintln(l.w)
		l.open = false
	}
}

// minIDCell is the fewest characters of the id a status line keeps before
// it drops anything else: enough to tell sessions apart.
const minIDCell = 8

// fitStatus lays out "ID: STATUS (NOTE), ELAPSED elapsed" within width-1
// columns (the last column would make some terminals wrap). What does not
// fit goes in this order: the id beyond its first characters, the note,
// the elapsed time, the rest of the id. The status is never cut: it is
// what the line is for. It counts runes as columns: the text is an id, a
// status and a message, not wide characters.
func fitStatus(id, status, note, elapsed string, width int) string {
	room := width - 1
	compose := func(id, note string, withElapsed bool) string {
		s := status
		if id != "" {
			s = id + ": " + s
		}
		if note != "" {
			s += " (" + note + ")"
		}
		if withElapsed {
			s += ", " + elapsed + " elapsed"
		}
		return s
	}
	left := func(s string) int { return room - utf8.RuneCountInString(s) }

	if s := compose(id, note, true); left(s) >= 0 {
		return s
	}
	if n := left(compose("", note, true)) - len(": "); n >= minIDCell {
		return compose(cell(id, n), note, true)
	}
	short := cell(id, minIDCell)
	if n := left(compose(short, "", true)) - len(" ()"); note != "" && n >= minIDCell {
		return compose(short, cell(note, n), true)
	}
	for _, s := range []string{compose(short, "", true), compose(short, "", false)} {
		if left(s) >= 0 {
			return s
		}
	}
	if n := left(status) - len(": "); n >= 2 {
		return compose(cell(id, n), "", false)
	}
	return status
}
