package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreate(t *testing.T) {
	srv, env := newFake(t)

	r := cmd(t, env, "create", "--vendor-data", "user-42", "--method", "manual", "--meta", "plan=pro", "--meta", "attempt=2")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	id := "7e570000-0000-4000-8000-000000000001"
	assert.Equal(t, "id:   "+id+"\nlink: "+strings.TrimSuffix(srv.URL, "/api")+"/?processId="+id+"\n", r.stdout)
	assert.Empty(t, r.stderr)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, "/api/v1/verifications", reqs[0].Path)
	assert.True(t, reqs[0].KeyValid)
	assert.JSONEq(t, `{"vendorData":"user-42","method":"manual","meta":{"plan":"pro","attempt":"2"}}`, string(reqs[0].Body),
		"meta values are sent as strings")

	v, ok := srv.Verification(id)
	require.True(t, ok)
	assert.Equal(t, "user-42", v.VendorData)
}

func TestCreateJSON(t *testing.T) {
	srv, env := newFake(t)
	r := cmd(t, env, "create", "--json")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	var out map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	id := "7e570000-0000-4000-8000-000000000001"
	assert.Equal(t, map[string]string{"id": id, "link": strings.TrimSuffix(srv.URL, "/api") + "/?processId=" + id}, out)
	assert.JSONEq(t, `{}`, string(srv.Requests()[0].Body), "no flags, no fields")
}

func TestCreateUsageErrorsSendNothing(t *testing.T) {
	srv, env := newFake(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad method", []string{"--method", "robot"}, `--method "robot": want auto or manual`},
		{"meta without =", []string{"--meta", "plan"}, `invalid value "plan" for flag -meta: "plan" is not key=value`},
		{"meta empty key", []string{"--meta", "=pro"}, "empty key"},
		{"meta twice", []string{"--meta", "a=1", "--meta", "a=2"}, `key "a" given twice`},
		{"argument", []string{"user-42"}, `unexpected argument "user-42"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertUsage(t, cmd(t, env, append([]string{"create"}, tt.args...)...), tt.want)
		})
	}
	assert.Empty(t, srv.Requests())
}

// A create that timed out after sending may have created the session: the
// hint says so, as after a 5xx.
func TestCreateTimeoutSaysTheSessionMayExist(t *testing.T) {
	srv, env := newFake(t)
	srv.FailNext(1, heliumidtest.Failure{Delay: 5 * time.Second})
	var stdout, stderr bytes.Buffer
	c := &cli{env: lookup(env), stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		clientOptions: []heliumid.Option{heliumid.WithRequestTimeout(50 * time.Millisecond)}}
	code := c.main(t.Context(), []string{"create", "--vendor-data", "user-42"})
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr.String(), "heliumid create: POST /v1/verifications: context deadline exceeded\n")
	assert.Contains(t, stderr.String(), `hint: the server did not answer in time, so the session may exist: look for it with "heliumid list --vendor-data user-42" before creating another`)
	assert.Len(t, srv.Requests(), 1, "not retried")
}
