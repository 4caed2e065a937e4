package heliumid

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeData decodes data the way GetVerification, ListVerifications or
// CreateVerification decode a 200 response's envelope around it.
func decodeData(t *testing.T, data string, out responseData) error {
	t.Helper()
	return fuzzClient(t).decodeEnvelope(200, []byte(okEnvelope(data)), out)
}

// TestSessionDecoding: every tolerance of a session, and what is refused,
// by the SDK's own path (the data of a GET) and by Verification's
// UnmarshalJSON (a session a user stored), which must agree.
func TestSessionDecoding(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm
	}
	tests := []struct {
		name, data string
		want       Verification
		wantErr    string // part of the error, when it must fail
	}{
		{name: "whitespace", data: "\t{\n\"id\" : \"x\" ,\r\n\"status\":\"started\"}\n", want: Verification{ID: "x", Status: StatusStarted}},
		{name: "unknown members kept in Extra", data: `{"extra":[1,{"a":null}],"id":"x","n":-1.5e3}`,
			want: Verification{ID: "x", Extra: map[string]json.RawMessage{"extra": json.RawMessage(`[1,{"a":null}]`), "n": json.RawMessage(`-1.5e3`)}}},
		{name: "Extra in the form encoding/json writes", data: `{"id":"x","link":"https://a.test/?a=1&b=<2>","o":{ "k" : [ 1 , 2 ] }}`,
			want: Verification{ID: "x", Extra: map[string]json.RawMessage{"link": json.RawMessage(`"https://a.test/?a=1\u0026b=\u003c2\u003e"`), "o": json.RawMessage(`{"k":[1,2]}`)}}},
		{name: "members matched to a field, in any case, are not extra", data: `{"ID":"x","_Id":"m","VerificationID":"v","Extra":1}`,
			want: Verification{ID: "x", Extra: map[string]json.RawMessage{"Extra": json.RawMessage(`1`)}}},
		{name: "names match as encoding/json does", data: `{"ID":"x","STATUS":"failed"}`, want: Verification{ID: "x", Status: StatusFailed}},
		{name: "escaped names and values", data: `{"\u0069d":"a\u0041","reason":"line\nbreak"}`, want: Verification{ID: "aA", Reason: "line\nbreak"}},
		{name: "a repeated member: the last wins", data: `{"id":"a","id":"b"}`, want: Verification{ID: "b"}},
		{name: "null fields are zero", data: `{"id":"x","reason":null,"selfie":null,"doc":null,"docInfo":null,"meta":null}`, want: Verification{ID: "x"}},

		{name: "status alias, any case and spaces", data: `{"id":"x","status":" Completed "}`, want: Verification{ID: "x", Status: StatusSubmitted}},
		{name: "escaped status", data: `{"id":"x","status":"\u0073tarted"}`, want: Verification{ID: "x", Status: StatusStarted}},
		{name: "unknown status kept verbatim", data: `{"id":"x","status":"on hold"}`, want: Verification{ID: "x", Status: "on hold"}},
		{name: "numeric status", data: `{"id":"x","status":2010}`, want: Verification{ID: "x", Status: StatusSuccessful}},
		{name: "unknown numeric status kept as written", data: `{"id":"x","status":1e3}`, want: Verification{ID: "x", Status: "1e3"}},
		{name: "status from the code", data: `{"id":"x","statusCode":4100}`, want: Verification{ID: "x", Status: StatusFailed, StatusCode: 4100}},
		{name: "null status, from the code", data: `{"id":"x","status":null,"statusCode":"2010"}`, want: Verification{ID: "x", Status: StatusSuccessful, StatusCode: 2010}},
		{name: "boolean status", data: `{"id":"x","status":true}`, wantErr: `field "status" holds a JSON bool`},
		{name: "object status", data: `{"id":"x","status":{}}`, wantErr: `field "status" holds a JSON object`},

		{name: "statusCode as a string", data: `{"id":"x","statusCode":"5000"}`, want: Verification{ID: "x", Status: StatusExpired, StatusCode: 5000}},
		{name: "fractional statusCode", data: `{"id":"x","statusCode":2010.5}`, want: Verification{ID: "x", Status: StatusSuccessful, StatusCode: 2010}},
		{name: "statusCode that is no number is 0", data: `{"id":"x","statusCode":"soon"}`, want: Verification{ID: "x"}},
		{name: "statusCode out of range is 0", data: `{"id":"x","statusCode":1e400}`, want: Verification{ID: "x"}},
		{name: "statusCode of another type is 0", data: `{"id":"x","statusCode":[2010]}`, want: Verification{ID: "x"}},

		{name: "RFC 3339 with milliseconds", data: `{"id":"x","createdAt":"2026-11-28T12:00:00.123Z"}`, want: Verification{ID: "x", CreatedAt: at("2026-11-28T12:00:00.123Z")}},
		{name: "RFC 3339 with a zone", data: `{"id":"x","createdAt":"2026-11-28T12:00:00+02:00"}`, want: Verification{ID: "x", CreatedAt: at("2026-11-28T12:00:00+02:00")}},
		{name: "no zone is UTC", data: `{"id":"x","createdAt":"2026-11-28T12:00:00.5"}`, want: Verification{ID: "x", CreatedAt: at("2026-11-28T12:00:00.5Z")}},
		{name: "a space for the T", data: `{"id":"x","createdAt":"2026-11-28 12:00:00Z"}`, want: Verification{ID: "x", CreatedAt: at("2026-11-28T12:00:00Z")}},
		{name: "escaped timestamp", data: `{"id":"x","updatedAt":"2026-11-28T12:00:00\u002e5Z"}`, want: Verification{ID: "x", UpdatedAt: at("2026-11-28T12:00:00.5Z")}},
		{name: "Unix milliseconds", data: `{"id":"x","createdAt":1700000000000}`, want: Verification{ID: "x", CreatedAt: time.UnixMilli(1700000000000).UTC()}},
		{name: "unparseable timestamps are zero", data: `{"id":"x","createdAt":"yesterday","updatedAt":17e11}`, want: Verification{ID: "x"}},
		{name: "timestamps of another type are zero", data: `{"id":"x","createdAt":{},"updatedAt":true}`, want: Verification{ID: "x"}},

		{name: "id from _id", data: `{"_id":"m","verificationId":"v"}`, want: Verification{ID: "m"}},
		{name: "id from verificationId", data: `{"id":"","verificationId":"v"}`, want: Verification{ID: "v"}},

		{name: "nested objects", data: `{"id":"x","selfie":{"key":"k"},"doc":{"type":"P","key":{"front":"f"},"url":null},"docInfo":{"dob":"1964-08-12","extra":{}}}`,
			want: Verification{ID: "x", Selfie: &Media{Key: "k"}, Document: &Document{Type: "P", Key: DocumentSides{Front: "f"}}, DocumentInfo: &DocumentInfo{DOB: "1964-08-12"}}},
		{name: "meta as encoding/json decodes it", data: `{"id":"x","meta":{"plan":"pro","n":3,"x":[1,{"y":null}]}}`,
			want: Verification{ID: "x", Meta: map[string]any{"plan": "pro", "n": 3.0, "x": []any{1.0, map[string]any{"y": nil}}}}},

		{name: "a number id", data: `{"id":5}`, wantErr: `"data.id" holds a JSON number`},
		{name: "a list selfie", data: `{"id":"x","selfie":[]}`, wantErr: `"data.selfie" holds a JSON array`},
		{name: "a number in docInfo", data: `{"id":"x","docInfo":{"dob":19640812}}`, wantErr: `"data.docInfo.dob" holds a JSON number`},
		{name: "meta that is not an object", data: `{"id":"x","meta":"x"}`, wantErr: `"data.meta" holds a JSON string`},
		{name: "invalid JSON", data: `{"id":"x",}`, wantErr: "invalid JSON at byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Verification
			err := decodeData(t, tt.data, &got)
			var user Verification
			userErr := json.Unmarshal([]byte(tt.data), &user)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrUnexpectedResponse)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Error(t, userErr, "UnmarshalJSON accepts what the SDK refuses")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			require.NoError(t, userErr)
			assert.Equal(t, tt.want, user, "UnmarshalJSON decodes differently")
		})
	}
}

