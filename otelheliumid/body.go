package otelheliumid

import "io"

// body is a response body that ends its attempt when the SDK has read it
// to the end, failed to read it, or closed it, whichever comes first: the
// span and the measurement then cover reading the response, and an error
// while reading it counts.
type body struct {
	rc io.ReadCloser
	a  *attempt
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.a.end(nil)
	case err != nil:
		b.a.end(err)
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.a.end(nil)
	return err
}
