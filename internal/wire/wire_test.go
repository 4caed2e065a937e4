package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                                 0,
		"0":                                0,
		"5":                                5 * time.Second,
		" 120 ":                            2 * time.Minute,
		"-3":                               0,
		"1.5":                              0,
		"soon":                             0,
		"99999999999999999999":             time.Duration(1<<63-1) / time.Second * time.Second,
		"Sat, 28 Nov 2026 12:00:30 GMT":    30 * time.Second,
		"Sat, 28 Nov 2026 11:59:00 GMT":    0,
		"Saturday, 28-Nov-26 12:01:00 GMT": time.Minute,
	}
	for in, want := range tests {
		assert.Equal(t, want, RetryAfter(in, now), in)
	}
}

func TestInt(t *testing.T) {
	for in, want := range map[string]int{
		``: 0, `null`: 0, `42`: 42, `-7`: -7, `"42"`: 42, `" 42"`: 0, `4.2e1`: 42, `"2010"`: 2010,
		`true`: 0, `{}`: 0, `[1]`: 0, `1e12`: 0, `"x"`: 0,
	} {
		assert.Equal(t, want, Int(json.RawMessage(in)), in)
	}
}

func TestMessage(t *testing.T) {
	for in, want := range map[[2]string]string{
		{`"bad input"`, ``}:      "bad input",
		{``, `"from error"`}:     "from error",
		{`""`, `"from error"`}:   "from error",
		{`["a","b"]`, ``}:        "a; b",
		{`{"field":"x"}`, ``}:    `{"field":"x"}`,
		{`null`, `null`}:         "",
		{`["a",5]`, `"ignored"`}: `["a",5]`,
		{`12`, ``}:               "12",
	} {
		assert.Equal(t, want, Message(json.RawMessage(in[0]), json.RawMessage(in[1])), "%q", in)
	}
}

func TestTime(t *testing.T) {
	want := time.Date(2026, 11, 28, 12, 0, 0, 123e6, time.UTC)
	for _, in := range []string{
		`"2026-11-28T12:00:00.123Z"`, `"2026-11-28T12:00:00.123+00:00"`, `"2026-11-28T12:00:00.123"`,
		`"2026-11-28 12:00:00.123Z"`, `1795867200123`,
	} {
		assert.True(t, want.Equal(Time(json.RawMessage(in))), in)
	}
	for _, in := range []string{``, `null`, `""`, `"yesterday"`, `true`, `1.5`, `{}`} {
		assert.True(t, Time(json.RawMessage(in)).IsZero(), in)
	}
}

func TestKind(t *testing.T) {
	for in, want := range map[string]string{
		``: "null", `null`: "null", `"s"`: "string", `-1`: "number", `0`: "number", `{}`: "object", `[]`: "array", `true`: "bool", `false`: "bool",
	} {
		assert.Equal(t, want, KindName([]byte(in)), in)
	}
}

func TestHTMLTitle(t *testing.T) {
	assert.Equal(t, "502 Bad Gateway", string(HTMLTitle([]byte("<html><head><TITLE> 502 Bad Gateway </title></head>"))))
	assert.Nil(t, HTMLTitle([]byte("<html><title>never closed")))
	assert.Nil(t, HTMLTitle([]byte("plain text")))
}
