package heliumid

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerificationJSONRoundTripKeepsExtra: a session decoded from what the
// API sent, encoded with encoding/json in any of its ways and decoded
// again, is the same Verification, Extra included, byte for byte.
func TestVerificationJSONRoundTripKeepsExtra(t *testing.T) {
	data := `{"id":"ver_1","status":"review","createdAt":"2026-11-01T10:00:00.123Z","updatedAt":1762000000000,
		"riskScore": 0.93, "flags": ["pep", "sanctions"], "address": {"line1": "1 <Main> St & Co", "zip": null},
		"empty": {}, "note": "line\nbreak \u2028 é"}`
	var v Verification
	require.NoError(t, decodeData(t, data, &v))
	require.Len(t, v.Extra, 5)
	assert.JSONEq(t, `{"line1":"1 <Main> St & Co","zip":null}`, string(v.Extra["address"]), "verbatim as JSON")

	encodings := map[string]func() ([]byte, error){
		"Marshal":       func() ([]byte, error) { return json.Marshal(v) },
		"Marshal of *v": func() ([]byte, error) { return json.Marshal(&v) },
		"MarshalIndent": func() ([]byte, error) { return json.MarshalIndent(v, "", "  ") },
		"inside a struct without HTML escaping": func() ([]byte, error) {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			err := enc.Encode(struct{ V *Verification }{&v})
			return []byte(b.String()), err
		},
	}
	for name, encode := range encodings {
		b, err := encode()
		require.NoError(t, err, name)
		var back Verification
		if strings.HasPrefix(name, "inside") {
			var wrapper struct{ V *Verification }
			require.NoError(t, json.Unmarshal(b, &wrapper), name)
			back = *wrapper.V
		} else {
			require.NoError(t, json.Unmarshal(b, &back), name)
		}
		assert.Equal(t, v, back, "%s: %s", name, b)
	}

	b, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"address":{"line1":"1 \u003cMain\u003e St \u0026 Co","zip":null},"empty":{},"flags":["pep","sanctions"]`,
		"Extra's members follow the fields, in the order of their names")
	var generic map[string]any
	require.NoError(t, json.Unmarshal(b, &generic))
	assert.Equal(t, 0.93, generic["riskScore"], "one object: the Extra members sit beside the fields, as the API sent them")
}

func TestVerificationWithoutExtraEncodesAsBefore(t *testing.T) {
	v := Verification{ID: "v", Status: StatusFailed}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	plain, err := json.Marshal(verificationFields(v))
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(b))
	var back Verification
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Nil(t, back.Extra, "nil when there is nothing the SDK does not model")
}

func TestMarshalJSONRefusesWhatWouldNotComeBack(t *testing.T) {
	for name, extra := range map[string]map[string]json.RawMessage{
		"a modeled name":               {"status": json.RawMessage(`"successful"`)},
		"a modeled name in other case": {"DocInfo": json.RawMessage(`{}`)},
		"an alias of the id":           {"verificationId": json.RawMessage(`"x"`)},
		"a value that is not JSON":     {"x": json.RawMessage(`{`)},
	} {
		_, err := json.Marshal(Verification{ID: "v", Extra: extra})
		assert.Error(t, err, name)
	}
}

// TestModeledMembersMatchTheTags: the members kept out of Extra are
// exactly those Verification's fields and the id's aliases decode, so a
// field added later cannot show up in Extra too.
func TestModeledMembersMatchTheTags(t *testing.T) {
	var tags []string
	for _, typ := range []reflect.Type{reflect.TypeFor[Verification](), reflect.TypeFor[wireVerification]()} {
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" && !slices.Contains(tags, name) {
				tags = append(tags, name)
			}
		}
	}
	assert.ElementsMatch(t, tags, modeledMembers[:])
}

func TestDecodingIntoAVerificationAddsToItsExtra(t *testing.T) {
	v := Verification{ID: "v", Extra: map[string]json.RawMessage{"kept": json.RawMessage(`1`), "replaced": json.RawMessage(`2`)}}
	require.NoError(t, json.Unmarshal([]byte(`{"replaced":3,"new":true}`), &v))
	assert.Equal(t, map[string]json.RawMessage{"kept": json.RawMessage(`1`), "replaced": json.RawMessage(`3`), "new": json.RawMessage(`true`)}, v.Extra,
		"as encoding/json decodes into a map that is already there")
}

// TestEveryPathKeepsExtra: a list's sessions and a webhook's session get
// their Extra as GetVerification's does.
func TestEveryPathKeepsExtra(t *testing.T) {
	want := map[string]json.RawMessage{"score": json.RawMessage(`7`)}
	for _, list := range []string{`[{"id":"a","score":7}]`, `{"items":[{"id":"a","score":7}],"total":1}`} {
		var p page
		require.NoError(t, decodeData(t, list, &p))
		require.Len(t, p.items, 1)
		assert.Equal(t, want, p.items[0].Extra, list)
	}
	ev, err := parseSignedWebhook([]byte(`{"event":"verification.status","data":{"id":"a","score":7}}`))
	require.NoError(t, err)
	assert.Equal(t, want, ev.Data.Extra)
}

func TestCreateVerificationSendsExtra(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodPost, testBaseURL+"/v1/verifications", respond(200, okEnvelope(createdData)))

	_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{
		VendorData: "user-42",
		Extra:      map[string]any{"zeta": json.RawMessage(`{"a":1}`), "callback": "https://acme.test/done", "language": "fr"},
	})
	require.NoError(t, err)
	_, body := api.last(t)
	assert.Equal(t, `{"vendorData":"user-42","callback":"https://acme.test/done","language":"fr","zeta":{"a":1}}`, string(body),
		"the typed fields, then Extra's members in the order of their names")

	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{Extra: map[string]any{"only": 1}})
	require.NoError(t, err)
	_, body = api.last(t)
	assert.Equal(t, `{"only":1}`, string(body))
}

func TestCreateVerificationRefusesExtraItSendsItself(t *testing.T) {
	c, api := newFakeClient(t)
	requests := map[string]*CreateVerificationRequest{
		"vendorData, typed field empty": {Extra: map[string]any{"vendorData": "x"}},
		"vendorData, typed field set":   {VendorData: "u", Extra: map[string]any{"vendorData": "x"}},
		"meta":                          {Extra: map[string]any{"meta": map[string]any{}}},
		"method":                        {Method: MethodAuto, Extra: map[string]any{"method": "manual"}},
		"method in other case":          {Extra: map[string]any{"METHOD": "manual"}},
		"null":                          {Extra: map[string]any{"vendorData": nil}},
	}
	for name, req := range requests {
		_, err := c.CreateVerification(context.Background(), req)
		require.ErrorIs(t, err, ErrInvalidRequest, name)
		assert.Contains(t, err.Error(), "set the field instead", name)
	}
	_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{Extra: map[string]any{"cb": func() {}}})
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Contains(t, err.Error(), `Extra["cb"] does not encode as JSON`)
	assert.Zero(t, api.count(), "refused before any I/O")
}
