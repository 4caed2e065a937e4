// Package statuswriter records the status an http.Handler answered, for the
// request logs of the fake server (heliumidtest) and of `heliumid fake`.
package statuswriter

import "net/http"

// Writer wraps an http.ResponseWriter and remembers the first status written
// to it. Status stays 0 when the handler wrote nothing, as when it hijacked
// and dropped the connection.
type Writer struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records code and passes it on.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection underneath, so a
// handler can still hijack it (the fake's Failure.Drop does).
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
