package heliumid

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSupersedes(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Millisecond), t0.Add(2*time.Millisecond)
	var none time.Time
	tests := []struct {
		name      string
		incoming  Status
		at        time.Time
		stored    Status
		storedAt  time.Time
		supersede bool
	}{
		{"nothing stored", StatusStarted, t1, "", none, true},
		{"nothing stored, no time", StatusNotStarted, none, "", none, true},
		{"nothing stored, an unknown status", "escalated", none, "", none, true},
		{"an empty status never", "", t2, StatusStarted, t1, false},

		{"newer wins", StatusSubmitted, t2, StatusStarted, t1, true},
		{"older loses", StatusSubmitted, t1, StatusStarted, t2, false},
		{"newer wins against the lifecycle (a resubmission starts)", StatusStarted, t2, StatusFailed, t1, true},
		{"older loses even as a decision", StatusSuccessful, t1, StatusStarted, t2, false},
		{"newer wins between decisions", StatusFailed, t2, StatusSuccessful, t1, true},
		{"same status, newer time: refreshed", StatusReview, t2, StatusReview, t1, true},
		{"a repeat: same status, same time", StatusSuccessful, t1, StatusSuccessful, t1, false},
		{"an unknown status, newer", "escalated", t2, StatusSubmitted, t1, true},

		{"same time: the lifecycle decides, forward", StatusSuccessful, t1, StatusSubmitted, t1, true},
		{"same time: the lifecycle decides, backward", StatusSubmitted, t1, StatusSuccessful, t1, false},
		{"no incoming time: forward", StatusSubmitted, none, StatusStarted, t1, true},
		{"no stored time: forward", StatusSubmitted, t1, StatusStarted, none, true},
		{"no times: a stale status never replaces a decision", StatusStarted, none, StatusFailed, none, false},
		{"no times: a stale status never replaces review", StatusSubmitted, none, StatusReview, none, false},
		{"no times: a repeat", StatusStarted, none, StatusStarted, none, false},
		{"a repeat with the time the row lacks", StatusStarted, t1, StatusStarted, none, true},
		{"a repeat without the time the row has", StatusStarted, none, StatusStarted, t1, false},
		{"no times: review then its decision", StatusFailed, none, StatusReview, none, true},
		{"no times: successful after failed only follows a resubmission", StatusSuccessful, none, StatusFailed, none, true},
		{"no times: review after failed only follows a resubmission", StatusReview, none, StatusFailed, none, true},
		{"no times: failed never replaces successful", StatusFailed, none, StatusSuccessful, none, false},
		{"no times: expiry is a decision", StatusExpired, none, StatusNotStarted, none, true},
		{"no times: expiry of a submitted session (the docs: all sessions expire)", StatusExpired, none, StatusSubmitted, none, true},
		{"no times: a known status replaces an unknown one", StatusStarted, none, "escalated", none, true},
		{"no times: an unknown status replaces no known one", "escalated", none, StatusNotStarted, none, false},
	}
	for _, tt := range tests {
		v := &Verification{ID: "v", Status: tt.incoming, UpdatedAt: tt.at}
		assert.Equal(t, tt.supersede, v.Supersedes(tt.stored, tt.storedAt), tt.name)
	}
	var nilV *Verification
	assert.False(t, nilV.Supersedes("", none))
}

func TestStageOrdersTheLifecycle(t *testing.T) {
	for _, s := range allStatuses {
		for _, next := range nextStatuses[s] {
			assert.Less(t, s.Stage(), next.Stage(), "%s -> %s", s, next)
		}
	}
	assert.Equal(t, 0, Status("").Stage())
	assert.Equal(t, 1, Status("escalated").Stage())
	assert.Equal(t, 6, StatusAbandoned.Stage())
}

// event is one read of a session: a webhook delivery, or a sweep's GET.
type event struct {
	status Status
	at     time.Time // zero: the read carries no updatedAt
}

// resubmitted is a session's life with one resubmission (failed, then
// started again), as Helium ID's session-decisions page allows; round is
// the second round's decision.
func resubmitted(final Status) []event {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var evs []event
	for i, st := range []Status{StatusNotStarted, StatusStarted, StatusSubmitted, StatusFailed, StatusStarted, StatusSubmitted, final} {
		evs = append(evs, event{st, t0.Add(time.Duration(i) * time.Second)})
	}
	return evs
}

// applyAll applies evs in order to an empty row with Supersedes, and
// returns what the row holds at the end.
func applyAll(evs []event) event {
	var row event
	for _, e := range evs {
		v := &Verification{ID: "v", Status: e.status, UpdatedAt: e.at}
		if v.Supersedes(row.status, row.at) {
			row = e
		}
	}
	return row
}

