package statuswriter

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriterRecordsTheFirstStatus(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &Writer{ResponseWriter: rec}
	w.WriteHeader(http.StatusTeapot)
	w.WriteHeader(http.StatusOK) // superfluous: ignored by net/http too
	if w.Status != http.StatusTeapot || rec.Code != http.StatusTeapot {
		t.Fatalf("recorded %d, wrote %d; want 418", w.Status, rec.Code)
	}

	w = &Writer{ResponseWriter: httptest.NewRecorder()}
	if _, err := w.Write([]byte("x")); err != nil || w.Status != http.StatusOK {
		t.Fatalf("an implicit status is 200, recorded %d (%v)", w.Status, err)
	}

	w = &Writer{ResponseWriter: rec}
	if w.Unwrap() != rec || w.Status != 0 {
		t.Fatal("Unwrap must expose the wrapped writer; nothing written means status 0")
	}
}
