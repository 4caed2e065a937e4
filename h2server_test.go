package heliumid

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Action is how the frame-level server answers one request, given the
// 1-based number of the requests it has received so far.
type h2Action func(fr *http2.Framer, streamID uint32) (closeConn bool)

// h2Server speaks HTTP/2 frame by frame over TLS, so a test can answer a
// request with what net/http's own server never sends on purpose (a reset
// after reading the body, a GOAWAY that does or does not cover the stream)
// and count what arrived.
type h2Server struct {
	URL    string // base URL, with the /api prefix
	client *http.Client

	mu       sync.Mutex
	requests []string // "METHOD path" of each request, in arrival order
	answer   func(n int) h2Action
}

// newH2Server starts a server that answers the n-th request (1-based) with
// answer(n), and returns it with an HTTP/2 client that trusts it.
func newH2Server(t *testing.T, answer func(n int) h2Action) *h2Server {
	t.Helper()
	// An httptest TLS server only to borrow its certificate and a client
	// that trusts it; the frames are this file's own.
	cert := httptest.NewUnstartedServer(nil)
	cert.EnableHTTP2 = true
	cert.StartTLS()
	tlsConfig := &tls.Config{Certificates: cert.TLS.Certificates, NextProtos: []string{"h2"}}
	client := cert.Client()
	cert.Close()

	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	require.NoError(t, err)
	s := &h2Server{URL: "https://" + ln.Addr().String() + "/api", client: client, answer: answer}
	var (
		served sync.WaitGroup
		connMu sync.Mutex
		open   []net.Conn
	)
	t.Cleanup(func() {
		client.CloseIdleConnections()
		ln.Close()
		connMu.Lock()
		for _, c := range open {
			c.Close()
		}
		connMu.Unlock()
		served.Wait()
	})
	served.Add(1)
	go func() {
		defer served.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			connMu.Lock()
			open = append(open, conn)
			connMu.Unlock()
			served.Add(1)
			go func() {
				defer served.Done()
				defer conn.Close()
				s.serveConn(conn)
			}()
		}
	}()
	return s
}

func (s *h2Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func (s *h2Server) serveConn(conn net.Conn) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(conn, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if fr.WriteSettings() != nil {
		return
	}
	pending := map[uint32]string{} // streams whose body has not ended yet
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		var ended uint32
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && fr.WriteSettingsAck() != nil {
				return
			}
		case *http2.PingFrame:
			if !f.IsAck() && fr.WritePing(true, f.Data) != nil {
				return
			}
		case *http2.MetaHeadersFrame:
			pending[f.StreamID] = f.PseudoValue("method") + " " + f.PseudoValue("path")
			if f.StreamEnded() {
				ended = f.StreamID
			}
		case *http2.DataFrame:
			if f.StreamEnded() {
				ended = f.StreamID
			}
		}
		if ended == 0 {
			continue
		}
		s.mu.Lock()
		s.requests = append(s.requests, pending[ended])
		n := len(s.requests)
		s.mu.Unlock()
		delete(pending, ended)
		if s.answer(n)(fr, ended) {
			return
		}
	}
}

// h2Respond answers with status and body.
func h2Respond(status int, body string) h2Action {
	return func(fr *http2.Framer, id uint32) bool {
		var block bytes.Buffer
		enc := hpack.NewEncoder(&block)
		_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(status)})
		_ = enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/json"})
		_ = enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(body))})
		if fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true}) != nil {
			return true
		}
		return fr.WriteData(id, true, []byte(body)) != nil
	}
}

// h2Reset resets the stream after its request was read.
func h2Reset(code http2.ErrCode) h2Action {
	return func(fr *http2.Framer, id uint32) bool {
		return fr.WriteRSTStream(id, code) != nil
	}
}

// h2GoAway sends GOAWAY naming lastStream (covering the request when it is
// at least the request's stream id) and closes the connection.
func h2GoAway(covering bool, code http2.ErrCode) h2Action {
	return func(fr *http2.Framer, id uint32) bool {
		last := id
		if !covering {
			last = max(id, 2) - 2 // client streams are odd: the one before this, or none
		}
		_ = fr.WriteGoAway(last, code, nil)
		return true
	}
}
