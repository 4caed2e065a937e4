package heliumid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/heliumid/heliumid-go/internal/pace"
)

// admission is what holds back the attempts of one request class of a
// Client, creates or reads, and all that does:
//
//   - the class's cool-down: after a 429 with Retry-After from the client's
//     API, every request of the class waits until the same instant, instead
//     of each collecting its own 429, for no longer than the client's
//     Retry-After cap (see [WithRetryAfterCap]);
//   - for creates, the learned pace ([WithAdaptiveRate]): from the first
//     429 on, creates go at a rate learned from the server's answers. Once
//     it is on, it serves the cool-down too, so that the cool-down's end
//     releases the waiting creates at that rate, not all at once;
//   - for creates, the caller's [RateLimiter] ([WithRateLimiter]), which
//     may hear each outcome ([RateFeedback]) and each pause
//     ([CooldownSharer]).
//
// Reads have the cool-down only: they are never paced, nor gated.
//
// An attempt takes a ticket before it is sent (Client.admit) and hands
// back what it came to after (ticket.report), once: from that one report
// the cool-down, the pace and the limiter each learn what is theirs. (The
// shape of aws-sdk-go-v2's adaptive retry: a token before the attempt, the
// outcome with its release.)
//
// An admission belongs to its client, and a call's own settings never
// reach it: a call sent to another base URL neither waits for it nor feeds
// it (its limiter, the call's or the client's, still gates it); only what
// the client's API answered feeds it, never a response a middleware made
// up; a pause is bounded by the client's Retry-After cap, whether the
// call's is longer or shorter; a call's WithAdaptiveRate decides only
// whether that call waits in the pace; a call's WithRateLimiter gates and
// hears that call only.
type admission struct {
	cool     cooldown
	pace     *pace.Pacer   // nil for reads: never paced
	paces    bool          // the client's WithAdaptiveRate: its creates wait in the pace
	pauseCap time.Duration // the client's Retry-After cap: no pause lasts longer
}

// newAdmissions returns the admissions of a client whose settings are
// cfg.
func newAdmissions(cfg *config) (creates, reads *admission) {
	creates = &admission{pace: new(pace.Pacer), paces: !cfg.adaptiveOff, pauseCap: cfg.retryAfterCap}
	reads = &admission{pauseCap: cfg.retryAfterCap}
	return creates, reads
}

// ticket is one admitted attempt: report what it came to on it, once.
type ticket struct {
	adm    *admission // nil for a call to another base URL: it neither waits for the client's state nor feeds it
	cfg    *config
	create bool
	slot   pace.Slot // when, and at what rate, the pace let the create go
	learn  bool      // the pace learns from this create's answer
}

// admit holds attempt (1 for the first) of r until it may be sent: until
// its class's cool-down is over, and for a create, until the pace (when
// the call is paced) and then the limiter let it go. When the cool-down
// would outlast the call's Retry-After cap or ctx's deadline it fails at
// once, with an error matching ErrRateLimited that says how long is left;
// when the limiter refuses, with one that matches ErrRateLimited too; when
// ctx ends first, with ctx's error.
func (c *Client) admit(ctx context.Context, cfg *config, r *call, attempt int) (ticket, error) {
	t := ticket{cfg: cfg, create: r.create}
	if cfg.baseURL == c.baseURL {
		t.adm = c.reads
		if r.create {
			t.adm = c.creates
		}
		paced := t.adm.pace != nil && !cfg.adaptiveOff
		t.learn = t.adm.pace != nil && (t.adm.paces || paced)
		var err error
		if t.slot, err = t.adm.wait(ctx, cfg.retryAfterCap, attempt, paced); err != nil {
			return t, c.annotate(r, err)
		}
	}
	if r.create && cfg.limiter != nil {
		if err := cfg.limiter.Wait(ctx); err != nil {
			return t, limiterError(ctx, r, err)
		}
	}
	return t, nil
}

