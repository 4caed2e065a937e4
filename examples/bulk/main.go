// Command bulk creates a Helium ID verification session for each vendor id
// of a CSV file, paced by a rate limiter so that it stays under the plan's
// session-creation cap, with a few requests in flight at once.
//
// It writes vendor_id,verification_id,link for each session created as CSV to
// stdout, a progress line to stderr, and at the end a summary: how many were
// created, how often the server answered 429 and the client waited out its
// Retry-After, how often the limiter made a request wait, and what failed, by
// class.
//
// Without HELIUMID_API_KEY it runs against the embedded fake Helium ID, which
// enforces a strict cap of 5 sessions per second (bursts of 5), below the
// default -rate of 10, so that the sample shows the 429 handling. With
// HELIUMID_API_KEY set it talks to the real API (HELIUMID_BASE_URL overrides
// the endpoint); set -rate below your plan's cap there.
//
//	go run ./examples/bulk -csv examples/bulk/vendors.csv > sessions.csv
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bulk:", err)
		os.Exit(1)
	}
}

// errNoInput is returned when there is nothing to read: no -csv, and
// standard input is a terminal, where reading would wait silently for
// someone to type CSV.
var errNoInput = errors.New("no input: pass -csv FILE (try -csv examples/bulk/vendors.csv), or pipe the CSV in (cut -d, -f1 ids.csv | bulk); -csv - reads standard input even from a terminal")

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bulk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	csvPath := fs.String("csv", "", "CSV file of vendor ids: a vendor_id column, or ids in the first column; - reads stdin (the default when stdin is not a terminal)")
	perSecond := fs.Float64("rate", 10, "sessions to create per second at most: stay below your plan's cap")
	workers := fs.Int("workers", 4, "requests in flight at most")
	maxWait := fs.Duration("max-wait", 30*time.Second, "the longest Retry-After of a 429 to wait out before retrying; a longer one stops the run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *perSecond <= 0 || *workers < 1 || *maxWait < 0 {
		return errors.New("-rate and -workers must be positive, -max-wait not negative")
	}

	// Read and check the whole input before creating anything: a bad line
	// halfway must not leave half the sessions created (and billed).
	in, name := stdin, "standard input"
	switch *csvPath {
	case "":
		if isTerminal(stdin) {
			return errNoInput
		}
	case "-":
	default:
		f, err := os.Open(*csvPath)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, *csvPath
	}
	ids, repeated, err := readVendorIDs(in)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("no vendor ids in %s", name)
	}
	if repeated > 0 {
		fmt.Fprintf(stderr, "Skipping %s: one session each is enough.\n", plural(repeated, "repeated vendor id", "repeated vendor ids"))
	}

	// One limiter for the whole run (burst 1: no spike at the start). The
	// client waits for it before every creation attempt, retries included.
	// Several processes sharing one cap need a shared limiter instead: see
	// the redisrate module. The logger only counts the 429 answers, for the
	// summary.
	limiter := &countingLimiter{Limiter: rate.NewLimiter(rate.Limit(*perSecond), 1)}
	throttled := &count429{}
	opts := []heliumid.Option{
		heliumid.WithRateLimiter(limiter),
		heliumid.WithRetryAfterCap(*maxWait),
		heliumid.WithLogger(slog.New(throttled)),
	}
	client, closeBackend, err := connect(getenv, opts, stderr)
	if err != nil {
		return err
	}
	defer closeBackend()

	// Stopping early stops handing out rows; the requests in flight finish,
	// so that none creates a session this run does not report.
	feeding, stopFeeding := context.WithCancel(ctx)
	defer stopFeeding()
	start := time.Now()
	out := csv.NewWriter(stdout)
	out.Write([]string{"vendor_id", "verification_id", "link"})
	out.Flush()
	created := 0
	var failed []result
	prog := newProgress(stderr, len(ids))
	for r := range createAll(ctx, feeding.Done(), client, ids, *workers) {
		if r.err != nil {
			failed = append(failed, r)
			// The next rows would fail the same way: stop early.
			if errors.Is(r.err, heliumid.ErrUnauthorized) || errors.Is(r.err, heliumid.ErrRateLimited) {
				stopFeeding()
			}
		} else {
			created++
			// Flush each row at once: it records a session that exists
			// (and is billed) whatever happens to this process next. On a
			// terminal the progress line steps aside for it.
			prog.clear()
			out.Write([]string{r.vendorID, r.session.ID, r.session.Link})
			out.Flush()
			if out.Error() != nil {
				stopFeeding() // nowhere to record further sessions
			}
		}
		prog.show(created, len(failed), false)
	}
	prog.show(created, len(failed), true)
	prog.end()
	if err := out.Error(); err != nil {
		return err
	}

	notAttempted := len(ids) - created - len(failed)
	fmt.Fprintf(stderr, "Done in %v: created %d, failed %d, not attempted %d\n",
		time.Since(start).Round(time.Millisecond), created, len(failed), notAttempted)
	gaveUp := 0
	for _, r := range failed {
		if errors.Is(r.err, heliumid.ErrRateLimited) {
			gaveUp++
		}
	}
	fmt.Fprintln(stderr, throttleSummary(int(throttled.n.Load()), gaveUp, *maxWait))
	fmt.Fprintln(stderr, limiterSummary(int(limiter.waits.Load()), *perSecond))
	if created == len(ids) {
		return nil
	}
	report(stderr, failed)
	return fmt.Errorf("%d of %d sessions not created: re-run with the vendor ids missing from the output", len(ids)-created, len(ids))
}

