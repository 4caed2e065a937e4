// Package ctxwait is how every package of this repository waits: for a
// duration, or until a context ends, whichever comes first. The SDK promises
// that every wait (backoff, Retry-After, cool-downs, polling, webhook
// retries) ends with its context; keeping that in one place keeps the
// promise.
package ctxwait

import (
	"context"
	"time"
)

// Sleep waits for d or until ctx ends. It returns nil after the full wait and
// ctx's error otherwise. A d of zero or less does not wait, but still
// reports a context that has already ended.
func Sleep(ctx context.Context, d time.Duration) error {
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

// OutlastsDeadline reports whether waiting d from now would end after ctx's
// deadline, so a caller can fail at once instead of waiting in vain.
func OutlastsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Now().Add(d).After(deadline)
}
