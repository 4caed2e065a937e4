package heliumid

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResponseInfoDescribesItsOwnCall: a ResponseInfo reused from an
// earlier call never keeps that call's status and request id (the wrong id
// for a support ticket) when the next call fails before any I/O: an empty
// id, a nil request, an invalid option given before or after
// WithResponseInfo, a nil context. Every method resets it first.
func TestResponseInfoDescribesItsOwnCall(t *testing.T) {
	rec, c, _ := newServedAPI(t, respond(200, sessionStarted))
	stale := func() *ResponseInfo {
		return &ResponseInfo{StatusCode: 200, RequestID: "previous-call", Attempts: 1, Header: http.Header{"X-Request-Id": {"previous-call"}}}
	}
	var nilCtx context.Context
	ctx := context.Background()
	type method func(ctx context.Context, opts ...Option) error
	methods := map[string]struct {
		call  method
		wrong method // the same method, given an argument it refuses
	}{
		"CreateVerification": {
			call: func(ctx context.Context, opts ...Option) error {
				_, err := c.CreateVerification(ctx, &CreateVerificationRequest{}, opts...)
				return err
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				_, err := c.CreateVerification(ctx, nil, opts...)
				return err
			},
		},
		"GetVerification": {
			call: func(ctx context.Context, opts ...Option) error {
				_, err := c.GetVerification(ctx, "v", opts...)
				return err
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				_, err := c.GetVerification(ctx, "", opts...)
				return err
			},
		},
		"ListVerifications": {
			call: func(ctx context.Context, opts ...Option) error {
				_, err := c.ListVerifications(ctx, nil, opts...)
				return err
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				_, err := c.ListVerifications(ctx, &ListVerificationsOptions{Page: -1}, opts...)
				return err
			},
		},
		"AllVerifications": {
			call: func(ctx context.Context, opts ...Option) error {
				for _, err := range c.AllVerifications(ctx, nil, opts...) {
					return err
				}
				return nil
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				for _, err := range c.AllVerifications(ctx, &ListVerificationsOptions{Limit: -1}, opts...) {
					return err
				}
				return nil
			},
		},
		"GetVerifications": {
			call: func(ctx context.Context, opts ...Option) error {
				for _, err := range c.GetVerifications(ctx, []string{"v"}, opts...) {
					return err
				}
				return nil
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				for _, err := range c.GetVerifications(ctx, []string{"a/b"}, opts...) {
					return err
				}
				return nil
			},
		},
		"DownloadMedia": {
			call: func(ctx context.Context, opts ...Option) error {
				_, err := c.DownloadMedia(ctx, "https://media.example/selfie.jpg", io.Discard, opts...)
				return err
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				_, err := c.DownloadMedia(ctx, "http://media.example/selfie.jpg", io.Discard, opts...)
				return err
			},
		},
		"WaitForDecision": {
			call: func(ctx context.Context, opts ...Option) error {
				_, err := c.WaitForDecision(ctx, "v", opts...)
				return err
			},
			wrong: func(ctx context.Context, opts ...Option) error {
				_, err := c.WaitForDecision(ctx, "a/b", opts...)
				return err
			},
		},
	}
	for name, m := range methods {
		t.Run(name, func(t *testing.T) {
			cases := map[string]func(info *ResponseInfo) error{
				"an argument it refuses": func(info *ResponseInfo) error {
					return m.wrong(ctx, WithResponseInfo(info))
				},
				"an invalid option before": func(info *ResponseInfo) error {
					return m.call(ctx, WithMaxRetries(-1), WithResponseInfo(info))
				},
				"an invalid option after": func(info *ResponseInfo) error {
					return m.call(ctx, WithResponseInfo(info), WithMaxRetries(-1))
				},
				"a nil context": func(info *ResponseInfo) error {
					return m.call(nilCtx, WithResponseInfo(info))
				},
			}
			for what, call := range cases {
				info := stale()
				err := call(info)
				require.Error(t, err, what)
				assert.Equal(t, ResponseInfo{}, *info, "%s: the previous call's details are gone", what)
			}
			err := m.call(ctx, WithResponseInfo(new(ResponseInfo)), WithMaxRetries(-1), WithRequestTimeout(0))
			require.ErrorIs(t, err, ErrInvalidOption)
			assert.Contains(t, err.Error(), "WithMaxRetries", "the first invalid option is the one reported")
		})
	}
	assert.Empty(t, rec.requests(), "nothing was sent")
}

func TestResponseInfo(t *testing.T) {
	t.Run("after retries", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(503, "", "X-Request-Id", "r-1"), respond(502, "", "X-Request-Id", "r-2"),
			respond(200, sessionStarted, "X-Request-Id", "r-3", "X-Proxy", "edge-7"))
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, 200, info.StatusCode)
		assert.Equal(t, "r-3", info.RequestID)
		assert.Equal(t, "edge-7", info.Header.Get("X-Proxy"))
		assert.Equal(t, 3, info.Attempts)
	})
	t.Run("on an error", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(404, errEnvelope(404, "no"), "Request-Id", "r-9"))
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, ResponseInfo{StatusCode: 404, RequestID: "r-9", Attempts: 1, Header: info.Header}, info)
		assert.NotNil(t, info.Header)
	})
	t.Run("without a response", func(t *testing.T) {
		c, err := NewClient(testKey, WithBaseURL("http://127.0.0.1:1/api"), WithMaxRetries(1), WithRetryBackoff(1, 1))
		require.NoError(t, err)
		info := ResponseInfo{StatusCode: 7, Header: http.Header{}}
		_, err = c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.Error(t, err)
		assert.Equal(t, ResponseInfo{Attempts: 2}, info, "StatusCode 0 and Header nil when the last attempt got no response")
	})
	t.Run("the key never shows", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(200, sessionStarted, "X-Echo", "key="+testKey))
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "key="+redacted, info.Header.Get("X-Echo"))
	})
	t.Run("WaitForDecision: its last poll", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(200, sessionStarted, "X-Request-Id", "p-1"), respond(503, ""),
			respond(200, okEnvelope(`{"id":"v","status":"failed"}`), "X-Request-Id", "p-3"))
		var info ResponseInfo
		_, err := c.WaitForDecision(context.Background(), "v", WithPollInterval(time.Millisecond, time.Millisecond), WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "p-3", info.RequestID)
		assert.Equal(t, 2, info.Attempts, "the last poll retried its 503 once")
	})
	t.Run("AllVerifications: its last page", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(200, okEnvelope(`[{"id":"a"},{"id":"b"}]`), "X-Request-Id", "page-1"),
			respond(200, okEnvelope(`[{"id":"c"}]`), "X-Request-Id", "page-2"))
		var info ResponseInfo
		n := 0
		for _, err := range c.AllVerifications(context.Background(), &ListVerificationsOptions{Limit: 2}, WithResponseInfo(&info)) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 3, n)
		assert.Equal(t, ResponseInfo{StatusCode: 200, RequestID: "page-2", Attempts: 1, Header: info.Header}, info)
	})
	t.Run("refused by NewClient", func(t *testing.T) {
		_, err := NewClient(testKey, WithResponseInfo(&ResponseInfo{}))
		require.ErrorIs(t, err, ErrInvalidOption)
		assert.Contains(t, err.Error(), "WithResponseInfo")
	})
}
