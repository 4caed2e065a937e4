package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutputNeutralisesServerText(t *testing.T) {
	v := &heliumid.Verification{
		ID:         "id\x1b[2J",
		Status:     "odd\tstatus",
		Reason:     "line one\nline two \x1b]0;title\x07",
		VendorData: "user\r42",
		Meta:       map[string]any{"n": 2.0, "ok": true, "s": "a\x1bb", "nested": map[string]any{"k": "v"}},
	}
	var details, table bytes.Buffer
	require.NoError(t, writeDetails(&details, v, false))
	require.NoError(t, writeTable(&table, []*heliumid.Verification{v}, true))
	for _, out := range []string{details.String(), table.String()} {
		assert.NotContains(t, out, "\x1b")
		assert.NotContains(t, out, "\r")
		assert.NotContains(t, out, "\x07")
	}
	assert.Contains(t, details.String(), `Meta         n=2 nested={"k":"v"} ok=true s=ab`)
	assert.Contains(t, details.String(), "Reason       line one line two")
	assert.Equal(t, 2, strings.Count(table.String(), "\n"), "one header, one row: no line breaks from the server")
	assert.Contains(t, details.String(), "Created      -", "an unknown time is a dash")
}

func TestWithoutPersonalDataCopies(t *testing.T) {
	v := &heliumid.Verification{ID: "x", DocumentInfo: &heliumid.DocumentInfo{FirstName: "JANE"}}
	out, hidden := withoutPersonalData(v, false)
	assert.True(t, hidden)
	assert.Nil(t, out.DocumentInfo)
	assert.NotNil(t, v.DocumentInfo, "the caller's value is left alone")

	out, hidden = withoutPersonalData(v, true)
	assert.False(t, hidden)
	assert.Equal(t, "JANE", out.DocumentInfo.FirstName)

	_, hidden = withoutPersonalData(&heliumid.Verification{ID: "x"}, false)
	assert.False(t, hidden, "nothing to hide")
}

func TestStatusLineOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	l := &statusLine{w: &buf, id: "id", tty: true, width: 80, start: time.Now()}
	l.show(heliumid.StatusStarted, "")
	l.show(heliumid.StatusStarted, "")
	l.show(heliumid.StatusSubmitted, "retrying: 503")
	l.close()
	l.close()
	assert.Equal(t, "\r\x1b[Kid: started, 0s elapsed\r\x1b[Kid: started, 0s elapsed\r\x1b[Kid: submitted (retrying: 503), 0s elapsed\n", buf.String(),
		"one line rewritten in place, ended once")
	tty, _ := (&cli{env: lookup(nil)}).terminal(&buf)
	assert.False(t, tty)
}

// A status line wider than the terminal wraps, and \r then rewrites only
// its last row: every line must fit, and what is cut is the id, never the
// status.
func TestStatusLineFitsTheTerminal(t *testing.T) {
	var buf bytes.Buffer
	id := "7e570000-0000-4000-8000-000000000001"
	l := &statusLine{w: &buf, id: id, tty: true, width: 40, start: time.Now().Add(-90 * time.Second)}
	l.show(heliumid.StatusStarted, "retrying: GET /v1/verifications/"+id+": 503 Service Unavailable")
	l.show(heliumid.StatusSubmitted, "")
	l.close()
	assert.Equal(t, "\r\x1b[K7e57000…: started, 1m30s elapsed"+
		"\r\x1b[K7e570000-000…: submitted, 1m30s elapsed\n", buf.String())

	note := "retrying: 503 Service Unavailable"
	for width := 1; width <= 120; width++ {
		for _, st := range []string{"not started", "successful"} {
			line := fitStatus(id, st, note, "1m30s", width)
			assert.Contains(t, line, st, "width %d: the status is never cut", width)
			if utf8.RuneCountInString(st) < width {
				assert.LessOrEqual(t, utf8.RuneCountInString(line), width-1, "width %d: %q", width, line)
			}
		}
	}
	assert.Equal(t, id+": started ("+note+"), 1m30s elapsed", fitStatus(id, "started", note, "1m30s", 120))
	assert.Equal(t, "7e570000-0…: started (retrying: 503 Service Unavailable), 1m30s elapsed", fitStatus(id, "started", note, "1m30s", 72),
		"the id cut first")
	assert.Equal(t, "7e57000…: started (retrying: 503…), 1m30s elapsed", fitStatus(id, "started", note, "1m30s", 50),
		"then the note")
	assert.Equal(t, "7e57000…: not started, 1m30s elapsed", fitStatus(id, "not started", note, "1m30s", 40), "then the note dropped")
	assert.Equal(t, "7e57000…: not started", fitStatus(id, "not started", note, "1m30s", 30), "then the time")
	assert.Equal(t, "7e…: not started", fitStatus(id, "not started", note, "1m30s", 17), "then the rest of the id")
	assert.Equal(t, "not started", fitStatus(id, "not started", note, "1m30s", 8), "the status alone, whole, however narrow")
}

func TestTerminalWidthFromCOLUMNS(t *testing.T) {
	// Not a terminal: no width, whatever COLUMNS says.
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	tty, width := (&cli{env: lookup(map[string]string{"COLUMNS": "120"})}).terminal(f)
	assert.False(t, tty)
	assert.Zero(t, width)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	tty, _ = (&cli{env: lookup(nil)}).terminal(null)
	assert.False(t, tty, "/dev/null is a character device but not a terminal")
}