func TestSessionDecodingNeedsAnIDOrAStatus(t *testing.T) {
	for _, data := range []string{`{}`, `{"reason":"x","status":null}`, `{"id":"","_id":""}`} {
		var v Verification
		err := decodeData(t, data, &v)
		require.ErrorIs(t, err, ErrUnexpectedResponse, data)
		assert.Contains(t, err.Error(), "neither an id nor a status")
		assert.NoError(t, json.Unmarshal([]byte(data), &v), "a stored session is not an API response")
	}
}

// TestUnmarshalJSONMerges: decoding into a Verification that holds values
// keeps what the JSON leaves out, as encoding/json does for a struct.
func TestUnmarshalJSONMerges(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := Verification{ID: "old", Status: StatusStarted, StatusCode: 2000, CreatedAt: created, Reason: "kept", Selfie: &Media{Key: "k"}}
	require.NoError(t, json.Unmarshal([]byte(`{"status":"failed","selfie":{"url":"u"},"updatedAt":1700000000000}`), &v))
	assert.Equal(t, Verification{ID: "old", Status: StatusFailed, StatusCode: 2000, CreatedAt: created, Reason: "kept",
		UpdatedAt: time.UnixMilli(1700000000000).UTC(), Selfie: &Media{Key: "k", URL: "u"}}, v)

	require.NoError(t, json.Unmarshal([]byte(`{"status":null,"statusCode":4100,"createdAt":"garbage"}`), &v))
	assert.Equal(t, StatusFailed, v.Status, "a null status is derived from the code again")
	assert.Equal(t, 4100, v.StatusCode)
	assert.True(t, v.CreatedAt.IsZero(), "a timestamp that is present but unparseable is zero")
}

