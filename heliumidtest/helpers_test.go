package heliumidtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/require"
)

// newTestServer starts a Server that the test closes when it ends.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// reply is a raw HTTP response, with its envelope decoded strictly.
type reply struct {
	status int
	header http.Header
	body   []byte
	env    struct {
		Status  bool            `json:"status"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
		Code    int             `json:"code"`
	}
}

// header sets or (with "") removes a request header in send.
type header struct{ name, value string }

// send makes a raw request to srv.URL+path: with the Server's key and, when
// body is not empty, Content-Type application/json, unless headers say
// otherwise. It asserts the envelope's shape on every response: exactly the
// keys status, message, data and code, and a JSON Content-Type.
func send(t *testing.T, srv *Server, method, path, body string, headers ...header) reply {
	t.Helper()
	return sendTo(t, srv, srv.URL+path, method, body, headers...)
}

func sendTo(t *testing.T, srv *Server, target, method, body string, headers ...header) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", srv.APIKey())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if h.value == "" {
			req.Header.Del(h.name)
		} else {
			req.Header.Set(h.name, h.value)
		}
	}
	resp, err := srv.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	r.body, err = io.ReadAll(resp.Body)
	require.NoError(t, err)

	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), "body: %s", r.body)
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &keys), "body: %s", r.body)
	require.Len(t, keys, 4, "envelope keys: %s", r.body)
	for _, k := range []string{"status", "message", "data", "code"} {
		require.Contains(t, keys, k, "envelope: %s", r.body)
	}
	require.NoError(t, json.Unmarshal(r.body, &r.env))
	require.Equal(t, r.status, r.env.Code, "envelope code repeats the HTTP status: %s", r.body)
	require.NotEmpty(t, r.env.Message)
	return r
}

// requireError asserts an error reply: the HTTP status, status false, null
// data, and a message containing want.
func requireError(t *testing.T, r reply, status int, want string) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	require.False(t, r.env.Status)
	require.JSONEq(t, "null", string(r.env.Data))
	require.Contains(t, r.env.Message, want)
}

// data decodes a successful reply's data into a generic map.
func (r reply) data(t *testing.T) map[string]any {
	t.Helper()
	require.True(t, r.env.Status, "body: %s", r.body)
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.env.Data, &m))
	return m
}

// createRaw creates a session with a raw request and returns its id.
func createRaw(t *testing.T, srv *Server, body string) string {
	t.Helper()
	r := send(t, srv, http.MethodPost, "/v1/verifications", body)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	id, _ := r.data(t)["verificationId"].(string)
	require.NotEmpty(t, id)
	return id
}

// walk moves a session through the given statuses, failing the test on a
// refused step.
func walk(t *testing.T, srv *Server, id string, statuses ...heliumid.Status) {
	t.Helper()
	for _, st := range statuses {
		require.NoError(t, srv.SetStatus(id, st))
	}
}

// toSuccessful is the path of a new session to a successful decision.
var toSuccessful = []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful}
