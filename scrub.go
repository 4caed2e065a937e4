package heliumid

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/heliumid/heliumid-go/internal/safetext"
)

// Everything a server (or a proxy, or the network) says can reach an error
// string, an APIError field or a log record; a broken or hostile server may
// echo the API key into any of it, as is or escaped. Each such text passes
// through here, and always in the same order: cleaned, then the key
// removed, then cut to its size. Cutting first could leave part of a key
// that straddles the cut, and cleaning after removing could join a key that
// arrived split by control characters. (Only what can be kept is scanned
// for the key: see keyForms.replacePrefix.)

// keyForms finds an API key in text as is and in the forms JSON and URLs
// give it, in any mix, byte by byte: a JSON escape ("\/" as PHP writes a
// slash, "\u00XX" for any byte, in either case), a URL's %XX (either case),
// and the same escaped again, as a JSON body quoted in another, or a URL
// encoded twice, gives them ("\\\/", "\\u00XX", "%25XX").
type keyForms struct {
	key string
	re  *regexp.Regexp
}

// The deepest escaping recognised: up to 8 backslashes before an escape
// (JSON quoted in JSON quoted in JSON, and one more), up to 3 "25" after a
// '%'.
const (
	maxBackslashes = 8
	maxPercent25   = 3
)

func newKeyForms(key string) *keyForms {
	var pattern strings.Builder
	for i := 0; i < len(key); i++ {
		b := key[i]
		hex := fmt.Sprintf("(?i:%02x)", b)
		fmt.Fprintf(&pattern, `(?:%s|\\{1,%d}(?i:u00)%s|%%(?:25){0,%d}%s`, regexp.QuoteMeta(string(b)), maxBackslashes, hex, maxPercent25, hex)
		switch b {
		case '/', '"', '\\':
			fmt.Fprintf(&pattern, `|\\{1,%d}%s`, maxBackslashes, regexp.QuoteMeta(string(b)))
		}
		pattern.WriteByte(')')
	}
	return &keyForms{key: key, re: regexp.MustCompile(pattern.String())}
}

// longest is the most bytes a form of the key can take.
func (f *keyForms) longest() int {
	return len(f.key) * (maxBackslashes + len("u00XX"))
}

// replace returns s with every form of the key replaced by [REDACTED].
// Every escaped form holds a '\' or a '%': without them, the key can only be
// there as is, and is looked for as is.
func (f *keyForms) replace(s string) string {
	if !strings.ContainsAny(s, `\%`) {
		return strings.ReplaceAll(s, f.key, redacted)
	}
	return f.re.ReplaceAllLiteralString(s, redacted)
}

// replacePrefix returns replace(s) cut to at most limit bytes, scanning
// only what that needs: on an error path, a hostile server's 10 MiB body
// must not cost seconds of matching. It reads no further than enough(limit)
// bytes of s, and scans those a window at a time, taking from each window
// only the matches that start early enough to end inside it: the matches a
// scan of the whole of s finds there.
func (f *keyForms) replacePrefix(s string, limit int) string {
	s = s[:min(len(s), f.enough(limit))]
	if !strings.ContainsAny(s, `\%`) {
		s = strings.ReplaceAll(s, f.key, redacted)
		return s[:min(len(s), limit)]
	}
	var out strings.Builder
	longest := f.longest()
	for len(s) > 0 && out.Len() < limit {
		window := min(len(s), limit+2*longest)
		settled := window - longest // a match starting before it ends inside the window
		if window == len(s) {
			settled = window
		}
		done, from := settled, 0
		for _, m := range f.re.FindAllStringIndex(s[:window], -1) {
			if m[0] >= settled {
				break
			}
			out.WriteString(s[from:m[0]])
			out.WriteString(redacted)
			from, done = m[1], max(done, m[1])
		}
		out.WriteString(s[from:done])
		s = s[done:]
	}
	kept := out.String()
	return kept[:min(len(kept), limit)]
}

// enough is how much of a text the first limit bytes of its replacement
// depend on: each form of the key takes at most longest bytes and leaves
// len(redacted), every other byte stays, so past this the output is
// already limit bytes long, whatever the text holds.
func (f *keyForms) enough(limit int) int {
	return limit + (limit/len(redacted)+2)*f.longest()
}

// safeText makes server-provided bytes printable (see safetext.Clean), removes
// the API key and keeps at most limit bytes (then "…").
func (c *Client) safeText(b []byte, limit int) string {
	// One byte more than limit: enough for Truncate to see that the text
	// goes on, and to cut it between runes.
	return safetext.Truncate(c.auth.keyForms().replacePrefix(safetext.Clean(b), limit+1), limit)
}

// keep returns a copy of at most keptErrorBody bytes of body, for
// APIError.Body, without the API key.
func (c *Client) keep(body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	forms := c.auth.keyForms()
	return []byte(forms.replacePrefix(string(body[:min(len(body), forms.enough(keptErrorBody))]), keptErrorBody))
}

// scrub removes the API key from text.
func (c *Client) scrub(s string) string {
	return c.auth.keyForms().replace(s)
}

// scrubTransport returns err (from the transport, or a middleware) unless its
// text holds the API key, as it does when a server echoes the key into a
// malformed header line that net/http then quotes. Such an error is replaced
// by a scrubbed copy that still answers errors.Is for the conditions the
// SDK and its callers test (deadlines, cancellation, timeouts), but no longer
// hands out the original error, whose text would show the key.
func (c *Client) scrubTransport(err error) error {
	if err == nil {
		return err
	}
	msg := err.Error()
	scrubbed := c.scrub(msg)
	if scrubbed == msg {
		return err
	}
	s := &scrubbedError{msg: scrubbed}
	for _, target := range []error{context.DeadlineExceeded, context.Canceled, ErrUnexpectedResponse} {
		if errors.Is(err, target) {
			s.is = append(s.is, target)
		}
	}
	var ne net.Error
	s.timeout = errors.As(err, &ne) && ne.Timeout()
	return s
}

// scrubbedError is a transport error with the API key taken out of its text.
type scrubbedError struct {
	msg     string
	is      []error // the sentinels the original matched
	timeout bool
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.is }

// Timeout makes a scrubbed timeout still a net.Error timeout.
func (e *scrubbedError) Timeout() bool { return e.timeout }

// Temporary is part of net.Error; it reports the same as Timeout.
func (e *scrubbedError) Temporary() bool { return e.timeout }
