package heliumidtest

import (
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// lastInstant is as far as the Server's clock goes: the last millisecond
// that RFC 3339, and so the API's timestamps, can write.
var lastInstant = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// clock is the Server's time. Virtual (the default), it reads base, which
// only Advance moves. Following the wall clock ([WithWallClock]), it reads
// base plus the real time elapsed since began, measured on the monotonic
// clock, so it never goes back even when the system clock is set back.
type clock struct {
	base  time.Time // no monotonic reading: only Add and comparisons
	began time.Time // zero: virtual; else the wall-clock instant base refers to
}

func newClock(start time.Time, wall bool) clock {
	c := clock{base: start.UTC().Round(0).Truncate(time.Millisecond)}
	if wall {
		c.began = time.Now()
	}
	return c
}

// now reads the clock, in whole milliseconds (the precision of the API's
// timestamps), and never past lastInstant.
func (c *clock) now() time.Time {
	t := c.base
	if !c.began.IsZero() {
		t = t.Add(time.Since(c.began))
	}
	if t.After(lastInstant) {
		return lastInstant
	}
	return t.Truncate(time.Millisecond)
}

// advance moves the clock forward by d > 0, stopping at lastInstant.
// (time.Time.Add does not overflow for any Duration: a Time spans far
// more than the ±292 years a Duration can hold.)
func (c *clock) advance(d time.Duration) {
	c.base = c.base.Add(d)
	if c.base.After(lastInstant) {
		c.base = lastInstant
	}
}

// tick reads the clock and applies what the time brought: every session
// whose lifetime ended by now and that had no decision changes status, as
// heliumid.Status.OnExpiry says, at the instant it expired, with a webhook
// each, in creation order. The caller holds s.mu.
//
// Sessions are in creation order and createdAt never decreases, so their
// expiry instants are in order too: s.expiryNext is the first session whose
// expiry is still ahead, and each session is looked at once.
func (s *Server) tick() time.Time {
	now := s.clock.now()
	for s.expiryNext < len(s.order) {
		sess := s.order[s.expiryNext]
		expiry := sess.createdAt.Add(heliumid.SessionLifetime)
		if expiry.After(now) {
			break
		}
		if next, ok := sess.status.OnExpiry(); ok {
			s.change(sess, next, expiry)
		}
		s.expiryNext++
	}
	return now
}