// wait holds an attempt until the cool-down is over and, when it is paced,
// until the pace gives it its slot. maxWait is the call's Retry-After cap
// (see cooldown.check).
func (a *admission) wait(ctx context.Context, maxWait time.Duration, attempt int, paced bool) (pace.Slot, error) {
	if !paced || !a.pace.Active() {
		err := a.cool.wait(ctx, maxWait)
		// The pace may have come on while this attempt waited out the
		// cool-down (another caller's 429): it then goes in the queue.
		if err != nil || !paced || !a.pace.Active() {
			return pace.Slot{}, err
		}
	}
	// Once on, the pace serves the cool-down: its end releases the waiters
	// at the learned rate, later attempts first, including those that
	// began waiting just before the pace was on.
	if _, err := a.cool.check(ctx, maxWait); err != nil {
		return pace.Slot{}, err
	}
	return a.pace.Wait(ctx, attempt, a.cool.end)
}

// report hands the admission what the attempt came to, and returns until
// when the attempt's class is paused because of it (zero when it paused
// nothing). Only an answer of the client's API counts: an attempt sent to
// another base URL, or answered by a middleware, feeds nothing.
//
// A 429 with Retry-After pauses the class: its requests (not just this
// caller's, and whether or not it retries) wait for the server's window
// together, but never longer than the client's Retry-After cap, however
// long the server asked for and whatever cap the call was given: a hostile
// or broken server cannot stall the client (or, through a CooldownSharer,
// the fleet) for years, nor can one call's setting; once the cap has
// passed the next request finds out whether the window is still closed. A
// create's pause is shared with its limiter (CooldownSharer), and a
// create's answer, throttled (429) or not, teaches the pace and the
// limiter (RateFeedback).
func (t *ticket) report(ctx context.Context, o outcome) (pausedUntil time.Time) {
	if t.adm == nil || !o.fromAPI {
		return time.Time{}
	}
	if o.rateLimit != nil && o.retryAfter > 0 {
		pausedUntil = t.pause(ctx, o)
	}
	if t.create {
		throttled := o.status == http.StatusTooManyRequests
		if t.learn {
			t.adm.pace.Observe(t.slot, throttled, pausedUntil)
		}
		if fb, ok := t.cfg.limiter.(RateFeedback); ok {
			fb.Feedback(throttled)
		}
	}
	return pausedUntil
}

// pause extends the class's cool-down after the 429 o (see report).
func (t *ticket) pause(ctx context.Context, o outcome) (until time.Time) {
	d := min(o.retryAfter, t.adm.pauseCap)
	if d <= 0 {
		return time.Time{}
	}
	until = o.answered.Add(d)
	// The pause keeps a copy of its own: the caller goes on annotating its
	// error, and the others each get a copy of the pause's (cooldown.check).
	t.adm.cool.extend(until, o.rateLimit.clone())
	if t.create {
		t.shareCooldown(ctx, until) // the limiter gates creation only
	}
	return until
}

// shareCooldown tells a CooldownSharer limiter about a create's pause. Its
// error is logged, and otherwise ignored: this process waits out the pause
// either way.
func (t *ticket) shareCooldown(ctx context.Context, until time.Time) {
	sharer, ok := t.cfg.limiter.(CooldownSharer)
	if !ok {
		return
	}
	if err := sharer.ShareCooldown(ctx, until); err != nil && t.cfg.logger != nil {
		t.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "heliumid: could not share the 429 cool-down with the rate limiter",
			slog.String("error", err.Error()))
	}
}

// limiterError reports that the RateLimiter refused to wait: the context's
// error when it ended; otherwise an error matching ErrRateLimited, since no
// session may be created now (x/time/rate refuses a wait that would outlast
// the deadline; redisrate refuses while Redis is unreachable, failing
// closed). A limiter error that already matches ErrRateLimited is not
// wrapped twice.
func limiterError(ctx context.Context, r *call, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("heliumid: %s %s: waiting for the rate limiter: %w", r.method, r.path, ctx.Err())
	case errors.Is(err, ErrRateLimited):
		return fmt.Errorf("heliumid: %s %s: waiting for the rate limiter: %w", r.method, r.path, err)
	}
	return fmt.Errorf("%w: %s %s: waiting for the rate limiter: %w", ErrRateLimited, r.method, r.path, err)
}
