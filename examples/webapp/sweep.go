package main

import (
	"context"
	"fmt"
	"iter"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// Helium ID's docs say nothing about redelivering a webhook that failed. A
// decision whose every delivery failed (a deploy, an outage, a 500 of this
// service) would leave the session "started" here for good; the sweep
// catches it by fetching, now and then, every session still undecided and
// applying what it shows, through the same function as the webhooks.
//
// Undecided means a status that can still change without the user starting
// over: not started, started, submitted, and review. Review is included: it
// waits for a person on your side (in Helium ID's dashboard), whose decision
// comes back as a webhook that can be lost like any other. Failed, expired
// and abandoned are not fetched: the user starts a new session. (Helium ID
// allows one resubmission after a failure; its result still reaches this
// service by webhook, and applies, being newer.) Sessions expire after 7
// days, so the sweep's list does not grow without bound.

// sweepReport says what one sweep did.
type sweepReport struct {
	Fetched, Applied, Failed int
}

// sweep fetches every undecided session once and records what each shows.
// A session that cannot be fetched is logged and left for the next sweep;
// a failing database ends the sweep with its error.
func (a *app) sweep(ctx context.Context) (sweepReport, error) {
	var rep sweepReport
	ids, err := a.store.undecided(ctx)
	if err != nil || len(ids) == 0 {
		return rep, err
	}
	for v, err := range getVerifications(ctx, a.client, ids) {
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rep.Failed++
			a.log.Warn("sweep: fetching a session", "err", err)
			continue
		}
		rep.Fetched++
		what, err := a.record(ctx, v, "sweep")
		if err != nil {
			return rep, err
		}
		if what == applied {
			rep.Applied++
		}
	}
	return rep, nil
}

// sweepEvery sweeps at once (catching what changed while this service was
// down), then every interval, until ctx ends.
func (a *app) sweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := a.sweep(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("sweep", "err", err)
		} else if rep.Applied > 0 || rep.Failed > 0 {
			a.log.Info("sweep", "fetched", rep.Fetched, "applied", rep.Applied, "failed", rep.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// getVerifications fetches the sessions ids, one at a time.
//
// TODO(lead): replace with the SDK's GetVerifications/apply helper.
func getVerifications(ctx context.Context, c *heliumid.Client, ids []string) iter.Seq2[*heliumid.Verification, error] {
	return func(yield func(*heliumid.Verification, error) bool) {
		for _, id := range ids {
			v, err := c.GetVerification(ctx, id)
			if err != nil {
				err = fmt.Errorf("session %s: %w", id, err)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}
