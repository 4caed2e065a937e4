package unprocessed

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The end-to-end proof is the heliumid package's create fault tests, over a
// real HTTP/2 server; these pin the texts the transport is read by.
func TestProven(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "https://h/api", Err: err} }
	cannotRetry := func(cause string) error {
		return wrap(fmt.Errorf("http2: Transport: cannot retry err [%s] after Request.Body was written; define Request.GetBody to avoid this error", cause))
	}
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"dial refused":         {wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		"read reset":           {wrap(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), false},
		"refused stream":       {cannotRetry("stream error: stream ID 3; REFUSED_STREAM"), true},
		"protocol error":       {cannotRetry("stream error: stream ID 3; PROTOCOL_ERROR"), false},
		"graceful GOAWAY":      {cannotRetry("http2: Transport received Server's graceful shutdown GOAWAY"), true},
		"GOAWAY covering it":   {cannotRetry("http2: server sent GOAWAY and closed the connection; LastStreamID=5, ErrCode=NO_ERROR"), false},
		"no tail":              {wrap(errors.New("http2: Transport: cannot retry err [stream error: stream ID 3; REFUSED_STREAM")), false},
		"a server's own words": {wrap(errors.New("REFUSED_STREAM")), false},
		"nil":                  {nil, false},
	} {
		assert.Equal(t, tc.want, Proven(tc.err), name)
	}
}