// TestListDecoding: the shapes of docs/API.md and the pagination numbers.
func TestListDecoding(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name, data string
		want       page // items compared by id
	}{
		{name: "array", data: `[{"id":"a"},{"_id":"b"}]`, want: page{items: []*Verification{{ID: "a"}, {ID: "b"}}}},
		{name: "empty array", data: `[]`, want: page{items: []*Verification{}}},
		{name: "verifications", data: `{"verifications":[{"id":"a"}],"hasNextPage":true,"totalPages":3,"total":"60","limit":20}`,
			want: page{items: []*Verification{{ID: "a"}}, totalPages: 3, total: 60, limit: 20, hasNext: &yes}},
		{name: "items", data: `{"items":[{"id":"a"}],"hasNext":false,"pages":2}`, want: page{items: []*Verification{{ID: "a"}}, totalPages: 2, hasNext: &no}},
		{name: "docs", data: `{"docs":[],"totalDocs":"0"}`, want: page{items: []*Verification{}}},
		{name: "results", data: `{"results":[{"id":"a"}],"limit":20.0,"total":1e2}`, want: page{items: []*Verification{{ID: "a"}}, total: 100, limit: 20}},
		{name: "the first list present wins", data: `{"verifications":[],"items":[{"id":"b"}]}`, want: page{items: []*Verification{}}},
		{name: "a null list is no list", data: `{"results":null,"items":[{"id":"b"}]}`, want: page{items: []*Verification{{ID: "b"}}}},
		{name: "hasNextPage before hasNext", data: `{"items":[],"hasNext":true,"hasNextPage":false}`, want: page{items: []*Verification{}, hasNext: &no}},
		{name: "no list at all", data: `{"total":0}`, want: page{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got page
			require.NoError(t, decodeData(t, tt.data, &got))
			for _, v := range got.items {
				*v = Verification{ID: v.ID} // the sessions' own decoding is TestSessionDecoding's
			}
			assert.Equal(t, tt.want, got)
		})
	}

	var missing page
	require.NoError(t, fuzzClient(t).decodeEnvelope(200, []byte(`{"status":true}`), &missing), "a list without data is empty")
	assert.Nil(t, missing.items)

	for data, wantErr := range map[string]string{
		`[null]`:                      "null session",
		`{"items":[{"id":"a"},null]}`: "null session",
		`"nope"`:                      `"data" holds a JSON string`,
		`{"items":"nope"}`:            `"data.items" holds a JSON string`,
		`[{"id":5}]`:                  `holds a JSON number`,
		`[{"id":"a","status":true}]`:  `session 1 of the list: field "status" holds a JSON bool`,
		`{"hasNextPage":"true"}`:      `"data.hasNextPage" holds a JSON string`,
		`[{"id":"a"}`:                 "invalid JSON",
		`null`:                        "holds no data",
	} {
		var p page
		err := decodeData(t, data, &p)
		require.ErrorIs(t, err, ErrUnexpectedResponse, data)
		assert.Contains(t, err.Error(), wantErr, data)
	}
}

