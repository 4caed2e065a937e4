package heliumid

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// The decoders of sessions, pages, created sessions and the envelope each
// have a fast path that must come to exactly what the reference decoding
// with encoding/json comes to: the same value, or the same error. These
// tests decode every input both ways and compare.

// fastPathInputs are sessions and pages as Helium ID writes them, and the
// near misses the fast paths must hand to encoding/json.
var fastPathInputs = []string{
	benchSessionJSON,
	`{}`, ` { } `, `{"id":"x"}`, "\t{\n\"id\" : \"x\" ,\r\n\"status\":\"started\"}\n",
	// Names: case, folding, escapes, repeats, unknown members.
	`{"ID":"x"}`, `{"Id":"x","id":"y"}`, `{"id":"x","ID":"y"}`, `{"ſtatus":"started"}`, `{"STATUSCODE":2010}`,
	`{"\u0069d":"x"}`, `{"i\"d":"x"}`, `{"id":"a","id":"b"}`, `{"status":"failed","status":"started"}`,
	`{"docinfo":{"dob":"x"}}`, `{"doc":{"KEY":{"front":"a"}}}`, `{"doc":{"key":{"Front":"a"}}}`,
	`{"extra":[1,2,{"a":null}],"id":"x"}`, `{"extra":tru,"id":"x"}`, `{"extra":[1,}`, `{"x":"` + "\x01" + `"}`,
	"{\"id\x01\":\"x\"}", `{"":1}`, `{"id":"x",}`, `{"id":"x"} x`, `{"id":"x"}}`, `{"id" "x"}`, `{"id":}`, `{id:"x"}`,
	// Strings: escapes, invalid UTF-8, control characters, other types.
	`{"id":"a\u0041\n"}`, `{"id":"a\x"}`, "{\"id\":\"a\xffb\"}", "{\"reason\":\"a\tb\"}", `{"id":5}`, `{"id":null}`,
	`{"id":true}`, `{"id":["x"]}`, `{"verificationMethod":"manual"}`, `{"verificationMethod":1}`, `{"vendorData":"v\/1"}`,
	// Statuses and codes.
	`{"status":"Completed "}`, `{"status":" not started"}`, `{"status":"on hold"}`, `{"status":2010}`, `{"status":7}`,
	`{"status":null}`, `{"status":true}`, `{"status":{}}`, `{"status":"\u0073tarted"}`, `{"status":-0}`, `{"status":1e3}`,
	`{"status":012}`, `{"statusCode":2010}`, `{"statusCode":"2010"}`, `{"statusCode":2010.5}`, `{"statusCode":"x"}`,
	`{"statusCode":null}`, `{"statusCode":[1]}`, `{"statusCode":01}`, `{"statusCode":1e400}`, `{"statusCode":2010,"status":""}`,
	// Timestamps.
	`{"createdAt":"2026-11-28T12:00:00.000Z"}`, `{"createdAt":"2026-11-28T12:00:00+02:00"}`, `{"createdAt":1700000000000}`,
	`{"createdAt":"2026-11-28 12:00:00"}`, `{"createdAt":"yesterday"}`, `{"createdAt":null}`, `{"createdAt":{}}`,
	`{"updatedAt":"2026-11-28T12:00:00\u002e5Z"}`, `{"createdAt":17e11}`, `{"createdAt":-1}`, `{"createdAt":"2026-11-28T12:00:00Z","createdAt":1}`,
	// Nested objects.
	`{"selfie":null}`, `{"selfie":{}}`, `{"selfie":{"key":"k","url":"u"}}`, `{"selfie":[]}`, `{"selfie":"x"}`,
	`{"selfie":{"key":1}}`, `{"doc":{"key":null,"url":{"back":"b"}}}`, `{"doc":{"key":"x"}}`, `{"doc":{"type":"P","name":null}}`,
	`{"docInfo":{"firstName":"Erika","sex":"F","extra":{}}}`, `{"docInfo":{"dob":19640812}}`, `{"docInfo":null}`,
	`{"doc":{"key":{"front":"a","front":"b"}}}`, `{"selfie":{"key":"a"},"selfie":{"url":"b"}}`,
	// Meta.
	`{"meta":{"plan":"pro","n":3,"x":[1,{"y":null}]}}`, `{"meta":null}`, `{"meta":[]}`, `{"meta":"x"}`, `{"meta":{"a":1,"a":2}}`,
	`{"meta":{"a":}}`, `{"meta":{"a":1.5e3,"b":-0,"c":true,"d":null,"e":"x","a":2}}`, `{"meta":{"n":01}}`, `{"meta":{"n":1e400}}`,
	`{"meta":{"k\u00e9":"v"}}`, "{\"meta\":{\"\xff\":1}}", "{\"meta\":{\"a\":\"\xff\"}}", `{"meta":{"a":{"b":1}}}`, `{"meta":{"a":[1]}}`,
	`{"meta":{"a":"\n"}}`, `{"meta":{}}`, `{"meta":{"a":1,}}`, `{"meta":{"a" 1}}`, `{"meta":{"a":-}}`, `{"meta":{"a":1.}}`,
	`{"meta":{"a":tru}}`, `{"meta":{"a":0x10}}`, `{"meta":{"a":Infinity}}`, `{"meta":{"a":1_0}}`, `{"meta":{"a":"b"} }`,
	// Ids from elsewhere.
	`{"_id":"m"}`, `{"verificationId":"v"}`, `{"_id":"m","verificationId":"v","id":""}`, `{"_id":5}`,
	// Not a session.
	``, ` `, `null`, `[]`, `"x"`, `1`, `true`, `{`, `}`, `{"id":"x"`, `{"id":"x"]`,
	// Pages.
	`[]`, `[` + benchSessionJSON + `,{"id":"b"}]`, `[null]`, `[{"id":"a"},]`, `[1]`, `[{"id":"a"} {"id":"b"}]`, `[{"ID":"a"}]`,
	`{"verifications":[{"id":"a"}],"hasNextPage":true,"totalPages":3,"total":"60","limit":20}`,
	`{"items":[{"id":"a"}],"hasNext":false,"pages":2}`, `{"docs":[],"totalDocs":0}`, `{"results":null,"items":[{"id":"b"}]}`,
	`{"verifications":[],"items":[{"id":"b"}]}`, `{"verifications":[{"id":"a"}],"verifications":[{"id":"b"}]}`,
	`{"Verifications":[{"id":"a"}]}`, `{"hasNextPage":null}`, `{"hasNextPage":"true"}`, `{"hasNextPage":1}`,
	`{"limit":20.0,"total":1e2}`, `{"verifications":{}}`, `{"verifications":[{"id":5}]}`, `{"verifications":[{"id":"a"},null]}`,
	// Created sessions.
	`{"link":"https://verify.heliumid.io/?processId=abc","verificationId":"abc"}`, `{"link":"https://x/?processId=a"}`,
	`{"Link":"https://x/"}`, `{"link":5}`, `{"link":null,"verificationId":"a"}`, `{"link":"https:\/\/x\/"}`,
}

