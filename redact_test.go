package heliumid

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryVerbHidesPersonalData: without a Format method, fmt prints the
// fields of a struct one by one for the verbs a String method does not
// cover (%d, %x, %q, ...); every verb of every type that holds personal
// data prints what %v prints instead, and %#v the same, named as Go
// syntax would.
func TestEveryVerbHidesPersonalData(t *testing.T) {
	var v Verification
	require.NoError(t, json.Unmarshal([]byte(fullVerification), &v))
	ev := WebhookEvent{Event: "verification.status", Data: &v, Timestamp: time.UnixMilli(1).UTC(), Raw: json.RawMessage(fullVerification)}
	values := map[string]any{
		"Verification": v, "*Verification": &v, "Document": *v.Document, "*Document": v.Document,
		"DocumentInfo": *v.DocumentInfo, "*DocumentInfo": v.DocumentInfo, "Media": *v.Selfie, "*Media": v.Selfie,
		"DocumentSides": v.Document.URL, "WebhookEvent": ev, "*WebhookEvent": &ev,
		"only Extra": Verification{ID: "x", Extra: v.Extra}, "*only Extra": &Verification{ID: "x", Extra: v.Extra},
		"a struct holding one": struct{ V Verification }{v}, "a slice of them": []Verification{v},
	}
	require.NotEmpty(t, v.Extra)
	pii := []string{"JANE", "DOE", "X1234567", "1990-05-06", "cdn.heliumid.io", "selfies/", "docs/f.jpg", "user-42", "passport", "FRA", "HIDDEN LANE", "UTOPIA CITY"}
	verbs := []string{"%v", "%+v", "%s", "%d", "%t", "%o", "%O", "%b", "%e", "%E", "%f", "%g", "%c", "%U", "%x", "%X", "%q", "%10.4s", "%-30x", "%#x", "%#q"}
	for name, val := range values {
		plain := fmt.Sprintf("%v", val)
		for _, verb := range append(verbs, "%#v") {
			out := fmt.Sprintf(verb, val)
			for _, secret := range pii {
				assert.NotContains(t, out, secret, "%s with %s", name, verb)
				assert.NotContains(t, out, fmt.Sprintf("%x", secret), "%s with %s, in hex", name, verb)
			}
		}
		if name == "a struct holding one" {
			continue // %+v names its field, as it should
		}
		for _, verb := range verbs {
			assert.Equal(t, plain, fmt.Sprintf(verb, val), "%s with %s prints what %%v prints", name, verb)
		}
	}
}