// TestEnvelopeDecoding: the envelope around any data.
func TestEnvelopeDecoding(t *testing.T) {
	c := fuzzClient(t)
	for body, want := range map[string]struct {
		sentinel error
		code     int
		message  string
	}{
		`{"status":false,"message":"Invalid key","code":401}`:       {ErrUnauthorized, 401, "Invalid key"},
		`{"status":false,"message":["a","b"],"code":"422"}`:         {ErrBadRequest, 422, "a; b"},
		`{"status":false,"message":{"field":"x"}}`:                  {ErrBadRequest, 0, `{"field":"x"}`},
		`{"status":false,"message":"","error":"from error"}`:        {ErrBadRequest, 0, "from error"},
		`{"status":false,"message":null,"code":500}`:                {ErrServer, 500, ""},
		`{"status":false,"data":{"id":"x"},"code":404,"message":7}`: {ErrNotFound, 404, "7"},
		`{"status":"yes","data":{"id":"x"}}`:                        {ErrUnexpectedResponse, 0, `the body is not the documented JSON envelope: field "status" holds a JSON string`},
		`{"data":{"id":"x"}}`:                                       {ErrUnexpectedResponse, 0, `the body is not the documented envelope (no "status")`},
		`{"status":true,"data":null}`:                               {ErrUnexpectedResponse, 0, "the envelope holds no data"},
		`{"status":true,"data":{"id":"x"}} x`:                       {ErrUnexpectedResponse, 0, "the body is not the documented JSON envelope: invalid JSON at byte"},
		`[{"status":true}]`:                                         {ErrUnexpectedResponse, 0, "the body is not the documented JSON envelope: a JSON array where an object was expected"},
	} {
		var v Verification
		err := c.decodeEnvelope(200, []byte(body), &v)
		require.ErrorIs(t, err, want.sentinel, body)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, want.code, apiErr.Code, body)
		if want.message == "" {
			assert.Empty(t, apiErr.Message, body)
		}
		assert.Contains(t, apiErr.Message, want.message, body) // byte offsets differ under GOEXPERIMENT=jsonv2
		assert.Equal(t, []byte(body), apiErr.Body)
	}

	var v Verification
	require.NoError(t, c.decodeEnvelope(200, []byte(`{"Status":true,"DATA":{"id":"x"},"code":{}}`), &v), "names match as encoding/json does")
	assert.Equal(t, "x", v.ID)
}

