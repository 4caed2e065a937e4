package main

import (
	"sync"

	heliumid "github.com/heliumid/heliumid-go"
)

// session is what this server records of a verification session.
type session struct {
	ID     string
	User   string
	Link   string
	Status heliumid.Status
}

// store keeps sessions in memory, safe for concurrent use. A real service
// keeps them in its database and applies a webhook in one transaction (or a
// conditional UPDATE on the stored status), so that concurrent deliveries
// cannot interleave.
type store struct {
	mu       sync.Mutex
	sessions map[string]*session // by session id
	byUser   map[string]string   // user → id of their latest session
}

func newStore() *store {
	return &store{sessions: map[string]*session{}, byUser: map[string]string{}}
}

// add records a session just created for user as their latest.
func (st *store) add(user string, c *heliumid.CreatedVerification) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sessions[c.ID] = &session{ID: c.ID, User: user, Link: c.Link, Status: heliumid.StatusNotStarted}
	st.byUser[user] = c.ID
}

// latest returns user's latest session.
func (st *store) latest(user string) (session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[st.byUser[user]]
	if !ok {
		return session{}, false
	}
	return *s, true
}

// apply records status for session id when the recorded status can lead to
// it. A repeated or out-of-order delivery (the recorded status cannot reach
// the incoming one), or a status this SDK does not know, changes nothing:
// that makes the webhook handler idempotent. It returns the session as
// recorded afterwards, whether the session is known, and whether it changed.
func (st *store) apply(id string, status heliumid.Status) (s session, known, applied bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	rec, ok := st.sessions[id]
	if !ok {
		return session{}, false, false
	}
	if rec.Status.CanReach(status) {
		rec.Status = status
		applied = true
	}
	return *rec, true, applied
}
