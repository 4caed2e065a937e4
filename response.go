package heliumid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Body limits: a larger body is an error, never an out-of-memory crash.
const (
	maxSuccessBody = 10 << 20 // 10 MiB
	maxErrorBody   = 1 << 20  // 1 MiB
	keptErrorBody  = 4 << 10  // APIError.Body keeps this much
	maxMessage     = 512      // APIError.Message keeps this much
	maxSnippet     = 200      // of a body that is not the envelope
	maxRequestID   = 128
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
//
// It reads straight into buf's spare capacity, growing it by doubling but
// never past limit+1 bytes, rather than through io.LimitReader and
// bytes.Buffer.ReadFrom: the *io.LimitedReader escapes to the heap (one
// allocation per response), and bytes.Buffer's doubling overshoots the
// limit (a body cut at 10 MiB would grow a 16 MiB buffer).
func readBounded(r io.Reader, limit int64, buf *bytes.Buffer) (tooLarge bool, err error) {
	b := buf.Bytes() // what buf holds, with its spare capacity behind
	for int64(len(b)) <= limit {
		if len(b) == cap(b) {
			b = growBounded(b, limit+1)
		}
		n, rerr := r.Read(b[len(b):int(min(int64(cap(b)), limit+1))])
		b = b[:len(b)+n]
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	*buf = *bytes.NewBuffer(b)
	if int64(len(b)) > limit {
		buf.Truncate(int(limit))
		return true, err
	}
	return false, err
}

// growBounded returns a copy of b with twice its capacity (at least
// bytes.MinRead), but no more than most.
func growBounded(b []byte, most int64) []byte {
	grown := make([]byte, len(b), min(max(2*int64(cap(b)), bytes.MinRead), most))
	copy(grown, b)
	return grown
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
	if tooLarge {
		return c.unexpected(resp.StatusCode, buf.Bytes(), fmt.Sprintf("the body is larger than %d MiB", maxSuccessBody>>20))
	}
	return c.decodeEnvelope(resp.StatusCode, buf.Bytes(), out, true)
}

// decodeEnvelope decodes a 2xx body and checks what it holds. fast allows
// scanEnvelope; tests turn it off to compare with the reference decoding.
func (c *Client) decodeEnvelope(status int, body []byte, out any, fast bool) error {
	var env envelope
	if !fast || !scanEnvelope(body, out, &env) {
		// Anything the fast path does not take on its own goes through
		// encoding/json, which defines the result and the error messages.
		resetValue(out)
		slow := &envelope{Data: out} // not &env: that would move env to the heap on the fast path too
		if err := json.Unmarshal(body, slow); err != nil {
			return c.unexpected(status, body, "the body is not the documented JSON envelope: "+describeJSONError(err))
		}
		env = *slow
	}
	switch {
	case env.Status == nil:
		return c.unexpected(status, body, "the body is not the documented envelope (no \"status\")")
	case !*env.Status:
		return c.newAPIError(status, int(env.Code), env.text(), body)
	case env.Data == nil:
		return c.unexpected(status, body, "the envelope holds no data")
	}
	if v, ok := out.(validator); ok {
		if msg := v.validate(); msg != "" {
			return c.unexpected(status, body, msg)
		}
	}
	return nil
}

// unexpected reports a 2xx response the SDK cannot use.
func (c *Client) unexpected(status int, body []byte, msg string) error {
	e := c.newAPIError(status, 0, msg, body)
	e.kind = ErrUnexpectedResponse
	return e
}

// Shared targets for the *bool fields the fast paths fill (envelope.Status,
// page.hasNext), so they do not allocate a bool per response. Nothing
// writes through these pointers.
var (
	jsonTrue  = true
	jsonFalse = false
)

// scanEnvelope is the fast path of decodeEnvelope. json.Unmarshal of the
// envelope scans the data twice before the data's own decoder starts (with
// the whole body, to validate it; then to find where the data ends), and
// decodes "message" even on success. Here the envelope is walked once, its
// members checked in place and the data handed straight to out's decoder.
//
// It fills env and reports true only where json.Unmarshal would have
// succeeded with the same result: the members are spelled exactly, none is
// repeated, "status" is true or false, "data" is an object or an array out
// decodes without error, and every other member is valid JSON. Anything
// else returns false, with out possibly half-filled; decodeEnvelope then
// starts over with json.Unmarshal. "message", "error" and "code" are only
// validated here, and decoded only when status is false, the only time
// they are used.
func scanEnvelope(body []byte, out any, env *envelope) bool {
	w := jsonWalker{b: body}
	if !w.open('{') {
		return false
	}
	const (
		seenStatus = 1 << iota
		seenMessage
		seenError
		seenCode
		seenData
	)
	var seen int
	var message, errText, code []byte
	// Like envelope{Data: out} in json.Unmarshal: only "data": null (which
	// goes to the slow path) clears it.
	env.Data = out
	for more := w.first(); more; more = w.next() {
		name, val, ok := w.member()
		if !ok {
			return false
		}
		var bit int
		switch string(name) {
		case "status":
			bit = seenStatus
		case "message":
			bit, message = seenMessage, val
		case "error":
			bit, errText = seenError, val
		case "code":
			bit, code = seenCode, val
		case "data":
			bit = seenData
		default:
			// encoding/json matches member names without regard to case:
			// such a member is not ignored there, so not here either.
			if foldsToAny(string(name), envelopeFields[:]) || !json.Valid(val) {
				return false
			}
			continue
		}
		if seen&bit != 0 {
			return false // a repeated member: encoding/json merges them
		}
		seen |= bit
		switch bit {
		case seenStatus:
			switch string(val) {
			case "true":
				env.Status = &jsonTrue
			case "false":
				env.Status = &jsonFalse
			default:
				return false
			}
		case seenMessage, seenError, seenCode:
			if !validJSONValue(val) {
				return false
			}
		case seenData:
			if val[0] != '{' && val[0] != '[' {
				return false
			}
			if !scanData(val, out) {
				return false
			}
		}
	}
	if w.err || !w.end() {
		return false
	}
	if env.Status != nil && !*env.Status {
		// The members an error is made of; messageText and flexInt never
		// fail on valid JSON.
		if message != nil {
			_ = env.Message.UnmarshalJSON(message)
		}
		if errText != nil {
			_ = env.Error.UnmarshalJSON(errText)
		}
		if code != nil {
			_ = env.Code.UnmarshalJSON(code)
		}
	}
	return true
}

// envelopeFields are the names envelope decodes.
var envelopeFields = [...]string{"status", "message", "error", "code", "data"}

// foldsToAny reports whether name equals one of names under case folding,
// the way encoding/json matches an object's members to struct fields
// (strings.EqualFold is the same relation as json's name folding).
func foldsToAny(name string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// validJSONValue reports whether b is one valid JSON value, with a shortcut
// for the usual case of a string without escapes.
func validJSONValue(b []byte) bool {
	if plainJSONString(b) && !hasControlByte(b) {
		return true
	}
	return json.Valid(b)
}

// scanData decodes the envelope's data into out for scanEnvelope: with
// out's own UnmarshalJSON, called directly (as encoding/json would, after
// scanning the data twice more to find where it ends), or with a fast path
// of its own.
func scanData(val []byte, out any) bool {
	switch o := out.(type) {
	case *CreatedVerification:
		return *o == CreatedVerification{} && o.scan(val)
	case json.Unmarshaler:
		return o.UnmarshalJSON(val) == nil
	}
	return json.Unmarshal(val, out) == nil
}

// resetValue sets what out points to back to its zero value, so that a
// decoding that starts over starts from scratch. Only the fallback of a fast
// path uses it.
func resetValue(out any) {
	if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
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
	var env struct {
		Message messageText `json:"message"`
		Error   messageText `json:"error"`
		Code    flexInt     `json:"code"`
	}
	var e *APIError
	if !tooLarge && json.Unmarshal(buf.Bytes(), &env) == nil {
		e = c.newAPIError(resp.StatusCode, int(env.Code), firstNonEmpty(string(env.Message), string(env.Error)), buf.Bytes())
	} else {
		e = c.newAPIError(resp.StatusCode, 0, "", buf.Bytes())
		e.Message = c.snippet(buf.Bytes())
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
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

// snippet turns a non-JSON body into a short, printable message: an HTML
// page's <title>, or the first bytes of the text with whitespace collapsed.
func (c *Client) snippet(body []byte) string {
	if t := htmlTitle(body); len(t) > 0 {
		body = t
	}
	return c.safeText(body, maxSnippet)
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
	return truncateText(cleanText([]byte(err.Error())), maxMessage)
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
	return c.safeText([]byte(id), maxRequestID)
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
	// Kept whole: newAPIError cleans, scrubs and then cuts it.
	if plainJSONString(b) {
		*m = messageText(b[1 : len(b)-1])
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*m = messageText(s)
		return nil
	}
	var list []string
	if json.Unmarshal(b, &list) == nil {
		*m = messageText(strings.Join(list, "; "))
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	*m = messageText(b)
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
