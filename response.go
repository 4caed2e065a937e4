package heliumid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/internal/readbuf"
	"github.com/heliumid/heliumid-go/internal/safetext"
)

// Body limits: a larger body is an error, never an out-of-memory crash.
const (
	maxSuccessBody = 10 << 20 // 10 MiB
	maxErrorBody   = 1 << 20  // 1 MiB
	keptErrorBody  = 4 << 10  // APIError.Body keeps this much
)

// What an APIError keeps of server-provided text.
const (
	maxMessage   = 512 // APIError.Message keeps this much
	maxSnippet   = 200 // of a body that is not the envelope
	maxRequestID = 128
)

// envelope is the wrapper of every response:
// {"status": true, "message": "...", "data": {...}, "code": 200}.
// message and code come in more than one shape (see messageFromJSON and
// intFromJSON) and are only converted when the call fails.
type envelope struct {
	Status  *bool           `json:"status"`
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"` // some proxies and frameworks say it here
	Code    json.RawMessage `json:"code"`
	// Data holds a pointer to the endpoint's wire struct, which
	// encoding/json decodes in place, in the same pass as the envelope.
	// "data": null sets it to nil; a missing "data" leaves it.
	Data any `json:"data"`
}

// responseData is implemented by what an endpoint decodes its data into.
// The body is decoded once, by encoding/json, into the plain struct wire
// returns; fromWire then builds the value from it, in one conversion step,
// and says what makes it unusable ("" when nothing does).
type responseData interface {
	wire() any
	fromWire(w any) string
}

// decodeSuccess reads a 2xx body and decodes its envelope's data into out,
// a responseData.
func (c *Client) decodeSuccess(resp *http.Response, out any) error {
	buf, tooLarge, err := readbuf.Read(resp.Body, resp.ContentLength, maxSuccessBody, keptErrorBody)
	defer readbuf.Put(buf)
	if err != nil {
		return fmt.Errorf("heliumid: reading the response: %w", err)
	}
	if tooLarge {
		return c.unexpected(resp.StatusCode, buf.Bytes(), fmt.Sprintf("the body is larger than %d MiB", maxSuccessBody>>20))
	}
	return c.decodeEnvelope(resp.StatusCode, buf.Bytes(), out.(responseData))
}

// decodeEnvelope decodes a 2xx body and checks what it holds.
func (c *Client) decodeEnvelope(status int, body []byte, out responseData) error {
	env := envelope{Data: out.wire()}
	err := json.Unmarshal(body, &env)
	if p, ok := env.Data.(*wirePage); ok && dataIsArray(err) {
		err = p.decodeArray(body, &env) // the other shape of a list
	}
	switch {
	case err != nil:
		return c.unexpected(status, body, "the body is not the documented JSON envelope: "+describeJSONError(err))
	case env.Status == nil:
		return c.unexpected(status, body, "the body is not the documented envelope (no \"status\")")
	case !*env.Status:
		return c.newAPIError(status, intFromJSON(env.Code), messageFromJSON(env.Message, env.Error), body)
	case env.Data == nil:
		return c.unexpected(status, body, "the envelope holds no data")
	}
	if msg := out.fromWire(env.Data); msg != "" {
		return c.unexpected(status, body, msg)
	}
	return nil
}

// unexpected reports a 2xx response the SDK cannot use.
func (c *Client) unexpected(status int, body []byte, msg string) error {
	e := c.newAPIError(status, 0, msg, body)
	e.kind = ErrUnexpectedResponse
	return e
}

// readError reads a non-2xx response into an APIError, whatever its body:
// the envelope, other JSON, HTML from a proxy, plain text or nothing.
func (c *Client) readError(resp *http.Response) *APIError {
	buf, tooLarge, _ := readbuf.Read(resp.Body, resp.ContentLength, maxErrorBody, keptErrorBody)
	defer readbuf.Put(buf)
	var env struct { // any JSON object: error bodies do not all follow the envelope
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
		Code    json.RawMessage `json:"code"`
	}
	var e *APIError
	if !tooLarge && json.Unmarshal(buf.Bytes(), &env) == nil {
		e = c.newAPIError(resp.StatusCode, intFromJSON(env.Code), messageFromJSON(env.Message, env.Error), buf.Bytes())
	} else {
		e = c.newAPIError(resp.StatusCode, 0, "", buf.Bytes())
		e.Message = c.snippet(buf.Bytes())
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// jsonKind tells the type of a JSON value that encoding/json has already
// validated (a json.RawMessage it filled) by its first byte: '"' string,
// '{' object, '[' array, 't' or 'f' boolean, 'n' null, '0' number. An
// absent member (nil) is 'n'.
func jsonKind(raw []byte) byte {
	if len(raw) == 0 {
		return 'n'
	}
	if c := raw[0]; c == '-' || ('0' <= c && c <= '9') {
		return '0'
	}
	return raw[0]
}

// messageFromJSON decodes the envelope's "message" (or else "error"), which
// is usually a string but, from validation layers, sometimes a list of
// strings or an object (kept as its JSON text). It is kept whole:
// newAPIError cleans, scrubs and only then cuts it.
func messageFromJSON(message, errText json.RawMessage) string {
	for _, raw := range [...]json.RawMessage{message, errText} {
		var s string
		var list []string
		switch {
		case jsonKind(raw) == 'n':
		case json.Unmarshal(raw, &s) == nil:
		case json.Unmarshal(raw, &list) == nil:
			s = strings.Join(list, "; ")
		default:
			s = string(raw)
		}
		if s != "" {
			return s
		}
	}
	return ""
}

// intFromJSON decodes a number that may arrive as a JSON number or a
// decimal string; anything else (or a number outside ±2³¹) is 0 rather than
// a failed response.
func intFromJSON(raw json.RawMessage) int {
	switch jsonKind(raw) {
	case '0':
		return parseInt(string(raw))
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return parseInt(s)
		}
	}
	return 0
}

func parseInt(s string) int {
	if i, err := strconv.Atoi(s); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -1<<31 && f <= 1<<31 {
		return int(f)
	}
	return 0
}

// dataIsArray reports whether err is encoding/json's complaint that the
// envelope's data is an array where an object was expected. It is
// returned after the rest of the envelope has been decoded.
func dataIsArray(err error) bool {
	var typ *json.UnmarshalTypeError
	return errors.As(err, &typ) && typ.Field == "data" && typ.Value == "array"
}

// describeJSONError says what encoding/json found wrong, without quoting
// the body.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q holds a JSON %s", fieldPath(typ), typ.Value)
		}
		return "a JSON " + typ.Value + " where an object was expected"
	}
	return safetext.Truncate(safetext.Clean([]byte(err.Error())), maxMessage)
}

// fieldPath is the JSON path of the member a type error is about, without
// the name of the struct wireVerification embeds.
func fieldPath(typ *json.UnmarshalTypeError) string {
	return strings.ReplaceAll(typ.Field, "verificationFields.", "")
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
