// Package readbuf reads HTTP bodies into pooled buffers, never past a
// limit: a larger body is an error for the caller, never an out-of-memory
// crash.
//
// Buffers are pooled by size class, so that a walk through pages of 100
// sessions (about 117 KiB each) reuses page-sized buffers, a get (about
// 1 KiB) takes a small one, and no buffer over the largest class (1 MiB) is
// kept: one unusually large body must not pin its buffer for the life of
// the process.
package readbuf

import (
	"bytes"
	"io"
	"sync"
)

var (
	classes = [...]int64{4 << 10, 32 << 10, 256 << 10, 1 << 20}
	pools   [len(classes)]sync.Pool
)

// sizeClass returns the index of the smallest class holding n bytes, or -1
// when n is over the largest.
func sizeClass(n int64) int {
	for i, c := range classes {
		if n <= c {
			return i
		}
	}
	return -1
}

// Get returns an empty buffer for a body of unknown size.
func Get() *bytes.Buffer { return getFor(-1) }

// getFor returns an empty buffer for a body of size bytes (negative:
// unknown). A known size gets room for the whole body and the read that
// sees its end, allocated at once instead of regrown from 512 bytes.
func getFor(size int64) *bytes.Buffer {
	want := size + 1
	class := sizeClass(max(want, 0))
	var buf *bytes.Buffer
	if class >= 0 {
		buf, _ = pools[class].Get().(*bytes.Buffer)
	}
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	if size >= 0 && int64(buf.Cap()) < want {
		*buf = *bytes.NewBuffer(make([]byte, 0, want))
	}
	return buf
}

// Put returns buf to the pool of its size, unless it is over the largest
// class.
func Put(buf *bytes.Buffer) {
	class := sizeClass(int64(buf.Cap()))
	if class < 0 {
		return
	}
	buf.Reset()
	pools[class].Put(buf)
}

// Read reads r, a body of contentLength bytes (negative: unknown), into a
// pooled buffer (give it back with Put), at most limit bytes: tooLarge
// reports that the body held more. The Content-Length, when known, sizes
// the buffer; one over the limit is believed without allocating anything
// for it: only the first keep bytes are read, for an error to quote.
func Read(r io.Reader, contentLength, limit, keep int64) (buf *bytes.Buffer, tooLarge bool, err error) {
	if contentLength > limit {
		buf = Get()
		_, err = Bounded(r, keep, buf)
		return buf, true, err
	}
	buf = getFor(contentLength)
	tooLarge, err = Bounded(r, limit, buf)
	return buf, tooLarge, err
}

// Bounded reads r into buf, at most limit bytes. tooLarge reports that r
// held more; buf then holds the first limit bytes.
//
// It reads straight into buf's spare capacity, growing it by doubling but
// never past limit+1 bytes, rather than through io.LimitReader and
// bytes.Buffer.ReadFrom: the *io.LimitedReader escapes to the heap (one
// allocation per response), and bytes.Buffer's doubling overshoots the
// limit (a body cut at 10 MiB would grow a 16 MiB buffer).
func Bounded(r io.Reader, limit int64, buf *bytes.Buffer) (tooLarge bool, err error) {
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
