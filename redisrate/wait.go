package redisrate

import (
	"context"
	"time"
)

// These two helpers are the core's sleep and outlastsDeadline (sleep.go),
// written again on purpose. redisrate is its own module, released apart from the core: an
// import of the core's internal/ packages would tie each redisrate release to
// one core version's unexported code, which may change in any release. Ten
// lines are cheaper than that coupling, and than making them public API.

// sleep waits for d or until ctx ends. It returns nil after the full wait and
// ctx's error otherwise. A d of zero or less does not wait, but still reports
// a context that has already ended.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// outlastsDeadline reports whether waiting d from now would end after ctx's
// deadline, so a caller can fail at once instead of waiting in vain.
func outlastsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Now().Add(d).After(deadline)
}

// human formats d for a message: rounded to the millisecond, and never
// negative (a wait that is already over reads as 0s).
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).String()
}
