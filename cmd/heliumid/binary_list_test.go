package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With more sessions than --limit, list says which it showed and how many
// follow, and the command it names shows them: the session created last
// is not silently missing.
func TestBinaryListSaysWhatFollows(t *testing.T) {
	srv, env := newFake(t)
	var ids []string
	for range 25 {
		ids = append(ids, newSession(t, srv, nil))
	}
	newest := ids[24]

	r := runBinary(t, env, "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	rows := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")[1:]
	assert.Len(t, rows, 20)
	assert.NotContains(t, r.stdout, newest, "the fake lists the oldest first")
	next := "heliumid list --page 2"
	assert.Contains(t, r.stderr, "sessions 1–20 of 25 shown, in the server's order; the next 5: "+next+"\n")

	r = runBinary(t, env, strings.Fields(next)[1:]...)
	require.Equal(t, exitOK, r.code, r.stderr)
	rows = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")[1:]
	require.Len(t, rows, 5)
	assert.Contains(t, rows[4], newest)
	assert.Contains(t, r.stderr, "sessions 21–25 of 25 shown, in the server's order\n")

	// Everything on one page: no note.
	r = runBinary(t, env, "list", "--limit", "25")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "shown")
}