// throttleSummary says how often the server answered 429 and what the
// client did about it: paused creation for the Retry-After and tried
// again, unless the wait was longer than maxWait or the 429s outlasted the
// retries, in which case gaveUp sessions were not created for it.
func throttleSummary(answered, gaveUp int, maxWait time.Duration) string {
	if answered == 0 {
		return "The server never answered 429 (rate limited)."
	}
	s := "The server answered 429 (rate limited) " + times(answered) + ": the client paused creation for "
	if answered == 1 {
		s += "its Retry-After"
	} else {
		s += "each Retry-After"
	}
	s += fmt.Sprintf(" (up to -max-wait %v) and tried again", maxWait)
	if gaveUp > 0 {
		s += ", but gave up on " + plural(gaveUp, "session", "sessions") + " (see the failures below)"
	}
	return s + "."
}

// limiterSummary says how many requests the rate limiter held back.
func limiterSummary(waits int, perSecond float64) string {
	if waits == 0 {
		return fmt.Sprintf("The rate limiter made no request wait (at %g/s).", perSecond)
	}
	return fmt.Sprintf("The rate limiter made %s wait (at %g/s).", plural(waits, "request", "requests"), perSecond)
}

// plural is "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// times is "once", "twice" or "n times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// result is the outcome of one creation.
type result struct {
	vendorID string
	session  *heliumid.CreatedVerification
	err      error
}

// createAll creates a session for each vendor id, with at most workers
// requests in flight (the limiter paces them), and sends each outcome on the
// returned channel, which is closed once all are done. Once stop is closed,
// the ids not started yet are skipped; ending ctx also cancels the requests in
// flight. The caller must read the channel to the end.
func createAll(ctx context.Context, stop <-chan struct{}, client *heliumid.Client, ids []string, workers int) <-chan result {
	jobs := make(chan string)
	go func() {
		defer close(jobs)
		for _, id := range ids {
			select {
			case jobs <- id:
			case <-stop:
				return
			}
		}
	}()

	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range jobs {
				session, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
					VendorData: id, // how you find the session again
				})
				results <- result{id, session, err}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	return results
}

// report lists the failures on w, counted by class, then one by one.
func report(w io.Writer, failed []result) {
	if len(failed) == 0 {
		return
	}
	byClass := map[string]int{}
	for _, r := range failed {
		byClass[class(r.err)]++
	}
	var counts []string
	for _, c := range slices.Sorted(maps.Keys(byClass)) {
		counts = append(counts, fmt.Sprintf("%s %d", c, byClass[c]))
	}
	fmt.Fprintf(w, "Failures by class: %s\n", strings.Join(counts, ", "))
	if byClass["server error"]+byClass["network error"]+byClass["interrupted"] > 0 {
		// The SDK does not retry these, for the same reason.
		fmt.Fprintln(w, "After a server error, network error or interruption the session may exist anyway: look it up by VendorData (ListVerifications) before creating it again.")
	}
	for _, r := range failed {
		fmt.Fprintf(w, "  %s: %v\n", r.vendorID, r.err)
	}
}

// class names what kind of failure err is, and so what to do about it.
func class(err error) string {
	switch {
	case errors.Is(err, heliumid.ErrRateLimited):
		return "rate-limited" // lower -rate, or wait for the cap to free up
	case errors.Is(err, heliumid.ErrUnauthorized):
		return "unauthorized" // check HELIUMID_API_KEY
	case errors.Is(err, heliumid.ErrBadRequest), errors.Is(err, heliumid.ErrInvalidRequest):
		return "rejected" // fix the row
	case errors.Is(err, heliumid.ErrServer), errors.Is(err, heliumid.ErrUnexpectedResponse):
		return "server error"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "interrupted"
	default:
		return "network error"
	}
}

// countingLimiter is a rate.Limiter that counts the requests it held back.
type countingLimiter struct {
	*rate.Limiter
	waits atomic.Int64
}

