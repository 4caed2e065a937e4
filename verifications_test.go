package heliumid

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateVerificationSendsTheDocumentedRequest(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodPost, testBaseURL+"/v1/verifications", respond(200, okEnvelope(createdData)))

	got, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{
		VendorData: "user-42",
		Meta:       map[string]any{"plan": "gold", "n": 3},
		Method:     MethodManual,
	})
	require.NoError(t, err)
	assert.Equal(t, &CreatedVerification{ID: "ver_123", Link: "https://verify.heliumid.io/?processId=ver_123"}, got)

	req, body := api.last(t)
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/api/v1/verifications", req.URL.Path)
	assertSDKHeaders(t, req)
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"vendorData":"user-42","meta":{"plan":"gold","n":3},"method":"manual"}`, string(body))
}

func TestCreateVerificationOmitsZeroFields(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodPost, testBaseURL+"/v1/verifications", respond(201, okEnvelope(createdData)))

	_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
	require.NoError(t, err, "any 2xx is success")
	_, body := api.last(t)
	assert.JSONEq(t, `{}`, string(body))
}

func TestCreateVerificationTakesTheIDFromTheLink(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodPost, testBaseURL+"/v1/verifications",
		respond(200, okEnvelope(`{"link":"https://verify.heliumid.io/?processId=abc"}`)))
	got, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
	require.NoError(t, err)
	assert.Equal(t, "abc", got.ID)
}

func TestCreateVerificationRejectsUnusableSuccess(t *testing.T) {
	tests := map[string]string{
		"no link":             okEnvelope(`{"verificationId":"x"}`),
		"empty link":          okEnvelope(`{"link":"","verificationId":"x"}`),
		"javascript link":     okEnvelope(`{"link":"javascript:alert(1)","verificationId":"x"}`),
		"plain http link":     okEnvelope(`{"link":"http://verify.heliumid.io/?processId=x","verificationId":"x"}`),
		"relative link":       okEnvelope(`{"link":"/?processId=x","verificationId":"x"}`),
		"no id anywhere":      okEnvelope(`{"link":"https://verify.heliumid.io/"}`),
		"not in the envelope": createdData,
		"data null":           `{"status":true,"data":null}`,
		"data missing":        `{"status":true,"message":"Created"}`,
		"data wrong type":     okEnvelope(`"https://verify.heliumid.io/?processId=x"`),
		"invalid JSON":        `{"status":true,"data":{`,
		"HTML":                `<html><title>Hi</title></html>`,
		"empty":               ``,
		"status wrong type":   `{"status":"yes","data":` + createdData + `}`,
		"top-level array":     `[1,2]`,
		"link wrong type":     okEnvelope(`{"link":5}`),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.on(http.MethodPost, testBaseURL+"/v1/verifications", respond(200, body, "X-Request-Id", "req-9"))
			got, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
			require.ErrorIs(t, err, ErrUnexpectedResponse)
			assert.Nil(t, got)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 200, apiErr.StatusCode)
			assert.Equal(t, "req-9", apiErr.RequestID)
			assert.NotContains(t, err.Error(), "invalid character", "a raw JSON error is no help")
			assert.Equal(t, 1, api.count(), "an unusable success must not be retried: the session may exist")
		})
	}
}

func TestStatusFalseOnSuccessIsClassifiedByCode(t *testing.T) {
	tests := []struct {
		body string
		want error
	}{
		{errEnvelope(400, "vendorData must be a string"), ErrBadRequest},
		{errEnvelope(401, "Invalid API key"), ErrUnauthorized},
		{errEnvelope(404, "Not found"), ErrNotFound},
		{errEnvelope(429, "Slow down"), ErrRateLimited},
		{errEnvelope(500, "Oops"), ErrServer},
		{errEnvelope(200, "Something is off"), ErrBadRequest},
		{`{"status":false}`, ErrBadRequest},
	}
	for _, tt := range tests {
		c, api := newFakeClient(t)
		api.on(http.MethodPost, testBaseURL+"/v1/verifications", respond(200, tt.body))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		assert.ErrorIs(t, err, tt.want, tt.body)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 200, apiErr.StatusCode)
		assert.Equal(t, 1, api.count(), "a 2xx is never retried")
	}
}

func TestLocalValidationSendsNothing(t *testing.T) {
	c, api := newFakeClient(t)
	ctx := context.Background()
	check := func(name string, err error) {
		t.Helper()
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
	}
	_, err := c.CreateVerification(ctx, nil)
	check("nil request", err)
	_, err = c.CreateVerification(ctx, &CreateVerificationRequest{Method: "robot"})
	check("unknown method", err)
	_, err = c.CreateVerification(ctx, &CreateVerificationRequest{Method: "Auto"})
	check("method is case-sensitive on the wire", err)
	_, err = c.CreateVerification(ctx, &CreateVerificationRequest{Meta: map[string]any{"f": func() {}}})
	check("meta that does not encode", err)
	//lint:ignore SA1012 a nil context is exactly what is being tested
	_, err = c.CreateVerification(nil, &CreateVerificationRequest{}) //nolint:staticcheck
	check("nil context", err)
	for _, id := range []string{"", ".", "..", "a/b", "../x", `a\b`, "a?b", "a#b", "a%2Fb", "a b", "a\nb", "\x00", string(make([]byte, 300))} {
		_, err = c.GetVerification(ctx, id)
		check("get id "+id, err)
		_, err = c.WaitForDecision(ctx, id)
		check("wait id "+id, err)
	}
	_, err = c.ListVerifications(ctx, &ListVerificationsOptions{Page: -1})
	check("negative page", err)
	_, err = c.ListVerifications(ctx, &ListVerificationsOptions{Limit: -5})
	check("negative limit", err)
	assert.Zero(t, api.count())
}

const fullVerification = `{
	"id": "ver_123",
	"status": "successful",
	"statusCode": 2010,
	"verificationMethod": "auto",
	"createdAt": "2026-11-01T10:00:00.123Z",
	"updatedAt": "2026-11-01T10:05:30.456+01:00",
	"reason": "",
	"vendorData": "user-42",
	"selfie": {"key": "selfies/ver_123.jpg", "url": "https://cdn.heliumid.io/selfies/ver_123.jpg"},
	"doc": {"type": "passport", "name": "Passport", "issuingState": "FRA",
		"key": {"front": "docs/f.jpg", "back": "docs/b.jpg"},
		"url": {"front": "https://cdn.heliumid.io/docs/f.jpg", "back": "https://cdn.heliumid.io/docs/b.jpg"}},
	"docInfo": {"docType": "P", "docNumber": "X1234567", "issueDate": "2020-01-02", "expiryDate": "2030-01-01",
		"issuingState": "FRA", "firstName": "JANE", "lastName": "DOE", "middleName": "Q", "dob": "1990-05-06", "sex": "F"},
	"somethingNew": {"ignored": true},
	"residence": {"street": "12 HIDDEN LANE", "city": "UTOPIA CITY"}
}`

func TestGetVerificationDecodesTheWholePayload(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodGet, testBaseURL+"/v1/verifications/ver_123", respond(200, okEnvelope(fullVerification)))

	v, err := c.GetVerification(context.Background(), "ver_123")
	require.NoError(t, err)

	req, body := api.last(t)
	assert.Equal(t, http.MethodGet, req.Method)
	assertSDKHeaders(t, req)
	assert.Empty(t, req.Header.Get("Content-Type"), "a GET has no body")
	assert.Empty(t, body)

	assert.Equal(t, "ver_123", v.ID)
	assert.Equal(t, StatusSuccessful, v.Status)
	assert.Equal(t, 2010, v.StatusCode)
	assert.Equal(t, MethodAuto, v.Method)
	assert.True(t, v.CreatedAt.Equal(time.Date(2026, 11, 1, 10, 0, 0, 123e6, time.UTC)), v.CreatedAt)
	assert.True(t, v.UpdatedAt.Equal(time.Date(2026, 11, 1, 9, 5, 30, 456e6, time.UTC)), v.UpdatedAt)
	assert.Equal(t, "user-42", v.VendorData)
	assert.Equal(t, &Media{Key: "selfies/ver_123.jpg", URL: "https://cdn.heliumid.io/selfies/ver_123.jpg"}, v.Selfie)
	assert.Equal(t, &Document{Type: "passport", Name: "Passport", IssuingState: "FRA",
		Key: DocumentSides{Front: "docs/f.jpg", Back: "docs/b.jpg"},
		URL: DocumentSides{Front: "https://cdn.heliumid.io/docs/f.jpg", Back: "https://cdn.heliumid.io/docs/b.jpg"}}, v.Document)
	assert.Equal(t, &DocumentInfo{DocType: "P", DocNumber: "X1234567", IssueDate: "2020-01-02", ExpiryDate: "2030-01-01",
		IssuingState: "FRA", FirstName: "JANE", LastName: "DOE", MiddleName: "Q", DOB: "1990-05-06", Sex: "F"}, v.DocumentInfo)
	assert.Equal(t, time.Date(2026, 11, 8, 10, 0, 0, 123e6, time.UTC), v.ExpiresAt().UTC())
	assert.Equal(t, map[string]json.RawMessage{
		"somethingNew": json.RawMessage(`{"ignored":true}`),
		"residence":    json.RawMessage(`{"street":"12 HIDDEN LANE","city":"UTOPIA CITY"}`),
	}, v.Extra, "the members the SDK does not model, each value as JSON")
}

func TestGetVerificationIsTolerant(t *testing.T) {
	tests := []struct {
		name string
		data string
		want func(t *testing.T, v *Verification)
	}{
		{"status from code", `{"id":"a","statusCode":3033}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, StatusAbandoned, v.Status)
		}},
		{"code as string", `{"id":"a","status":"failed","statusCode":"4100"}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, 4100, v.StatusCode)
		}},
		{"alias status", `{"id":"a","status":"Cancelled"}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, StatusExpired, v.Status)
		}},
		{"unknown status kept", `{"id":"a","status":"escalated"}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, Status("escalated"), v.Status)
			assert.False(t, v.Status.IsKnown())
		}},
		{"numeric status", `{"id":"a","status":2000}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, StatusStarted, v.Status)
		}},
		{"timestamps without zone, in millis, empty and garbage", `{"id":"a","status":"started","createdAt":"2026-11-01T10:00:00.5","updatedAt":1762000000000}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, time.Date(2026, 11, 1, 10, 0, 0, 5e8, time.UTC), v.CreatedAt)
			assert.Equal(t, time.UnixMilli(1762000000000).UTC(), v.UpdatedAt)
		}},
		{"bad timestamps are zero", `{"id":"a","status":"started","createdAt":"yesterday","updatedAt":""}`, func(t *testing.T, v *Verification) {
			assert.True(t, v.CreatedAt.IsZero())
			assert.True(t, v.UpdatedAt.IsZero())
			assert.True(t, v.ExpiresAt().IsZero())
		}},
		{"id from _id", `{"_id":"m1","status":"started"}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, "m1", v.ID)
		}},
		{"id from the request", `{"status":"started"}`, func(t *testing.T, v *Verification) {
			assert.Equal(t, "ver_9", v.ID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.on(http.MethodGet, testBaseURL+"/v1/verifications/ver_9", respond(200, okEnvelope(tt.data)))
			v, err := c.GetVerification(context.Background(), "ver_9")
			require.NoError(t, err)
			tt.want(t, v)
		})
	}
}

