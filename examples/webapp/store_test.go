package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testStore opens a store on an SQLite file of the test's own.
func testStore(t *testing.T) (*store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "webapp.db")
	st, err := openStore(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st, path
}

// addTestSession records a not started session id for a user of its own.
func addTestSession(t *testing.T, st *store, id string) {
	t.Helper()
	u, err := st.signUp(t.Context(), "user of "+id)
	require.NoError(t, err)
	require.NoError(t, st.addSession(t.Context(), u, &heliumid.CreatedVerification{ID: id, Link: "http://127.0.0.1:1/?processId=" + id}))
}

// event is what a webhook or a fetch says of session id.
func event(id string, st heliumid.Status, at time.Time) *heliumid.Verification {
	return &heliumid.Verification{ID: id, Status: st, UpdatedAt: at}
}

func recorded(t *testing.T, st *store, id string) session {
	t.Helper()
	s, ok, err := st.session(t.Context(), id)
	require.NoError(t, err)
	require.True(t, ok, id)
	return s
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// A session's history with a resubmission: submitted, failed, then started
// again, submitted and successful, each change later than the one before. Whatever order the
// deliveries arrive in (webhooks, repeats, the sweep's fetches), what is
// recorded at the end is the latest: successful at its own updatedAt.
func TestApplyKeepsTheLatestInEveryOrder(t *testing.T) {
	st, _ := testStore(t)
	history := []*heliumid.Verification{
		event("", heliumid.StatusSubmitted, t0.Add(2*time.Millisecond)),
		event("", heliumid.StatusFailed, t0.Add(3*time.Millisecond)),
		event("", heliumid.StatusStarted, t0.Add(4*time.Millisecond)), // the resubmission
		event("", heliumid.StatusSubmitted, t0.Add(5*time.Millisecond)),
		event("", heliumid.StatusSuccessful, t0.Add(6*time.Millisecond)),
	}
	orders := permutations(len(history))
	require.Len(t, orders, 120)
	for n, order := range orders {
		id := fmt.Sprintf("s%03d", n)
		addTestSession(t, st, id)
		for _, i := range order {
			v := *history[i]
			v.ID = id
			_, _, err := st.apply(t.Context(), &v)
			require.NoError(t, err)
		}
		s := recorded(t, st, id)
		if !assert.Equal(t, heliumid.StatusSuccessful, s.Status, "order %v", order) ||
			!assert.Equal(t, t0.Add(6*time.Millisecond), s.UpdatedAt, "order %v", order) {
			return
		}
	}
}

// Without updatedAt the lifecycle decides (Status.Stage): forward steps
// apply, repeats and steps back do not, and after a failure only a
// resubmission's decision (successful or review) applies.
func TestApplyWithoutTimestampsFollowsTheLifecycle(t *testing.T) {
	st, _ := testStore(t)
	addTestSession(t, st, "s1")
	for _, c := range []struct {
		st   heliumid.Status
		want outcome
	}{
		{heliumid.StatusSubmitted, applied}, // a step skipped: still forward
		{heliumid.StatusStarted, stale},     // back
		{heliumid.StatusSubmitted, stale},   // a repeat
		{heliumid.StatusFailed, applied},
		{heliumid.StatusStarted, stale},      // a resubmission's start cannot be told from a stale one
		{heliumid.StatusSubmitted, stale},    // nor its submission
		{heliumid.StatusSuccessful, applied}, // its decision can: after failed, only a resubmission leads there
		{heliumid.StatusFailed, stale},       // a decision is not replaced by another without updatedAt
	} {
		got, _, err := st.apply(t.Context(), event("s1", c.st, time.Time{}))
		require.NoError(t, err)
		assert.Equal(t, c.want, got, c.st)
	}
	assert.Equal(t, heliumid.StatusSuccessful, recorded(t, st, "s1").Status)

	// A timestamp on one side only: the lifecycle still decides, and the
	// recorded updatedAt is the applied event's, missing included.
	addTestSession(t, st, "s2")
	got, _, err := st.apply(t.Context(), event("s2", heliumid.StatusStarted, t0))
	require.NoError(t, err)
	require.Equal(t, applied, got)
	got, s, err := st.apply(t.Context(), event("s2", heliumid.StatusSubmitted, time.Time{}))
	require.NoError(t, err)
	assert.Equal(t, applied, got)
	assert.True(t, s.UpdatedAt.IsZero(), "submitted came without updatedAt")
	got, _, err = st.apply(t.Context(), event("s2", heliumid.StatusStarted, t0.Add(time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, stale, got, "submitted cannot go back to started")
	got, s, err = st.apply(t.Context(), event("s2", heliumid.StatusSubmitted, t0.Add(time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, applied, got, "the same status, with the time the row lacked")
	assert.Equal(t, t0.Add(time.Hour), s.UpdatedAt)
}

// The sweep fetched the decision; the webhooks that failed earlier arrive
// after it (redelivered, or a slow sender): none of them undoes it.
func TestAStaleWebhookAfterTheSweepChangesNothing(t *testing.T) {
	st, _ := testStore(t)
	addTestSession(t, st, "s1")
	got, _, err := st.apply(t.Context(), event("s1", heliumid.StatusSuccessful, t0.Add(3*time.Millisecond))) // the sweep
	require.NoError(t, err)
	require.Equal(t, applied, got)
	for i, s := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		got, rec, err := st.apply(t.Context(), event("s1", s, t0.Add(time.Duration(i+1)*time.Millisecond)))
		require.NoError(t, err)
		assert.Equal(t, stale, got, s)
		assert.Equal(t, heliumid.StatusSuccessful, rec.Status)
	}
}

// The guarded UPDATE says what the SDK's rule, Verification.Supersedes,
// says: for every recorded status (and one this SDK does not know), every
// incoming one (and unknown ones, and none), with and without updatedAt on
// either side, earlier, equal and later.
func TestTheSQLRuleIsTheSDKsRule(t *testing.T) {
	st, _ := testStore(t)
	u, err := st.signUp(t.Context(), "ann")
	require.NoError(t, err)
	times := map[string]struct{ stored, incoming time.Time }{
		"neither has one":    {},
		"only stored has":    {t0, time.Time{}},
		"only incoming has":  {time.Time{}, t0},
		"incoming earlier":   {t0, t0.Add(-time.Millisecond)},
		"equal":              {t0, t0},
		"incoming later":     {t0, t0.Add(time.Millisecond)},
		"one nanosecond off": {t0, t0.Add(time.Nanosecond)},
	}
	n := 0
	for _, stored := range append(allStatuses, "paused") {
		for _, incoming := range append(allStatuses, "paused", "on hold", "") {
			for name, tt := range times {
				n++
				id := fmt.Sprintf("s%d", n)
				_, err := st.db.ExecContext(t.Context(), `INSERT INTO sessions (id, user_id, link, status, stage, updated_at, created_at) VALUES (?, ?, '', ?, ?, ?, 0)`,
					id, u.ID, stored, stored.Stage(), nanos(tt.stored))
				require.NoError(t, err)

				v := event(id, incoming, tt.incoming)
				want := v.Supersedes(stored, tt.stored)
				got, rec, err := st.apply(t.Context(), v)
				require.NoError(t, err)
				if !assert.Equal(t, want, got == applied, "recorded %q, incoming %q, %s", stored, incoming, name) {
					continue
				}
				if want {
					assert.Equal(t, session{ID: id, UserID: u.ID, Status: incoming, UpdatedAt: tt.incoming}, rec, "recorded as v says")
				}
			}
		}
	}
}

// A webhook and the sweep (or two deliveries) applying at once are
// serialized by the database: the latest wins whatever the interleaving.
func TestConcurrentAppliesKeepTheLatest(t *testing.T) {
	st, _ := testStore(t)
	for round := range 20 {
		id := fmt.Sprintf("s%d", round)
		addTestSession(t, st, id)
		statuses := []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview, heliumid.StatusFailed}
		var wg sync.WaitGroup
		for _, i := range rand.Perm(len(statuses)) {
			for range 2 { // each twice: a webhook and a fetch
				wg.Go(func() {
					_, _, err := st.apply(t.Context(), event(id, statuses[i], t0.Add(time.Duration(i+1)*time.Millisecond)))
					assert.NoError(t, err)
				})
			}
		}
		wg.Wait()
		s := recorded(t, st, id)
		assert.Equal(t, heliumid.StatusFailed, s.Status, id)
		assert.Equal(t, t0.Add(4*time.Millisecond), s.UpdatedAt, id)
	}
}

// An event about a session this service did not create is reported, and
// creates nothing.
func TestApplyToAnUnknownSession(t *testing.T) {
	st, _ := testStore(t)
	got, _, err := st.apply(t.Context(), event("nobody", heliumid.StatusStarted, t0))
	require.NoError(t, err)
	assert.Equal(t, unknownSession, got)
	_, ok, err := st.session(t.Context(), "nobody")
	require.NoError(t, err)
	assert.False(t, ok)
}

// Users, sessions, statuses and their timestamps are in the file: a store
// opened again on it finds them all.
func TestTheStoreSurvivesReopening(t *testing.T) {
	st, path := testStore(t)
	addTestSession(t, st, "s1")
	addTestSession(t, st, "s2")
	_, _, err := st.apply(t.Context(), event("s1", heliumid.StatusSuccessful, t0))
	require.NoError(t, err)
	before, err := st.statuses(t.Context())
	require.NoError(t, err)
	require.NoError(t, st.Close())

	again, err := openStore(t.Context(), path)
	require.NoError(t, err)
	defer again.Close()
	after, err := again.statuses(t.Context())
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.Equal(t, session{ID: "s1", UserID: 1, Link: "http://127.0.0.1:1/?processId=s1", Status: heliumid.StatusSuccessful, UpdatedAt: t0}, recorded(t, again, "s1"))
	ids, err := again.undecided(t.Context(), time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{"s2"}, ids)
}

// A user's status is their successful session if they have one, else
// their latest.
func TestAUsersStatusIsTheirSuccessfulOrLatestSession(t *testing.T) {
	st, _ := testStore(t)
	u, err := st.signUp(t.Context(), "ann")
	require.NoError(t, err)
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, st.addSession(t.Context(), u, &heliumid.CreatedVerification{ID: id, Link: "l"}))
	}
	us, _, err := st.status(t.Context(), "ann")
	require.NoError(t, err)
	assert.Equal(t, "c", us.Session.ID, "the latest")
	_, _, err = st.apply(t.Context(), event("b", heliumid.StatusSuccessful, t0))
	require.NoError(t, err)
	us, _, err = st.status(t.Context(), "ann")
	require.NoError(t, err)
	assert.Equal(t, "b", us.Session.ID, "verified stays verified")
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// allStatuses are the statuses a session can be recorded with.
var allStatuses = []heliumid.Status{
	heliumid.StatusNotStarted, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview,
	heliumid.StatusSuccessful, heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned,
}