// TestReadErrorDecodesAnyJSONObject: error bodies are read for a message
// and a code whatever else they hold, unlike success bodies.
func TestReadErrorDecodesAnyJSONObject(t *testing.T) {
	c := fuzzClient(t)
	for body, want := range map[string]string{
		`{"status":"error","message":"bad input","data":[1]}`: "bad input",
		`{"error":{"code":"E1","detail":"x"}}`:                `{"code":"E1","detail":"x"}`,
		`{"message":["a",5]}`:                                 `["a",5]`,
	} {
		e := c.readError(response(400, []byte(body)))
		assert.Equal(t, want, e.Message, body)
	}
	e := c.readError(response(400, []byte(strings.Repeat(" ", 10)+`{"message":"x"`)))
	assert.Equal(t, `{"message":"x"`, e.Message, "not JSON: a snippet")
	assert.True(t, errors.Is(e, ErrBadRequest))
}

func TestErrorBodiesOfEveryKindBecomeAPIErrors(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantMessage string
		wantCode    int
	}{
		{"envelope", errEnvelope(401, "Invalid API key"), "Invalid API key", 401},
		{"code as string", `{"status":false,"message":"Bad","code":"400"}`, "Bad", 400},
		{"message list", `{"status":false,"message":["vendorData must be a string","method is invalid"]}`, "vendorData must be a string; method is invalid", 0},
		{"message object", `{"message":{"field":"x"}}`, `{"field":"x"}`, 0},
		{"error field", `{"error":"Unauthorized"}`, "Unauthorized", 0},
		{"escaped message", `{"message":"line\none \u00e9"}`, "line one é", 0},
		{"HTML page", "<!DOCTYPE html>\n<html><head><TITLE> 502 Bad Gateway </TITLE></head><body><h1>nginx</h1></body></html>", "502 Bad Gateway", 0},
		{"HTML without title", "<html><body>\n\n  Upstream   died\n</body></html>", "<html><body> Upstream died </body></html>", 0},
		{"plain text", "upstream connect error or disconnect/reset before headers", "upstream connect error or disconnect/reset before headers", 0},
		{"empty", "", "", 0},
		{"binary", "\x00\x01\xff\xfe hello", "\uFFFD\uFFFD hello", 0},
		{"JSON scalar", `42`, "42", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newFakeClient(t, WithMaxRetries(0))
			api.otherwise(respond(502, tt.body, "Request-Id", "rid-1"))
			_, err := c.GetVerification(context.Background(), "ver_1")
			require.ErrorIs(t, err, ErrServer)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.wantMessage, apiErr.Message)
			assert.Equal(t, tt.wantCode, apiErr.Code)
			assert.Equal(t, "rid-1", apiErr.RequestID, "Request-Id is read when X-Request-Id is absent")
			if tt.body == "" {
				assert.Nil(t, apiErr.Body)
			} else {
				assert.Equal(t, []byte(tt.body), apiErr.Body)
			}
			assert.NotContains(t, err.Error(), "invalid character")
		})
	}
}

func TestErrorBodiesAreBounded(t *testing.T) {
	long := strings.Repeat("x", 2<<20) // 2 MiB of text: over the 1 MiB error limit
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(400, `{"message":"`+long+`"}`))
	_, err := c.GetVerification(context.Background(), "ver_1")
	require.ErrorIs(t, err, ErrBadRequest)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, keptErrorBody)
	assert.LessOrEqual(t, len(apiErr.Message), 256, "a snippet, not the body")
	assert.Less(t, len(err.Error()), 1024)

	c, api = newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(400, `{"message":"`+strings.Repeat("y", 5000)+`"}`))
	_, err = c.GetVerification(context.Background(), "ver_1")
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.Message), maxMessage+len("…"))
	assert.True(t, strings.HasSuffix(apiErr.Message, "…"))
}

func TestRequestIDIsSanitized(t *testing.T) {
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(404, "", "X-Request-Id", strings.Repeat("r", 500)))
	_, err := c.GetVerification(context.Background(), "ver_1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.RequestID), 128+len("…"))
}
