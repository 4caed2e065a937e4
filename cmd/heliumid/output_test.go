package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

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
	assert.Contains(t, details.String(), `Meta         n=2 nested={"k":"v"} ok=true s=a b`)
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
	l := &statusLine{w: &buf, id: "id", tty: true, start: time.Now()}
	l.show(heliumid.StatusStarted, "")
	l.show(heliumid.StatusStarted, "")
	l.show(heliumid.StatusSubmitted, "retrying: 503")
	l.close()
	l.close()
	assert.Equal(t, "\r\x1b[Kid: started, waiting 0s\r\x1b[Kid: started, waiting 0s\r\x1b[Kid: submitted (retrying: 503), waiting 0s\n", buf.String(),
		"one line rewritten in place, ended once")
	assert.False(t, isTerminal(&buf))
}
