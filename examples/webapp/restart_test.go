package main

import (
	"path/filepath"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example stopped and started again on the same -db file loses
// nothing: users, sessions, decisions; an open session is still reused;
// and a decision made while it was down arrives by the sweep it runs at
// start (its webhooks went nowhere).
func TestARestartLosesNothing(t *testing.T) {
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "webapp.db")
	w := startWithFake(t, fake, "-db", db)

	_, alice := w.verify(t, "alice")
	require.NoError(t, fake.Decide(alice, heliumid.StatusSuccessful))
	bobLink, bob := w.verify(t, "bob")
	_, carol := w.verify(t, "carol")
	require.NoError(t, fake.SetStatus(carol, heliumid.StatusStarted))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	w.stop()

	// Down: carol's decision is made, its webhooks fail.
	require.NoError(t, fake.Decide(carol, heliumid.StatusFailed))
	require.NoError(t, fake.WaitWebhooks(t.Context()))

	w = startWithFake(t, fake, "-db", db)
	assert.Equal(t, status{"alice", alice, heliumid.StatusSuccessful}, w.status(t, "alice"))
	assert.Equal(t, status{"bob", bob, heliumid.StatusNotStarted}, w.status(t, "bob"))
	link, _ := w.verify(t, "bob")
	assert.Equal(t, bobLink, link, "bob's open session is reused")
	require.Eventually(t, func() bool { return w.status(t, "carol").Status == heliumid.StatusFailed }, 10*time.Second, 5*time.Millisecond,
		"the sweep at start catches what changed while the example was down")
	assert.Contains(t, w.logs.String(), `source=sweep session=`+carol)
	assert.Contains(t, w.get(t, "/").Body, `<tr data-user="alice">`)

	// And webhooks reach the new instance.
	require.NoError(t, fake.Decide(bob, heliumid.StatusSuccessful))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	assert.Equal(t, status{"bob", bob, heliumid.StatusSuccessful}, w.status(t, "bob"))
}
