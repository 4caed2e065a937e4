package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/internal/loopback"
	"github.com/heliumid/heliumid-go/internal/safetext"
	"github.com/heliumid/heliumid-go/internal/statuswriter"
)

// fakeFront is what "heliumid fake" serves on --addr: the admin endpoints
// under /admin/, and everything else to the heliumidtest.Server's handler,
// which answers the API under "/api", the hosted verification page at
// "/?processId=ID", and a 404 naming "/api" elsewhere. Every request is
// logged (webhook attempts are logged by the Server's observer).
//
// In front of all of it stand two guards, because any web page the
// developer visits can send requests to a port on their machine: a request
// from another site that is not GET or HEAD (Sec-Fetch-Site: cross-site,
// or an Origin other than the Host) is refused with 403, on every path;
// and a fake listening on loopback answers only requests whose Host is a
// loopback name (421 otherwise), which DNS rebinding cannot fake. curl and
// the SDK send neither header and are unaffected.
type fakeFront struct {
	srv     *heliumidtest.Server
	log     *log.Logger
	mux     *http.ServeMux
	guarded http.Handler // mux behind the guards
}

// newFakeFront serves srv; loopbackOnly says the fake listens on loopback,
// so that a Host naming anything else is refused.
func newFakeFront(srv *heliumidtest.Server, logger *log.Logger, loopbackOnly bool) *fakeFront {
	f := &fakeFront{srv: srv, log: logger, mux: http.NewServeMux()}
	f.mux.Handle("/", srv.Handler())
	f.routeAdmin()
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusForbidden, "refused: a request from another web site may not change the fake (only GET and HEAD may come from one); curl, the SDK and the fake's own page are not affected")
	}))
	f.guarded = csrf.Handler(f.mux)
	if loopbackOnly {
		f.guarded = loopback.Only("heliumid fake", f.guarded)
	}
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
	f.guarded.ServeHTTP(sw, r)
}
