package heliumid

import (
	"crypto/x509"
	"net/http"
	"testing"
)

// defaultTransportOf returns the transport of a Client's own http.Client.
func defaultTransportOf(tb testing.TB, c *Client) *defaultTransport {
	tb.Helper()
	t, ok := c.hc.Transport.(*defaultTransport)
	if !ok {
		tb.Fatalf("the client's transport is a %T, not the SDK's own", c.hc.Transport)
	}
	return t
}

// trust makes t trust roots (a test server's certificate) and, with
// http1Only, speak HTTP/1.1 over TLS as it does with a host that does not
// offer HTTP/2. Call it before the first request.
func (t *defaultTransport) trust(roots *x509.CertPool, http1Only bool) {
	for _, rt := range []http.RoundTripper{t.http1, t.http2} {
		rt.(*http.Transport).TLSClientConfig.RootCAs = roots
	}
	if http1Only {
		t.proto.Store(protoHTTP1)
	}
}

// certPool is a pool of the one certificate of a test server.
func certPool(cert *x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
