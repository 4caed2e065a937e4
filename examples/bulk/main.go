// Command bulk creates a Helium ID verification session for each vendor id
// of a CSV file, paced by a rate limiter so that it stays under the plan's
// session-creation cap, with a few requests in flight at once.
//
// It writes vendor_id,verification_id,link for each session created as CSV to
// stdout, a progress line to stderr, and at the end a summary: how many were
// created, how often the limiter made a request wait, and what failed, by
// class.
//
// Without HELIUMID_API_KEY it runs against the embedded fake Helium ID, with a
// cap of 20 sessions per second. With HELIUMID_API_KEY set it talks to the
// real API (HELIUMID_BASE_URL overrides the endpoint).
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

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bulk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	csvPath := fs.String("csv", "-", "CSV file of vendor ids: a vendor_id column, or ids in the first column; - reads stdin")
	perSecond := fs.Float64("rate", 10, "sessions to create per second at most: stay below your plan's cap")
	workers := fs.Int("workers", 4, "requests in flight at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *perSecond <= 0 || *workers < 1 {
		return errors.New("-rate and -workers must be positive")
	}

	// Read and check the whole input before creating anything: a bad line
	// halfway must not leave half the sessions created (and billed).
	in := stdin
	if *csvPath != "-" {
		f, err := os.Open(*csvPath)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	ids, repeated, err := readVendorIDs(in)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *csvPath, err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("no vendor ids in %s", *csvPath)
	}
	if repeated > 0 {
		fmt.Fprintf(stderr, "Skipping %d repeated vendor ids: one session each is enough.\n", repeated)
	}

	// One limiter for the whole run (burst 1: no spike at the start). The
	// client waits for it before every creation attempt, retries included.
	// Several processes sharing one cap need a shared limiter instead: see
	// the redisrate module.
	limiter := &countingLimiter{Limiter: rate.NewLimiter(rate.Limit(*perSecond), 1)}
	client, closeBackend, err := connect(getenv, limiter, stderr)
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
	prog := progress{w: stderr, total: len(ids)}
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
			// (and is billed) whatever happens to this process next.
			out.Write([]string{r.vendorID, r.session.ID, r.session.Link})
			out.Flush()
			if out.Error() != nil {
				stopFeeding() // nowhere to record further sessions
			}
		}
		prog.show(created, len(failed), false)
	}
	prog.show(created, len(failed), true)
	fmt.Fprintln(stderr)
	if err := out.Error(); err != nil {
		return err
	}

	notAttempted := len(ids) - created - len(failed)
	fmt.Fprintf(stderr, "Done in %v: created %d, failed %d, not attempted %d, rate-limiter waits %d (at %g/s)\n",
		time.Since(start).Round(time.Millisecond), created, len(failed), notAttempted, limiter.waits.Load(), *perSecond)
	if created == len(ids) {
		return nil
	}
	report(stderr, failed)
	return fmt.Errorf("%d of %d sessions not created: re-run with the vendor ids missing from the output", len(ids)-created, len(ids))
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

// progress redraws one line on w, at most every 100 ms unless forced.
type progress struct {
	w     io.Writer
	total int
	last  time.Time
	shown string
}

func (p *progress) show(created, failed int, force bool) {
	line := fmt.Sprintf("\r%d/%d created, %d failed", created, p.total, failed)
	if line == p.shown || !force && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = time.Now(), line
	io.WriteString(p.w, line)
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

// fakeCap is the embedded fake's session-creation cap, per second.
const fakeCap = 20

// connect returns a client for the real API when HELIUMID_API_KEY is set, and
// otherwise starts the embedded fake Helium ID, with a creation cap, and
// returns a client wired to it. Either way creation waits for limiter. close
// stops the fake. A real program needs only the first branch.
func connect(getenv func(string) string, limiter heliumid.RateLimiter, stderr io.Writer) (client *heliumid.Client, close func(), err error) {
	opts := []heliumid.Option{heliumid.WithRateLimiter(limiter)}
	if key := getenv("HELIUMID_API_KEY"); key != "" {
		if u := getenv("HELIUMID_BASE_URL"); u != "" {
			opts = append(opts, heliumid.WithBaseURL(u))
		}
		client, err := heliumid.NewClient(key, opts...)
		return client, func() {}, err
	}

	fake := heliumidtest.NewServer(heliumidtest.WithRateLimit(fakeCap, time.Second))
	stopClock := runClock(fake)
	fmt.Fprintf(stderr, "Using the embedded fake Helium ID at %s, capped at %d sessions/s (set HELIUMID_API_KEY to use the real API)\n", fake.URL, fakeCap)
	// Wait out a 429's Retry-After as a production client does: the fake's
	// clock now moves, so waiting frees its cap.
	client = fake.Client(append(opts, heliumid.WithRetryAfterCap(30*time.Second))...)
	return client, func() { stopClock(); fake.Close() }, nil
}

// runClock moves the fake's clock along with the wall clock until stop is
// called, so that its creation cap frees up as time passes, as the real one
// does. (Its clock otherwise moves only when a test calls Advance.)
func runClock(fake *heliumidtest.Server) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				fake.Advance(now.Sub(last))
				last = now
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
