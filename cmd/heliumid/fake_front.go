package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/internal/safetext"
	"github.com/heliumid/heliumid-go/internal/statuswriter"
)

// fakeFront is what "heliumid fake" serves on --addr: the admin endpoints
// under /admin/, and everything else to the heliumidtest.Server's API
// handler, which answers "/api" and a 404 naming it elsewhere. Every request
// is logged (webhook attempts are logged by the Server's observer).
type fakeFront struct {
	srv *heliumidtest.Server
	log *log.Logger
	mux *http.ServeMux
}

func newFakeFront(srv *heliumidtest.Server, logger *log.Logger) *fakeFront {
	f := &fakeFront{srv: srv, log: logger, mux: http.NewServeMux()}
	f.mux.Handle("/", srv.Handler())
	f.routeAdmin()
	return f
}

// ServeHTTP logs each request with what it was answered.
func (f *fakeFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statuswriter.Writer{ResponseWriter: w}
	defer func() {
		// A dropped connection (Failure.Drop) leaves the status at 0.
		status := "connection dropped"
		if sw.Status != 0 {
			status = fmt.Sprint(sw.Status)
		}
		reqID := sw.Header().Get("X-Request-Id")
		if reqID != "" {
			reqID = " " + reqID
		}
		f.log.Printf("%s %s → %s (%v)%s", safetext.Truncate(clean(r.Method), 16), safetext.Truncate(clean(r.URL.RequestURI()), 200), status, time.Since(start).Round(10*time.Microsecond), reqID)
	}()
	f.mux.ServeHTTP(sw, r)
}
