package heliumid

import (
	"context"
	"net/http"
	"testing"

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
