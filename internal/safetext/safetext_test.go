package safetext

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"plain":                     "plain",
		"  a \t\r\n b  ":            "a b",
		"esc\x1b[31mred":            "esc[31mred",
		"bell\x07 del\x7f":          "bell del",
		"c1\u0085\u009bx":           "c1x",
		"bad \xff utf8":             "bad \uFFFD utf8",
		"forged\nlevel=ERROR msg=x": "forged level=ERROR msg=x",
		"ünïcode ✓":                 "ünïcode ✓",
	} {
		assert.Equal(t, want, Clean([]byte(in)), "%q", in)
	}
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "short", Truncate("short", 5))
	assert.Equal(t, "shor…", Truncate("short", 4))
	assert.Equal(t, "…", Truncate("short", 0))
	// Never inside a rune: "é" is two bytes.
	assert.Equal(t, "a…", Truncate("aé", 2))
	assert.Equal(t, "aé…", Truncate("aéb", 3))
}
