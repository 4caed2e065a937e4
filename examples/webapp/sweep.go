package main

import (
	"context"
	"time"
)

// Helium ID's docs say nothing about redelivering a webhook that failed. A
// decision whose every delivery failed (a deploy, an outage, a 500 of this
// service) would leave the session "started" here for good; the sweep
// catches it by fetching, now and then, every session whose status can
// still change, and applying what it shows through the same function as
// the webhooks.
//
// Which sessions: not started, started, submitted and review, until they
// reach a decision; and, while the session lives (7 days), failed ones and
// any with a status this SDK does not know. Review is included: it waits
// for a person on your side (in Helium ID's dashboard), whose decision
// comes back as a webhook that can be lost like any other. Failed is
// included because Helium ID allows one resubmission after a failure, on
// the same session, whose decision can be lost too. Successful, expired and
// abandoned are final. Sessions expire after 7 days, so the list does not
// grow without bound.

// sweepReport says what one sweep did.
type sweepReport struct {
	Fetched, Applied, Failed int
}

// sweep fetches every undecided session once and records what each shows.
// A session that cannot be fetched is logged and left for the next sweep;
// a failing database ends the sweep with its error.
func (a *app) sweep(ctx context.Context) (sweepReport, error) {
	var rep sweepReport
	ids, err := a.store.undecided(ctx, time.Now())
	if err != nil || len(ids) == 0 {
		return rep, err
	}
	// Several at once (8), each failure a *heliumid.FetchError naming its
	// id; the read cool-down after a 429 holds them all.
	for v, err := range a.client.GetVerifications(ctx, ids) {
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
