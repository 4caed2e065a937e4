package otelheliumid

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// secretURL stands for what a transport error's text holds.
const secretURL = "https://api.heliumid.test/api/v1/verifications/sess-9f1c?vendorData=user-42"

func urlErr(err error) error { return &url.Error{Op: "Get", URL: secretURL, Err: err} }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout reading " + secretURL }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type typedErr struct{}

func (typedErr) Error() string     { return "typed " + secretURL }
func (typedErr) ErrorType() string { return "heliumid.test_type" }

func TestErrorType(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithTimeoutCause(live, 0, errors.New("a cause of the caller's"))
	defer cancel()
	canceled, cancel2 := context.WithCancel(live)
	cancel2()

	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"refused", live, urlErr(opErr), "*net.OpError"},
		{"dns", live, urlErr(&net.DNSError{Err: "no such host", Name: "api.heliumid.test"}), "*net.DNSError"},
		{"tls", live, urlErr(&tls.CertificateVerificationError{Err: errors.New(secretURL)}), "*tls.CertificateVerificationError"},
		{"deadline", live, urlErr(context.DeadlineExceeded), "timeout"},
		{"deadline wrapped", live, fmt.Errorf("sending %s: %w", secretURL, urlErr(context.DeadlineExceeded)), "timeout"},
		{"net timeout", live, urlErr(&net.OpError{Op: "read", Err: timeoutErr{}}), "timeout"},
		{"context cause", expired, urlErr(errors.New("a cause of the caller's")), "timeout"},
		{"canceled", live, urlErr(context.Canceled), "canceled"},
		{"canceled context", canceled, urlErr(errors.New("net/http: request canceled")), "canceled"},
		{"eof", live, urlErr(io.EOF), "io.EOF"},
		{"unexpected eof", live, urlErr(io.ErrUnexpectedEOF), "io.ErrUnexpectedEOF"},
		{"text only", live, urlErr(errors.New("something " + secretURL)), "_OTHER"},
		{"wrapped text", live, fmt.Errorf("a: %w", errors.New(secretURL)), "_OTHER"},
		{"joined", live, errors.Join(errors.New(secretURL), errors.New("b")), "_OTHER"},
		{"url error of nothing", live, &url.Error{Op: "Get", URL: secretURL}, "*url.Error"},
		{"ErrorType method", live, urlErr(typedErr{}), "heliumid.test_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorType(tt.ctx, tt.err)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, "heliumid.test/")
			assert.NotContains(t, got, "sess-9f1c")
		})
	}
}

func TestServerPort(t *testing.T) {
	for _, tt := range []struct {
		scheme, port string
		want         int
	}{
		{"https", "", 443}, {"http", "", 80}, {"https", "8443", 8443}, {"ftp", "", 0},
		{"https", "0", 0}, {"https", "70000", 0}, {"https", "x", 0},
	} {
		assert.Equal(t, tt.want, serverPort(tt.scheme, tt.port), "%s %q", tt.scheme, tt.port)
	}
}

func TestMethodAndSpanName(t *testing.T) {
	assert.Equal(t, "GET", methodAttr("GET").Value.AsString())
	assert.Equal(t, "POST", methodAttr("POST").Value.AsString())
	assert.Equal(t, "_OTHER", methodAttr("PROPFIND").Value.AsString(), "an unknown method cannot blow up cardinality")
	assert.Equal(t, "_OTHER", methodAttr("get").Value.AsString(), "methods are case-sensitive")
	assert.Equal(t, "GET /v1/verifications/{id}", spanName("GET", "/v1/verifications/{id}"))
	assert.Equal(t, "HTTP /v1/verifications", spanName("_OTHER", "/v1/verifications"))
	assert.Equal(t, "GET", spanName("GET", ""))
}