// Wait takes a token at once when one is free; otherwise it counts a wait and
// waits for one.
func (l *countingLimiter) Wait(ctx context.Context) error {
	if l.Allow() {
		return nil
	}
	l.waits.Add(1)
	return l.Limiter.Wait(ctx)
}

// progress reports how far the run is on w: on a terminal, one line
// redrawn in place (at most every 100 ms unless forced) that steps aside
// for each CSV row when stdout is the same terminal; elsewhere (a pipe, a
// log file), a plain line at most every 5 s, with no \r.
type progress struct {
	w     io.Writer
	live  bool // w is a terminal
	total int
	last  time.Time
	shown string // the line on screen, "" when cleared
	text  string // the last text, to redraw
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, live: isTerminal(w), total: total, last: time.Now()}
}

func (p *progress) show(created, failed int, force bool) {
	p.text = fmt.Sprintf("%d/%d created, %d failed", created, p.total, failed)
	every := 5 * time.Second
	if p.live {
		every = 100 * time.Millisecond
	}
	if p.text == p.shown || !force && time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	if !p.live {
		if force {
			return // the summary says it
		}
		fmt.Fprintln(p.w, "progress: "+p.text)
		return
	}
	p.shown = p.text
	io.WriteString(p.w, "\r\x1b[K"+p.text)
}

// clear takes the live line off the screen, so that a CSV row written to
// the same terminal starts on a clean line; the next show redraws it.
func (p *progress) clear() {
	if p.live && p.shown != "" {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = ""
	}
}

// end finishes the live line, so what follows starts on its own.
func (p *progress) end() {
	if p.live && p.shown != "" {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// count429 is a slog.Handler that counts the SDK's debug records of
// attempts answered 429: how the run learns how often the cap was hit. A
// real program would log them instead.
type count429 struct{ n atomic.Int64 }

func (h *count429) Enabled(context.Context, slog.Level) bool { return true }
func (h *count429) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *count429) WithGroup(string) slog.Handler            { return h }
func (h *count429) Handle(_ context.Context, r slog.Record) error {
	if r.Level != slog.LevelDebug {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "status" && a.Value.Kind() == slog.KindInt64 && a.Value.Int64() == 429 {
			h.n.Add(1)
			return false
		}
		return true
	})
	return nil
}

// readVendorIDs reads vendor ids from CSV: the vendor_id column when the
// first row is a header naming one, else the first column. Blank ids are
// skipped, and so are repeats, which it counts.
func readVendorIDs(r io.Reader) (ids []string, repeated int, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // rows may differ in length
	col, seen := 0, map[string]bool{}
	for first := true; ; first = false {
		row, err := cr.Read()
		if err == io.EOF {
			return ids, repeated, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if first {
			if i := slices.IndexFunc(row, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), "vendor_id") }); i >= 0 {
				col = i
				continue
			}
		}
		if col >= len(row) {
			line, _ := cr.FieldPos(0)
			return nil, 0, fmt.Errorf("line %d has no vendor_id column", line)
		}
		id := strings.TrimSpace(row[col])
		switch {
		case id == "":
		case seen[id]:
			repeated++
		default:
			seen[id] = true
			ids = append(ids, id)
		}
	}
}

// The embedded fake's session-creation cap: a strict token bucket of 5
// sessions per second with bursts of 5, below the default -rate of 10, so
// that the sample file meets 429s and shows how the client handles them.
const (
	fakeRate  = 5
	fakeBurst = 5
)

// connect returns a client for the real API when HELIUMID_API_KEY is set, and
// otherwise starts the embedded fake Helium ID, with a creation cap, and
// returns a client wired to it. close stops the fake. A real program needs
// only the first branch.
func connect(getenv func(string) string, opts []heliumid.Option, stderr io.Writer) (client *heliumid.Client, close func(), err error) {
	if key := getenv("HELIUMID_API_KEY"); key != "" {
		if u := getenv("HELIUMID_BASE_URL"); u != "" {
			opts = append(opts, heliumid.WithBaseURL(u))
		}
		client, err := heliumid.NewClient(key, opts...)
		return client, func() {}, err
	}

	// The fake's clock follows the wall clock, so its bucket refills as
	// time passes, as the real cap does.
	fake := heliumidtest.NewServer(heliumidtest.WithTokenBucket(fakeRate, fakeBurst), heliumidtest.WithWallClock())
	fmt.Fprintf(stderr, "Using the embedded fake Helium ID at %s, capped at %d sessions/s in bursts of %d (set HELIUMID_API_KEY to use the real API)\n", fake.URL, fakeRate, fakeBurst)
	// fake.Client sets a Retry-After cap of 0 for tests; opts, which come
	// last, set this run's, so 429s are waited out as in production.
	return fake.Client(opts...), fake.Close, nil
}