// envelopeInputs wrap the data above, and vary the envelope itself.
func envelopeInputs() []string {
	in := []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"status":true}`, `{"status":false}`, `{"status":true,"data":null}`,
		`{"status":false,"message":"Invalid key","code":401}`, `{"status":false,"message":["a","b"],"code":"422"}`,
		`{"status":false,"error":{"x":1}}`, `{"status":false,"message":"a\u0041","error":"b"}`, `{"status":"yes","data":{}}`,
		`{"status":1,"data":{}}`, `{"Status":true,"data":{"id":"x"}}`, `{"status":true,"DATA":{"id":"x"}}`,
		`{"status":true,"data":{"id":"x"},"data":{"status":"started"}}`, `{"status":true,"data":null,"data":{"id":"x"}}`,
		`{"status":true,"status":false,"data":{"id":"x"}}`, `{"status":true,"data":{"id":"x"},"extra":tru}`,
		`{"status":true,"data":{"id":"x"},"code":2x}`, `{"status":true,"data":{"id":"x"},"message":"` + "\x01" + `"}`,
		`{"status":true,"data":"x"}`, `{"status":true,"data":5}`, `{"status":true,"data":{"id":"x"}} `, `{"status":true,"data":{"id":"x"}}x`,
		` {"status" : true , "data" : {"id":"x"} } `, `{"status":true,"data":{"id":"x"},"message":null,"code":null}`,
		`{"status":false,"data":{"id":"x"},"code":500,"message":"boom ` + testKey + `"}`,
	}
	for _, data := range fastPathInputs {
		in = append(in,
			`{"status":true,"message":"OK","data":`+data+`,"code":200}`,
			`{"data":`+data+`,"status":true}`)
	}
	return in
}

// checkSessionFastPath decodes data as a session both ways.
func checkSessionFastPath(t *testing.T, data []byte) {
	t.Helper()
	var fast, slow Verification
	errFast, errSlow := fast.UnmarshalJSON(data), slow.decodeSlow(data)
	compareDecodings(t, "session", data, &fast, &slow, errFast, errSlow)

	// Into a session that is not blank, the reference decoding merges; so
	// must UnmarshalJSON.
	start := Verification{ID: "old", Reason: "kept", Selfie: &Media{Key: "old"}, Meta: map[string]any{"old": true}}
	fast, slow = start, start
	fast.Selfie, slow.Selfie = &Media{Key: "old"}, &Media{Key: "old"}
	fast.Meta, slow.Meta = map[string]any{"old": true}, map[string]any{"old": true}
	errFast, errSlow = fast.UnmarshalJSON(data), slow.decodeSlow(data)
	compareDecodings(t, "session into a non-blank one", data, &fast, &slow, errFast, errSlow)
}

func checkPageFastPath(t *testing.T, data []byte) {
	t.Helper()
	var fast, slow page
	errFast, errSlow := fast.UnmarshalJSON(data), slow.decodeSlow(data)
	compareDecodings(t, "page", data, &fast, &slow, errFast, errSlow)
}

func checkCreatedFastPath(t *testing.T, data []byte) {
	t.Helper()
	var fast, slow CreatedVerification
	okFast := fast.scan(data)
	errSlow := json.Unmarshal(data, &slow)
	if okFast && (errSlow != nil || fast != slow) {
		t.Fatalf("created session %q: fast path gave %+v, encoding/json %+v, %v", data, fast, slow, errSlow)
	}
}

func checkEnvelopeFastPath(t *testing.T, c *Client, body []byte) {
	t.Helper()
	for _, mk := range []func() any{
		func() any { return new(Verification) },
		func() any { return new(page) },
		func() any { return new(CreatedVerification) },
	} {
		fast, slow := mk(), mk()
		errFast := c.decodeEnvelope(200, body, fast, true)
		errSlow := c.decodeEnvelope(200, body, slow, false)
		compareDecodings(t, fmt.Sprintf("envelope of %T", fast), body, fast, slow, errFast, errSlow)
	}
}

// compareDecodings fails unless both decodings erred alike, or neither did
// and they decoded the same value.
func compareDecodings(t *testing.T, what string, data []byte, fast, slow any, errFast, errSlow error) {
	t.Helper()
	switch {
	case (errFast == nil) != (errSlow == nil):
		t.Fatalf("%s %q: fast path error %v, reference error %v", what, data, errFast, errSlow)
	case errFast != nil:
		if errFast.Error() != errSlow.Error() || !reflect.DeepEqual(errFast, errSlow) {
			t.Fatalf("%s %q: fast path error %#v, reference error %#v", what, data, errFast, errSlow)
		}
	case !reflect.DeepEqual(fast, slow):
		t.Fatalf("%s %q: fast path decoded\n%#v\nreference\n%#v", what, data, fast, slow)
	}
}

func TestFastPathsMatchEncodingJSON(t *testing.T) {
	c := fuzzClient(t)
	for _, in := range fastPathInputs {
		checkSessionFastPath(t, []byte(in))
		checkPageFastPath(t, []byte(in))
		checkCreatedFastPath(t, []byte(in))
	}
	for _, in := range envelopeInputs() {
		checkEnvelopeFastPath(t, c, []byte(in))
	}
	for _, body := range append(benchListBodies[1:], benchGetBody, benchCreateBody, webhookFixture) {
		checkEnvelopeFastPath(t, c, body)
	}
}

// TestFastPathsAreTaken makes sure the fast paths are not silently always
// falling back: the documented payloads must go through them.
func TestFastPathsAreTaken(t *testing.T) {
	var v Verification
	if !v.scan([]byte(benchSessionJSON)) {
		t.Error("a documented session does not take the fast path")
	}
	var list struct{ Data json.RawMessage }
	if err := json.Unmarshal(benchListBodies[1], &list); err != nil {
		t.Fatal(err)
	}
	var p page
	if !p.scan(list.Data) {
		t.Error("a documented page does not take the fast path")
	}
	var cv CreatedVerification
	if !scanEnvelope(benchCreateBody, &cv, &envelope{}) {
		t.Error("a documented create response does not take the fast path")
	}
	var got Verification
	if !scanEnvelope(benchGetBody, &got, &envelope{}) {
		t.Error("a documented get response does not take the fast path")
	}
}

// FuzzFastPaths looks for an input on which a fast path and encoding/json
// disagree.
func FuzzFastPaths(f *testing.F) {
	for _, in := range fastPathInputs {
		f.Add([]byte(in))
	}
	f.Add(benchGetBody)
	f.Add(benchListBodies[1])
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSessionFastPath(t, data)
		checkPageFastPath(t, data)
		checkCreatedFastPath(t, data)
		checkEnvelopeFastPath(t, fuzzClient(t), data)
	})
}
