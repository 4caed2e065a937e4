package heliumid

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// Body limits: a larger body is an error, never an out-of-memory crash.
const (
	maxSuccessBody = 10 << 20 // 10 MiB
	maxErrorBody   = 1 << 20  // 1 MiB
	keptErrorBody  = 4 << 10  // APIError.Body keeps this much
)

// bufPool recycles response buffers: most bodies are small, and reading each
// into a fresh buffer would allocate on every call.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 64 << 10

func getBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return // let an unusually large buffer go rather than pin it
	}
	b.Reset()
	bufPool.Put(b)
}

// readBody reads resp's body into a pooled buffer (give it back with
// putBuffer), at most limit bytes: tooLarge reports that the body held
// more.
func readBody(resp *http.Response, limit int64) (buf *bytes.Buffer, tooLarge bool, err error) {
	buf = getBuffer()
	tooLarge, err = readBounded(resp.Body, limit, buf)
	return buf, tooLarge, err
}

// readBounded reads r into buf, at most limit bytes. tooLarge reports that
// r held more; buf then holds the first limit bytes.
//
// It reads straight into buf's spare capacity, growing it by doubling but
// never past limit+1 bytes, rather than through io.LimitReader and
// bytes.Buffer.ReadFrom: the *io.LimitedReader escapes to the heap (one
// allocation per response), and bytes.Buffer's doubling overshoots the
// limit (a body cut at 10 MiB would grow a 16 MiB buffer).
func readBounded(r io.Reader, limit int64, buf *bytes.Buffer) (tooLarge bool, err error) {
	b := buf.Bytes() // what buf holds, with its spare capacity behind
	for int64(len(b)) <= limit {
		if len(b) == cap(b) {
			b = growBounded(b, limit+1)
		}
		n, rerr := r.Read(b[len(b):int(min(int64(cap(b)), limit+1))])
		b = b[:len(b)+n]
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	*buf = *bytes.NewBuffer(b)
	if int64(len(b)) > limit {
		buf.Truncate(int(limit))
		return true, err
	}
	return false, err
}

// growBounded returns a copy of b with twice its capacity (at least
// bytes.MinRead), but no more than most.
func growBounded(b []byte, most int64) []byte {
	grown := make([]byte, len(b), min(max(2*int64(cap(b)), bytes.MinRead), most))
	copy(grown, b)
	return grown
}
