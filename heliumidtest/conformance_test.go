package heliumidtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests speak raw HTTP to the Server, as API.md describes the wire,
// so they hold whatever the SDK does.

var apiTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func TestURLCarriesTheAPIPrefix(t *testing.T) {
	srv := newTestServer(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "http", u.Scheme)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	assert.Equal(t, "/api", u.Path)

	// A client that drops the prefix is told so.
	r := sendTo(t, srv, srv.ts.URL+"/v1/verifications", http.MethodGet, "")
	requireError(t, r, http.StatusNotFound, "/api")
}

func TestCreateAnswersTheDocumentedEnvelope(t *testing.T) {
	srv := newTestServer(t)
	r := send(t, srv, http.MethodPost, "/v1/verifications", `{"vendorData":"user-42"}`)
	require.Equal(t, http.StatusOK, r.status)
	assert.True(t, r.env.Status)
	assert.Equal(t, 200, r.env.Code)
	assert.Equal(t, "Created verification", r.env.Message)

	data := r.data(t)
	require.Len(t, data, 2, "data: %s", r.env.Data)
	id := data["verificationId"].(string)
	link := data["link"].(string)
	assert.Equal(t, strings.TrimSuffix(srv.URL, "/api")+"/?processId="+id, link, "the Server's own hosted page, as the real link leads to Helium ID's")
	u, err := url.Parse(link)
	require.NoError(t, err)
	assert.Equal(t, id, u.Query().Get("processId"))
}

