package heliumid

import (
	"context"
	"time"
)

// Every wait of the SDK (backoff, Retry-After, cool-downs, polling, a
// connection of the default transport) goes through sleep, and so ends
// when its context ends, as the SDK promises.

// sleep waits for d or until ctx ends. It returns nil after the full wait
// and ctx's error otherwise. A d of zero or less does not wait, but still
// reports a context that has already ended.
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

// outlastsDeadline reports whether waiting d from now would end after
// ctx's deadline, so that a caller can fail at once instead of waiting in
// vain.
func outlastsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Now().Add(d).After(deadline)
}
