package heliumid

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
)

// defaultConcurrency is how many sessions GetVerifications fetches at once
// without WithConcurrency: enough to sweep thousands of sessions in
// seconds, few enough not to look like a load test.
const defaultConcurrency = 8

// FetchError is the error [Client.GetVerifications] yields for one id: the
// id, and why that session could not be fetched. errors.Is and errors.As
// see through it (errors.Is(err, ErrNotFound), an [*APIError]).
type FetchError struct {
	ID  string // the id as given
	Err error  // what GetVerification returned for it
}

// Error names the id, then the failure.
func (e *FetchError) Error() string {
	return fmt.Sprintf("heliumid: session %.*q: %s", maxIDLength, e.ID, strings.TrimPrefix(e.Err.Error(), "heliumid: "))
}

// Unwrap returns Err.
func (e *FetchError) Unwrap() error { return e.Err }

// GetVerifications fetches the sessions ids names, several at once, each
// with GET /v1/verifications/{id} as [Client.GetVerification] does (the
// same retries, and the same pause of every read after a 429), and yields
// each one as it arrives: in the order the answers come, not the order of
// ids. It is the reading side of a sweep that catches decisions whose
// webhooks never arrived (Helium ID's docs say nothing of redelivery; see
// docs/API.md): fetch the sessions your database holds as undecided, and
// apply each with [Verification.Supersedes], as your webhook handler does.
//
// A session that cannot be fetched yields a nil session and a
// [*FetchError] naming its id, and the others go on: break out of the loop
// to stop. An id that could never be valid (empty, or holding / ? # % \,
// spaces or control characters) fails first, before any request. When ctx
// ends, one error wrapping ctx's error is yielded and nothing after it.
// Breaking out of the loop, or ctx ending, cancels the requests in flight
// and waits for them: no goroutine outlives the loop.
//
// At most 8 requests are in flight at once, or as many as
// [WithConcurrency] says; the goroutines that send them stop with the
// loop. opts apply to every request; an invalid one is yielded once,
// before any I/O. [WithResponseInfo] describes the last request whose
// outcome was yielded (an invalid id's FetchError sends none).
func (c *Client) GetVerifications(ctx context.Context, ids []string, opts ...Option) iter.Seq2[*Verification, error] {
	return func(yield func(*Verification, error) bool) {
		cfg, err := c.startCall(ctx, opts)
		if err != nil {
			yield(nil, err)
			return
		}
		valid := make([]string, 0, len(ids))
		for _, id := range ids {
			if err := validateID(id); err != nil {
				if !yield(nil, &FetchError{ID: id, Err: err}) {
					return
				}
				continue
			}
			valid = append(valid, id)
		}
		c.fetchAll(ctx, cfg, valid, yield)
	}
}

// fetched is one session's outcome, handed from a fetching goroutine to
// the loop.
type fetched struct {
	id   string
	v    *Verification
	err  error
	info ResponseInfo // filled only for WithResponseInfo
}

// fetchAll fetches ids with at most cfg.concurrency goroutines, which take
// the next id as they finish one, and yields the outcomes on the caller's
// goroutine. The goroutines hand over one outcome at a time, unbuffered,
// so no more than one per goroutine waits while the loop's body runs; they
// all end before fetchAll returns.
func (c *Client) fetchAll(ctx context.Context, cfg *config, ids []string, yield func(*Verification, error) bool) {
	if len(ids) == 0 {
		return
	}
	if err := ctx.Err(); err != nil {
		yield(nil, stoppedFetching(ctx, 0, len(ids)))
		return
	}
	dst := cfg.info // filled here, from one outcome at a time: each fetch fills its own
	workers := cfg.concurrency
	if workers == 0 {
		workers = defaultConcurrency
	}
	inner, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (deferred last, run first)
	defer cancel()
	results := make(chan fetched)
	var next atomic.Int64
	for range min(workers, len(ids)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				r := fetched{id: ids[i]}
				fcfg := cfg
				if dst != nil {
					own := *cfg
					own.info = &r.info
					fcfg = &own
				}
				r.v, r.err = c.getVerification(inner, fcfg, r.id)
				select {
				case results <- r:
				case <-inner.Done():
					return
				}
			}
		})
	}
	for done := range len(ids) {
		var r fetched
		select {
		case r = <-results:
		case <-ctx.Done():
		}
		if ctx.Err() != nil { // an outcome that raced ctx's end is dropped with it
			yield(nil, stoppedFetching(ctx, done, len(ids)))
			return
		}
		if dst != nil {
			*dst = r.info
		}
		var ok bool
		if r.err != nil {
			ok = yield(nil, &FetchError{ID: r.id, Err: r.err})
		} else {
			ok = yield(r.v, nil)
		}
		if !ok {
			return
		}
	}
}

// stoppedFetching is the one error GetVerifications yields when ctx ends.
func stoppedFetching(ctx context.Context, done, total int) error {
	return fmt.Errorf("heliumid: GetVerifications stopped after %d of %d sessions: %w", done, total, ctx.Err())
}
