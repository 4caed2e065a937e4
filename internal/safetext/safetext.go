// Package safetext makes untrusted text (what a server, a proxy or a
// request sends) safe to print in an error, a log record or a terminal.
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Clean makes untrusted bytes safe to print: valid UTF-8, no control
// characters (no terminal escape sequence, no forged log line), runs of
// whitespace collapsed to one space, no leading or trailing space.
func Clean(b []byte) string {
	var sb strings.Builder
	space := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			r = '\uFFFD'
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			space = sb.Len() > 0
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			continue
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// Truncate cuts s to at most limit bytes at a rune boundary, marking the
// cut with "…".
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
