package readbuf

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The limits of a success body in the heliumid package.
const (
	limit = 10 << 20
	keep  = 4 << 10
)

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += n
	return n, err
}

func bodyReader(body []byte) *countingReader {
	return &countingReader{r: bytes.NewReader(body)}
}

func TestRead(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 117<<10)

	t.Run("a Content-Length sizes the buffer at once", func(t *testing.T) {
		buf, tooLarge, err := Read(bodyReader(body), int64(len(body)), limit, keep)
		require.NoError(t, err)
		assert.False(t, tooLarge)
		assert.Equal(t, body, buf.Bytes())
		assert.Equal(t, len(body)+1, buf.Cap(), "the body and the read that sees its end, no more")
		Put(buf)
	})

	t.Run("a wrong Content-Length is only a hint", func(t *testing.T) {
		for _, cl := range []int64{-1, 0, 10, int64(len(body)) * 2} {
			buf, tooLarge, err := Read(bodyReader(body), cl, limit, keep)
			require.NoError(t, err)
			assert.False(t, tooLarge)
			assert.Equal(t, body, buf.Bytes(), "Content-Length %d", cl)
			Put(buf)
		}
	})

	t.Run("a Content-Length over the limit allocates nothing for it", func(t *testing.T) {
		cr := bodyReader(body)
		buf, tooLarge, err := Read(cr, limit+1, limit, keep)
		require.NoError(t, err)
		assert.True(t, tooLarge)
		assert.Equal(t, keep, buf.Len(), "what an error quotes")
		assert.LessOrEqual(t, cr.n, keep+1)
		assert.Less(t, buf.Cap(), 64<<10)
		Put(buf)
	})

	t.Run("without a Content-Length, the limit still holds", func(t *testing.T) {
		r := bodyReader(body)
		buf, tooLarge, err := Read(r, -1, 100<<10, keep)
		require.NoError(t, err)
		assert.True(t, tooLarge)
		assert.Equal(t, 100<<10, buf.Len())
		assert.LessOrEqual(t, buf.Cap(), 100<<10+1)
		Put(buf)
	})

	t.Run("page-sized buffers are reused", func(t *testing.T) {
		read := func() {
			buf, _, err := Read(bodyReader(body), int64(len(body)), limit, keep)
			require.NoError(t, err)
			Put(buf)
		}
		read()
		const reads = 50
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range reads {
			read()
		}
		runtime.ReadMemStats(&after)
		// A fresh buffer for every read would be reads × 117 KiB. The race
		// detector makes sync.Pool drop a quarter of what it is given, and
		// a GC may empty it: a half is the bound that still fails when
		// nothing is pooled.
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(reads*len(body)/2))
	})

	t.Run("no buffer over the largest class is kept", func(t *testing.T) {
		big := getFor(2 << 20)
		require.GreaterOrEqual(t, big.Cap(), 2<<20)
		Put(big)
		for _, size := range classes {
			b := getFor(size - 1)
			assert.LessOrEqual(t, int64(b.Cap()), classes[len(classes)-1])
			Put(b)
		}
	})
}
