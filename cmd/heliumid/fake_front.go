package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/heliumid/heliumid-go/heliumidtest"

	"github.com/heliumid/heliumid-go/internal/statuswriter"
)

// fakeFront is what "heliumid fake" serves on --addr: the admin endpoints
// under /admin/, and everything else to the heliumidtest.Server's API
// handler, which answers "/api" and a 404 naming it elsewhere. Every request
// is logged, and so is every webhook the Server sends.
type fakeFront struct {
	srv *heliumidtest.Server
	log *log.Logger
	mux *http.ServeMux

	kick     chan struct{} // buffered 1: "webhooks may have been queued"
	stop     context.CancelFunc
	watching sync.WaitGroup
	logged   int // deliveries logged so far; only the watcher touches it
}

func newFakeFront(srv *heliumidtest.Server, logger *log.Logger) *fakeFront {
	f := &fakeFront{srv: srv, log: logger, mux: http.NewServeMux(), kick: make(chan struct{}, 1)}
	f.mux.Handle("/", srv.Handler())
	f.routeAdmin()

	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	f.watching.Add(1)
	go f.watchWebhooks(ctx)
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
		f.log.Printf("%s %s → %s (%v)%s", r.Method, clean(r.URL.RequestURI()), status, time.Since(start).Round(10*time.Microsecond), reqID)
	}()
	f.mux.ServeHTTP(sw, r)
}

// close stops the webhook log after a last look at the deliveries: call it
// after Server.Close, which waits for them.
func (f *fakeFront) close() {
	f.stop()
	f.watching.Wait()
	f.logDeliveries()
}

// webhooksQueued tells the watcher to log the deliveries of changes just
// made.
func (f *fakeFront) webhooksQueued() {
	select {
	case f.kick <- struct{}{}:
	default: // already told
	}
}

// watchWebhooks logs deliveries as they finish, after each change.
func (f *fakeFront) watchWebhooks(ctx context.Context) {
	defer f.watching.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
			if f.srv.WaitWebhooks(ctx) != nil {
				return
			}
			f.logDeliveries()
		}
	}
}

// logDeliveries logs the deliveries finished since the last call. Only the
// watcher calls it, and close once the watcher has stopped.
func (f *fakeFront) logDeliveries() {
	all := f.srv.Deliveries()
	for _, d := range all[min(f.logged, len(all)):] {
		outcome := fmt.Sprintf("%d", d.StatusCode)
		if d.Err != nil {
			outcome = "failed: " + d.Err.Error()
		}
		f.log.Printf("webhook %s %s → %s: %s (%d attempt(s))", d.Event, d.VerificationID, d.Status, outcome, d.Attempts)
	}
	f.logged = len(all)
}
