package heliumid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Body limits: a larger body is an error, never an out-of-memory crash.
const (
	maxSuccessBody = 10 << 20 // 10 MiB
	maxErrorBody   = 1 << 20  // 1 MiB
	keptErrorBody  = 4 << 10  // APIError.Body keeps this much
	maxMessage     = 512      // APIError.Message keeps this much
)

// bufPool recycles response buffers: most bodies are small, and reading each
// into a fresh buffer would allocate on every call.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 64 << 10

func getBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return // let an unusually large buffer go rather than pin it
	}
	b.Reset()
	bufPool.Put(b)
}

// readBounded reads r into buf, at most limit bytes. tooLarge reports that
// r held more; buf then holds the first limit bytes.
func readBounded(r io.Reader, limit int64, buf *bytes.Buffer) (tooLarge bool, err error) {
	_, err = buf.ReadFrom(io.LimitReader(r, limit+1))
	if int64(buf.Len()) > limit {
		buf.Truncate(int(limit))
		return true, err
	}
	return false, err
}

// envelope is the wrapper of every response:
// {"status": true, "message": "...", "data": {...}, "code": 200}.
type envelope struct {
	Status  *bool       `json:"status"`
	Message messageText `json:"message"`
	Error   messageText `json:"error"` // some proxies and frameworks say it here
	Code    flexInt     `json:"code"`
	Data    any         `json:"data"` // holds the caller's pointer: decoded in place, in one pass
}

// decodeSuccess reads a 2xx body and decodes its envelope's data into out.
func (c *Client) decodeSuccess(resp *http.Response, out any) error {
	buf := getBuffer()
	defer putBuffer(buf)
	tooLarge, err := readBounded(resp.Body, maxSuccessBody, buf)
	if err != nil {
		return fmt.Errorf("heliumid: reading the response: %w", err)
	}
	unexpected := func(msg string) error {
		return &APIError{StatusCode: resp.StatusCode, Message: msg, Body: c.keep(buf.Bytes()), kind: ErrUnexpectedResponse}
	}
	if tooLarge {
		return unexpected(fmt.Sprintf("the body is larger than %d MiB", maxSuccessBody>>20))
	}
	env := envelope{Data: out}
	if err := json.Unmarshal(buf.Bytes(), &env); err != nil {
		return unexpected("the body is not the documented JSON envelope: " + describeJSONError(err))
	}
	switch {
	case env.Status == nil:
		return unexpected("the body is not the documented envelope (no \"status\")")
	case !*env.Status:
		return &APIError{StatusCode: resp.StatusCode, Code: int(env.Code), Message: c.scrub(env.text()), Body: c.keep(buf.Bytes())}
	case env.Data == nil:
		return unexpected("the envelope holds no data")
	}
	if v, ok := out.(validator); ok {
		if msg := v.validate(); msg != "" {
			return unexpected(msg)
		}
	}
	return nil
}

// validator is implemented by response types that check what they decoded.
type validator interface {
	validate() string // a description of what is wrong, or ""
}

// readError reads a non-2xx response into an APIError, whatever its body:
// the envelope, other JSON, HTML from a proxy, plain text or nothing.
func (c *Client) readError(resp *http.Response) *APIError {
	buf := getBuffer()
	defer putBuffer(buf)
	tooLarge, _ := readBounded(resp.Body, maxErrorBody, buf)
	e := &APIError{
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Body:       c.keep(buf.Bytes()),
	}
	var env struct {
		Message messageText `json:"message"`
		Error   messageText `json:"error"`
		Code    flexInt     `json:"code"`
	}
	if !tooLarge && json.Unmarshal(buf.Bytes(), &env) == nil {
		e.Code = int(env.Code)
		e.Message = c.scrub(firstNonEmpty(string(env.Message), string(env.Error)))
	} else {
		e.Message = c.scrub(snippet(buf.Bytes()))
	}
	return e
}

func (env *envelope) text() string {
	return firstNonEmpty(string(env.Message), string(env.Error))
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// keep returns a copy of at most keptErrorBody bytes of body, without the
// API key.
func (c *Client) keep(body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	kept := bytes.Clone(body[:min(len(body), keptErrorBody)])
	if key := c.auth.key; bytes.Contains(kept, []byte(key)) {
		kept = bytes.ReplaceAll(kept, []byte(key), []byte("[REDACTED]"))
	}
	return kept
}

// scrub removes the API key from server-provided text, should a server or
// proxy ever echo it, so it cannot reach an error string or a log.
func (c *Client) scrub(s string) string {
	return strings.ReplaceAll(s, c.auth.key, "[REDACTED]")
}

// snippet turns a non-JSON body into a short, printable message: an HTML
// page's <title>, or the first bytes of the text with whitespace collapsed.
func snippet(body []byte) string {
	if t := htmlTitle(body); len(t) > 0 {
		body = t
	}
	return cleanText(body, 200)
}

func htmlTitle(body []byte) []byte {
	lower := bytes.ToLower(body[:min(len(body), 4096)])
	i := bytes.Index(lower, []byte("<title>"))
	if i < 0 {
		return nil
	}
	rest := body[i+len("<title>") : len(lower)]
	j := bytes.Index(bytes.ToLower(rest), []byte("</title>"))
	if j < 0 {
		return nil
	}
	return bytes.TrimSpace(rest[:j])
}

// cleanText makes untrusted bytes safe to print: valid UTF-8, no control
// characters, runs of whitespace collapsed, at most limit bytes (then "…").
func cleanText(b []byte, limit int) string {
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
		if sb.Len()+utf8.RuneLen(r) > limit {
			sb.WriteString("…")
			break
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			// The name of Verification's decoding helper type is noise.
			return fmt.Sprintf("field %q holds a JSON %s", strings.TrimPrefix(typ.Field, "verificationFields."), typ.Value)
		}
		return "a JSON " + typ.Value + " where an object was expected"
	}
	return cleanText([]byte(err.Error()), maxMessage)
}

// requestID returns the request id Helium ID (or a proxy) put on the
// response, for support tickets.
func (c *Client) requestID(h http.Header) string {
	id := h.Get("X-Request-Id")
	if id == "" {
		id = h.Get("Request-Id")
	}
	if id == "" {
		return ""
	}
	return c.scrub(cleanText([]byte(id), 128))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It returns 0 when the header is absent, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		secs, err = math.MaxUint64, nil // absurdly long, but still "wait": it must exceed any cap
	}
	if err == nil {
		const maxSecs = uint64(math.MaxInt64) / uint64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// messageText decodes the envelope's "message", which is usually a string
// but, from validation layers, sometimes a list or an object.
type messageText string

func (m *messageText) UnmarshalJSON(b []byte) error {
	if plainJSONString(b) {
		*m = messageText(cleanText(b[1:len(b)-1], maxMessage))
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*m = messageText(cleanText([]byte(s), maxMessage))
		return nil
	}
	var list []string
	if json.Unmarshal(b, &list) == nil {
		*m = messageText(cleanText([]byte(strings.Join(list, "; ")), maxMessage))
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	*m = messageText(cleanText(b, maxMessage))
	return nil
}

// flexInt decodes a number that may arrive as a JSON number or a decimal
// string; anything else decodes as 0 rather than failing the response.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if i, err := strconv.Atoi(s); err == nil {
		*n = flexInt(i)
	} else if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -1<<31 && f <= 1<<31 {
		*n = flexInt(int(f))
	}
	return nil
}

// plainJSONString reports whether b is a JSON string without escapes, whose
// content is then b[1:len(b)-1] as is.
func plainJSONString(b []byte) bool {
	return len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0
}