func TestGetVerificationRejectsDataThatIsNotASession(t *testing.T) {
	for _, data := range []string{`{}`, `{"foo":1}`, `[]`, `"x"`, `{"status":true}`} {
		c, api := newFakeClient(t)
		api.on(http.MethodGet, testBaseURL+"/v1/verifications/ver_9", respond(200, okEnvelope(data)))
		_, err := c.GetVerification(context.Background(), "ver_9")
		assert.ErrorIs(t, err, ErrUnexpectedResponse, data)
	}
}

func TestGetVerificationEscapesTheID(t *testing.T) {
	c, api := newFakeClient(t)
	api.otherwise(respond(200, okEnvelope(`{"id":"x","status":"started"}`)))
	_, err := c.GetVerification(context.Background(), "ver:1;x=y@z")
	require.NoError(t, err)
	req, _ := api.last(t)
	assert.Equal(t, "/api/v1/verifications/ver:1;x=y@z", req.URL.Path, "the id stays one path segment")
	assert.Empty(t, req.URL.RawQuery)
}

func TestExpiresAt(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, created.Add(7*24*time.Hour), (&Verification{CreatedAt: created}).ExpiresAt())
	assert.True(t, (&Verification{}).ExpiresAt().IsZero())
	assert.True(t, (*Verification)(nil).ExpiresAt().IsZero())
}

func TestNotFoundIsTyped(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodGet, testBaseURL+"/v1/verifications/nope",
		respond(404, errEnvelope(404, "Verification not found"), "X-Request-Id", "req-404"))
	_, err := c.GetVerification(context.Background(), "nope")
	require.ErrorIs(t, err, ErrNotFound)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, 404, apiErr.Code)
	assert.Equal(t, "Verification not found", apiErr.Message)
	assert.Equal(t, "req-404", apiErr.RequestID)
	assert.Equal(t, 1, api.count(), "a 404 is not retried")
	assert.Equal(t, "heliumid: GET /v1/verifications/nope: 404 Not Found: Verification not found (request id req-404); "+
		"check the verification id; sessions belong to the integration whose key created them", err.Error())
}