// permutations calls f with every order of evs (Heap's algorithm), in
// place.
func permutations(evs []event, f func([]event)) {
	c := make([]int, len(evs))
	f(evs)
	for i := 0; i < len(evs); {
		if c[i] < i {
			if i%2 == 0 {
				evs[0], evs[i] = evs[i], evs[0]
			} else {
				evs[c[i]], evs[i] = evs[i], evs[c[i]]
			}
			f(evs)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}

// TestSupersedesNeverDropsTheLatestDecision applies a realistic life of a
// session (a failure, a resubmission, a decision), with repeated
// deliveries and a sweep's read among them, in every order, and checks
// that the row always ends with the latest decision.
func TestSupersedesNeverDropsTheLatestDecision(t *testing.T) {
	untimed := func(evs []event) []event {
		out := make([]event, len(evs))
		for i, e := range evs {
			out[i] = event{status: e.status}
		}
		return out
	}
	withRepeats := func(evs []event) []event {
		// The first decision delivered twice, the last one read by a
		// sweep while its webhook was in flight.
		return append(evs, evs[3], evs[len(evs)-1])
	}
	cases := []struct {
		name string
		evs  []event
		want Status
	}{
		{"timed: failed, resubmitted, successful", withRepeats(resubmitted(StatusSuccessful)), StatusSuccessful},
		{"timed: failed, resubmitted, failed again", withRepeats(resubmitted(StatusFailed)), StatusFailed},
		{"timed: failed, resubmitted, review", withRepeats(resubmitted(StatusReview)), StatusReview},
		{"timed: review, then the reviewer's failed", withRepeats(append(resubmitted(StatusReview)[:3], event{StatusReview, resubmitted("")[3].at}, event{StatusFailed, resubmitted("")[4].at})), StatusFailed},
		{"no timestamps: failed, resubmitted, successful", untimed(withRepeats(resubmitted(StatusSuccessful))), StatusSuccessful},
		{"no timestamps: review, then successful", untimed(withRepeats(append(resubmitted("")[:3], event{status: StatusReview}, event{status: StatusSuccessful}))), StatusSuccessful},
	}
	for _, tc := range cases {
		latest := tc.evs[len(tc.evs)-1]
		orders := 0
		permutations(tc.evs, func(order []event) {
			orders++
			got := applyAll(order)
			if got.status != tc.want || (!latest.at.IsZero() && !got.at.Equal(latest.at)) {
				t.Fatalf("%s: applied in the order %v, the row ends with %v", tc.name, order, got)
			}
		})
		assert.Equal(t, factorial(len(tc.evs)), orders, tc.name)
	}
}

// TestSupersedesWithSomeTimestampsMissing: reads that carry updatedAt and
// reads that do not (a webhook without it, a sweep's GET with it), mixed
// at random, in random orders: the decision after a resubmission is never
// dropped.
func TestSupersedesWithSomeTimestampsMissing(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 5))
	base := append(resubmitted(StatusSuccessful), resubmitted(StatusSuccessful)[3], resubmitted(StatusSuccessful)[6])
	for range 20000 {
		evs := make([]event, len(base))
		for i, e := range base {
			if rng.IntN(2) == 0 {
				e.at = time.Time{}
			}
			evs[i] = e
		}
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		if got := applyAll(evs); got.status != StatusSuccessful {
			t.Fatalf("applied in the order %v, the row ends with %v", evs, got)
		}
	}
}

// TestSupersedesAmbiguityIsSettledByATimedRead: without timestamps, review
// and failed cannot be ordered (a reviewer's failure, or a resubmission's
// review); whatever the row then holds, the next read that carries
// updatedAt, as a sweep's does, sets it right.
func TestSupersedesAmbiguityIsSettledByATimedRead(t *testing.T) {
	for _, final := range []Status{StatusReview, StatusFailed} {
		life := resubmitted(final)
		if final == StatusFailed { // review, then the reviewer's failure: no resubmission
			life = append(life[:3], event{StatusReview, life[3].at}, event{StatusFailed, life[4].at})
		}
		untimed := make([]event, len(life))
		for i, e := range life {
			untimed[i] = event{status: e.status}
		}
		sweep := life[len(life)-1]
		permutations(untimed, func(order []event) {
			got := applyAll(append(append([]event(nil), order...), sweep))
			if got != sweep {
				t.Fatalf("%v then the sweep's %v: the row ends with %v", order, sweep, got)
			}
		})
	}
}

func factorial(n int) int {
	if n <= 1 {
		return 1
	}
	return n * factorial(n-1)
}

func (e event) String() string {
	if e.at.IsZero() {
		return string(e.status)
	}
	return fmt.Sprintf("%s@%s", e.status, e.at.Format("05"))
}
