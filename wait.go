package heliumid

import (
	"context"
	"fmt"
	"time"
)

// Default polling intervals of WaitForDecision (see WithPollInterval).
const (
	defaultPollFirst = time.Second
	defaultPollMax   = 30 * time.Second
)

// WaitForDecision polls GetVerification until the session has a decision, or
// ctx ends. It asks at once, then after 1 s, 2 s, 4 s … up to every 30 s
// (see WithPollInterval), and
// returns the session when its status is terminal (successful, failed,
// expired, abandoned) or review (your side must act; see
// [Status.IsDecided]). Give ctx a deadline: a session nobody opens takes 7
// days to expire.
//
// Transient failures (5xx, 429, network errors), once GetVerification's own
// retries are spent, do not end the wait; it polls again at the next
// interval. A permanent one (ErrNotFound, ErrUnauthorized, ErrBadRequest,
// ErrUnexpectedResponse) is returned at once. When ctx ends first, the error
// wraps ctx's error and the last session read (nil if none) is returned with
// it, so you can see where it stood. In production prefer webhooks: polling
// spends requests.
func (c *Client) WaitForDecision(ctx context.Context, id string, opts ...Option) (*Verification, error) {
	cfg, err := c.startCall(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := validateID(id); err != nil {
		return nil, err
	}
	var last *Verification
	var lastErr error
	for delay := cfg.pollFirst; ; delay = doubled(delay, cfg.pollMax) {
		v, err := c.getVerification(ctx, cfg, id)
		switch {
		case err == nil:
			last, lastErr = v, nil
			if v.Status.IsDecided() {
				return v, nil
			}
		case ctx.Err() != nil || !IsTransient(err):
			return last, err
		default:
			lastErr = err
		}
		if err := sleep(ctx, delay); err != nil {
			return last, waitError(id, last, lastErr, err)
		}
	}
}

func waitError(id string, last *Verification, lastErr, ctxErr error) error {
	where := "before any status was read"
	if last != nil {
		where = fmt.Sprintf("at status %q", last.Status)
	}
	if lastErr != nil {
		return fmt.Errorf("heliumid: waiting for a decision on %s, stopped %s (last error: %v): %w", id, where, lastErr, ctxErr)
	}
	return fmt.Errorf("heliumid: waiting for a decision on %s, stopped %s: %w", id, where, ctxErr)
}
