package heliumidtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// envelope wraps every JSON response, success or error, as the API does:
// {"status": true, "message": "...", "data": {...}, "code": 200}. Errors
// carry "status": false, "data": null and the HTTP status in "code".
type envelope struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
	Code    int    `json:"code"`
}

// writeEnvelope writes an enveloped JSON response with HTTP status code.
func writeEnvelope(w http.ResponseWriter, code int, ok bool, msg string, data any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links hold "?" and "=": keep them readable
	if err := enc.Encode(envelope{Status: ok, Message: msg, Data: data, Code: code}); err != nil {
		// Only the Server's own types are encoded here; this is a bug, but
		// the client still gets a well-formed error rather than half a body.
		buf.Reset()
		code = http.StatusInternalServerError
		_ = enc.Encode(envelope{Message: "heliumidtest: encoding the response: " + err.Error(), Code: code})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// writeError writes an error envelope.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeEnvelope(w, code, false, msg, nil)
}
