package heliumid

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/internal/readbuf"
	"github.com/heliumid/heliumid-go/internal/safetext"
	"github.com/heliumid/heliumid-go/internal/wire"
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
// message and code come in more than one shape (see wire.Message and
// wire.Int) and are only converted when the call fails.
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
		return fmt.Errorf("heliumid: reading the response: %w", c.scrubTransport(err))
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
		return c.newAPIError(status, wire.Int(env.Code), wire.Message(env.Message, env.Error), body)
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
		e = c.newAPIError(resp.StatusCode, wire.Int(env.Code), wire.Message(env.Message, env.Error), buf.Bytes())
	} else {
		e = c.newAPIError(resp.StatusCode, 0, "", buf.Bytes())
		e.Message = c.snippet(buf.Bytes())
	}
	e.RetryAfter = wire.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
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
	if t := wire.HTMLTitle(body); len(t) > 0 {
		body = t
	}
	return c.safeText(body, maxSnippet)
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
