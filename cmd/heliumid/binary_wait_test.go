package main

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a terminal 40 columns wide, wait's status line keeps the status and
// cuts the id; the decision is printed once, by the result line.
func TestBinaryWaitOnANarrowTerminal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the test opens a pseudo-terminal the Linux way")
	}
	controller, terminal := openPTY(t, 40)
	srv, env := newFake(t)
	id := newSession(t, srv, nil)

	c := exec.Command(heliumidBinary(t), "wait", "--interval", "2ms", id)
	c.Env = environ(env)
	c.Stdout, c.Stderr = terminal, terminal
	before := len(srv.Requests())
	require.NoError(t, c.Start())
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(controller) // until EIO: the terminal is closed
		out <- string(b)
	}()
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		// Two polls that arrived after the last change, so that the line
		// has shown it.
		waitForRequests(t, srv, before+2)
		require.NoError(t, srv.SetStatus(id, st))
		before = len(srv.Requests())
	}
	require.NoError(t, c.Wait())
	terminal.Close() // the last one open: the reader sees the end
	screen := <-out

	frames := strings.Split(screen, "\r\x1b[K")
	require.Greater(t, len(frames), 3, "%q", screen)
	line := regexp.MustCompile(`^7e570000-[-0-9]*…: (not started|started|submitted), \d+s elapsed$`)
	shown := map[string]bool{}
	for _, f := range frames[1 : len(frames)-1] {
		assert.LessOrEqual(t, utf8.RuneCountInString(f), 39, "%q", f)
		if m := line.FindStringSubmatch(f); assert.NotNil(t, m, "the id cut, the status whole: %q", f) {
			shown[m[1]] = true
		}
	}
	assert.Len(t, shown, 3, "%q", screen)
	assert.Equal(t, id+": successful (2010)\r\n", frames[len(frames)-1], "the line erased, then the result")
	assert.Equal(t, 1, strings.Count(screen, "successful"), "%q", screen)
}

// Standard output and error joined ("2>&1 | ..."): the decision is printed
// once, by the result line; apart, the status lines say it too.
func TestBinaryWaitPrintsTheDecisionOnce(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	c := exec.Command(heliumidBinary(t), "wait", "--interval", "1ms", id)
	c.Env = environ(env)
	c.Stdout, c.Stderr = w, w
	require.NoError(t, c.Start())
	w.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	err = c.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, exitReview, exit.ExitCode())
	assert.Equal(t, id+": review\n", string(b))

	res := runBinary(t, env, "wait", "--interval", "1ms", id)
	assert.Equal(t, exitReview, res.code)
	assert.Equal(t, id+": review\n", res.stderr, "a log of its own keeps the decision")
	assert.Equal(t, id+": review\n", res.stdout)
}