func TestGetReturnsANewSession(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{"vendorData":"user-42","meta":{"plan":"gold","n":12345678901234567890}}`)

	r := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "")
	require.Equal(t, http.StatusOK, r.status)
	got := r.data(t)
	assert.Equal(t, id, got["id"])
	assert.Equal(t, "not started", got["status"])
	assert.EqualValues(t, 1001, got["statusCode"])
	assert.Equal(t, "auto", got["verificationMethod"])
	assert.Equal(t, "user-42", got["vendorData"])
	assert.Regexp(t, apiTimestamp, got["createdAt"])
	assert.Equal(t, got["createdAt"], got["updatedAt"])
	assert.Equal(t, srv.Now().Format(timeLayout), got["createdAt"])
	for _, pii := range []string{"docInfo", "doc", "selfie", "reason"} {
		assert.NotContains(t, got, pii, "a session nobody started has no %s", pii)
	}
	// meta comes back byte for byte, big numbers included.
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.env.Data, &raw))
	assert.JSONEq(t, `{"plan":"gold","n":12345678901234567890}`, string(raw["meta"]))
	assert.Contains(t, string(raw["meta"]), "12345678901234567890")
}

func TestCreateMethods(t *testing.T) {
	srv := newTestServer(t)
	for body, want := range map[string]string{
		`{}`:                  "auto",
		`{"method":""}`:       "auto",
		`{"method":null}`:     "auto",
		`{"method":"auto"}`:   "auto",
		`{"method":"manual"}`: "manual",
		`{"unknown":[1,2]}`:   "auto", // unknown fields are ignored
	} {
		id := createRaw(t, srv, body)
		got := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "").data(t)
		assert.Equal(t, want, got["verificationMethod"], body)
	}
}

func TestEveryStatusCarriesItsStatusCode(t *testing.T) {
	srv := newTestServer(t)
	statusCode := func(id string) (string, any, bool) {
		got := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "").data(t)
		code, ok := got["statusCode"]
		return got["status"].(string), code, ok
	}
	paths := [][]heliumid.Status{
		{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful},
		{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed},
		{heliumid.StatusStarted, heliumid.StatusAbandoned},
		{heliumid.StatusExpired},
		{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview},
	}
	want := map[string]float64{"not started": 1001, "started": 2000, "submitted": 2001, "successful": 2010, "abandoned": 3033, "failed": 4100, "expired": 5000}
	for _, path := range paths {
		id := createRaw(t, srv, `{}`)
		for _, st := range path {
			require.NoError(t, srv.SetStatus(id, st))
			status, code, ok := statusCode(id)
			require.Equal(t, string(st), status)
			if st == heliumid.StatusReview {
				assert.False(t, ok, "review has no documented statusCode, so none is sent")
				continue
			}
			assert.Equal(t, want[status], code, status)
		}
	}
}

func TestDecidedSessionsCarryFakePersonalData(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed)

	r := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "")
	var got struct {
		Reason  string                     `json:"reason"`
		Selfie  map[string]string          `json:"selfie"`
		Doc     map[string]json.RawMessage `json:"doc"`
		DocInfo map[string]string          `json:"docInfo"`
	}
	require.NoError(t, json.Unmarshal(r.env.Data, &got))
	assert.NotEmpty(t, got.Reason)
	assert.Equal(t, "JANE", got.DocInfo["firstName"])
	assert.Equal(t, "DOE", got.DocInfo["lastName"])
	assert.Equal(t, "X0000000", got.DocInfo["docNumber"])
	for _, k := range []string{"docType", "docNumber", "issueDate", "expiryDate", "issuingState", "firstName", "lastName", "middleName", "dob", "sex"} {
		assert.Contains(t, got.DocInfo, k)
	}
	assert.Equal(t, strings.TrimSuffix(srv.URL, "/api")+"/media/"+id+"/selfie.jpg", got.Selfie["url"], "served by the Server (media_test.go)")
	assert.NotEmpty(t, got.Selfie["key"])
	for _, k := range []string{"type", "name", "issuingState", "key", "url"} {
		assert.Contains(t, got.Doc, k)
	}
	var sides map[string]string
	require.NoError(t, json.Unmarshal(got.Doc["url"], &sides))
	assert.Contains(t, sides, "front")
	assert.Contains(t, sides, "back")
}

func TestErrorsUseTheEnvelope(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{}`)
	noKey := header{"X-Api-Key", ""}
	tests := []struct {
		name, method, path, body string
		headers                  []header
		status                   int
		want                     string
	}{
		{"missing key on create", "POST", "/v1/verifications", `{}`, []header{noKey}, 401, "missing API key"},
		{"missing key on get", "GET", "/v1/verifications/" + id, "", []header{noKey}, 401, "missing API key"},
		{"wrong key", "GET", "/v1/verifications", "", []header{{"X-Api-Key", "sk_live_nope"}}, 401, "invalid API key"},
		{"key of another length", "GET", "/v1/verifications/" + id, "", []header{{"X-Api-Key", srv.APIKey() + "x"}}, 401, "invalid API key"},
		{"unknown id", "GET", "/v1/verifications/nope", "", nil, 404, `"nope" not found`},
		{"unknown id without key: auth first", "GET", "/v1/verifications/nope", "", []header{noKey}, 401, "missing API key"},
		{"unknown path", "GET", "/v2/things", "", nil, 404, "no such endpoint"},
		{"empty id", "GET", "/v1/verifications/", "", nil, 404, "no such endpoint"},
		{"nested path", "GET", "/v1/verifications/" + id + "/extra", "", nil, 404, "no such endpoint"},
		{"delete a session", "DELETE", "/v1/verifications/" + id, "", nil, 405, "DELETE"},
		{"put the collection", "PUT", "/v1/verifications", `{}`, nil, 405, "PUT"},
		{"malformed JSON", "POST", "/v1/verifications", `{"vendorData":`, nil, 400, "not valid JSON"},
		{"trailing data", "POST", "/v1/verifications", `{} {}`, nil, 400, "not valid JSON"},
		{"array body", "POST", "/v1/verifications", `[]`, nil, 400, "must be a JSON object"},
		{"null body", "POST", "/v1/verifications", `null`, nil, 400, "must be a JSON object"},
		{"string body", "POST", "/v1/verifications", `"hi"`, nil, 400, "must be a JSON object"},
		{"empty body", "POST", "/v1/verifications", ``, []header{{"Content-Type", "application/json"}}, 400, "empty"},
		{"unknown method", "POST", "/v1/verifications", `{"method":"robot"}`, nil, 400, `"robot"`},
		{"method in capitals", "POST", "/v1/verifications", `{"method":"AUTO"}`, nil, 400, `"AUTO"`},
		{"method not a string", "POST", "/v1/verifications", `{"method":1}`, nil, 400, "method must be a string"},
		{"vendorData not a string", "POST", "/v1/verifications", `{"vendorData":5}`, nil, 400, "vendorData must be a string"},
		{"meta not an object", "POST", "/v1/verifications", `{"meta":"x"}`, nil, 400, "meta must be a JSON object"},
		{"meta an array", "POST", "/v1/verifications", `{"meta":[1]}`, nil, 400, "meta must be a JSON object"},
		{"not JSON content type", "POST", "/v1/verifications", `{}`, []header{{"Content-Type", "text/plain"}}, 415, "application/json"},
		{"too large", "POST", "/v1/verifications", `{"vendorData":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "larger than"},
		{"limit zero", "GET", "/v1/verifications?limit=0", "", nil, 400, "limit must be at least 1"},
		{"limit too large", "GET", "/v1/verifications?limit=101", "", nil, 400, "limit must be at most 100"},
		{"limit not a number", "GET", "/v1/verifications?limit=ten", "", nil, 400, "limit must be an integer"},
		{"page zero", "GET", "/v1/verifications?page=0", "", nil, 400, "page must be at least 1"},
		{"page negative", "GET", "/v1/verifications?page=-2", "", nil, 400, "page must be at least 1"},
		{"unknown status", "GET", "/v1/verifications?status=pending", "", nil, 400, `"pending" is not a verification status`},
		{"malformed query", "GET", "/v1/verifications?status=%zz", "", nil, 400, "malformed query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, srv, tt.method, tt.path, tt.body, tt.headers...)
			requireError(t, r, tt.status, tt.want)
		})
	}
	// None of the refused creates made a session.
	list := send(t, srv, http.MethodGet, "/v1/verifications", "").data(t)
	assert.EqualValues(t, 1, list["total"])
}

func TestMethodNotAllowedNamesTheAllowedOnes(t *testing.T) {
	srv := newTestServer(t)
	r := send(t, srv, http.MethodPatch, "/v1/verifications", `{}`)
	requireError(t, r, http.StatusMethodNotAllowed, "PATCH")
	assert.Equal(t, "GET, POST", r.header.Get("Allow"))

	r = send(t, srv, http.MethodPost, "/v1/verifications/some-id", `{}`)
	requireError(t, r, http.StatusMethodNotAllowed, "POST")
	assert.Equal(t, "GET", r.header.Get("Allow"))
}

func TestListPagesInCreationOrder(t *testing.T) {
	srv := newTestServer(t)
	var ids []string
	for i := range 5 {
		vendor := "odd"
		if i%2 == 0 {
			vendor = "even"
		}
		ids = append(ids, createRaw(t, srv, `{"vendorData":"`+vendor+`"}`))
	}
	require.NoError(t, srv.SetStatus(ids[1], heliumid.StatusStarted))
	require.NoError(t, srv.SetStatus(ids[3], heliumid.StatusStarted))

	type page struct {
		Verifications []struct {
			ID         string `json:"id"`
			Status     string `json:"status"`
			VendorData string `json:"vendorData"`
		} `json:"verifications"`
		Page, Limit, Total, TotalPages int
		HasNextPage                    bool
	}
	list := func(query string) (page, []string) {
		t.Helper()
		r := send(t, srv, http.MethodGet, "/v1/verifications"+query, "")
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var p page
		require.NoError(t, json.Unmarshal(r.env.Data, &p))
		require.NotNil(t, p.Verifications, "an empty page is [], not null")
		var got []string
		for _, v := range p.Verifications {
			got = append(got, v.ID)
		}
		return p, got
	}

	p, got := list("")
	assert.Equal(t, ids, got)
	assert.Equal(t, page{Page: 1, Limit: 20, Total: 5, TotalPages: 1}, page{Page: p.Page, Limit: p.Limit, Total: p.Total, TotalPages: p.TotalPages, HasNextPage: p.HasNextPage})

	p, got = list("?limit=2&page=1")
	assert.Equal(t, ids[:2], got)
	assert.True(t, p.HasNextPage)
	assert.Equal(t, 3, p.TotalPages)
	p, got = list("?limit=2&page=3")
	assert.Equal(t, ids[4:], got)
	assert.False(t, p.HasNextPage)
	p, got = list("?limit=2&page=4")
	assert.Empty(t, got)
	assert.Equal(t, 5, p.Total)
	_, got = list("?page=99999999999999999")
	assert.Empty(t, got, "a page past any overflow is empty")

	_, got = list("?status=started")
	assert.Equal(t, []string{ids[1], ids[3]}, got)
	_, got = list("?status=2000") // a status code parses as its status
	assert.Equal(t, []string{ids[1], ids[3]}, got)
	_, got = list("?status=created") // an alias of not started
	assert.Equal(t, []string{ids[0], ids[2], ids[4]}, got)
	_, got = list("?status=NOT%20STARTED")
	assert.Equal(t, []string{ids[0], ids[2], ids[4]}, got)
	p, got = list("?vendorData=even&limit=2")
	assert.Equal(t, []string{ids[0], ids[2]}, got)
	assert.Equal(t, 3, p.Total)
	assert.True(t, p.HasNextPage)
	_, got = list("?vendorData=odd&status=started&sort=desc&foo=bar") // unknown parameters are ignored
	assert.Equal(t, []string{ids[1], ids[3]}, got)
	_, got = list("?vendorData=nobody")
	assert.Empty(t, got)
}

func TestEveryResponseHasARequestID(t *testing.T) {
	srv := newTestServer(t)
	a := send(t, srv, http.MethodGet, "/v1/verifications", "")
	b := send(t, srv, http.MethodGet, "/v1/verifications/x", "")
	assert.NotEqual(t, a.header.Get("X-Request-Id"), b.header.Get("X-Request-Id"))
}
