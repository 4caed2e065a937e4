package heliumid

import (
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// testKey is the API key of every test client.
const testKey = "sk_test_0123456789abcdef"

// testBaseURL mounts the mocked API under a path prefix, like the real /api,
// so a request that drops the prefix fails loudly.
const testBaseURL = "https://api.test/api"

// newMockClient returns a client whose requests go to a fresh httpmock
// transport instead of the network, with fast retries.
func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	all := append([]Option{
		WithBaseURL(testBaseURL),
		WithHTTPClient(&http.Client{Transport: mock}),
	}, opts...)
	c, err := NewClient(testKey, all...)
	require.NoError(t, err)
	return c, mock
}
