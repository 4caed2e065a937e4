package heliumid

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// wireWebhook is a delivery's body as it comes over the wire:
// {"event": "...", "data": {...}}.
type wireWebhook struct {
	Event string            `json:"event"`
	Data  *wireVerification `json:"data"`
}

// decodeWebhookBody decodes a verified body into ev.Event and ev.Data, with
// encoding/json and the same conversion as GetVerification. Its errors
// match ErrInvalidWebhookBody and say what is wrong without quoting the
// body (it is personal data).
func decodeWebhookBody(body []byte, ev *WebhookEvent) error {
	var w *wireWebhook // stays nil for a body of null
	if err := json.Unmarshal(body, &w); err != nil {
		return webhookBodyError(err)
	}
	if w == nil {
		return fmt.Errorf("%w: the body is not a JSON object but null", ErrInvalidWebhookBody)
	}
	ev.Event = w.Event
	if w.Data != nil {
		ev.Data = new(Verification)
		if msg := w.Data.into(ev.Data); msg != "" {
			return fmt.Errorf(`%w: "data" is not a session object: %s`, ErrInvalidWebhookBody, msg)
		}
	}
	return nil
}

// webhookBodyError says where encoding/json found the body wrong.
func webhookBodyError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%w: the body is not a JSON object: invalid JSON near byte %d", ErrInvalidWebhookBody, syn.Offset)
	case !errors.As(err, &typ):
		return fmt.Errorf("%w: %s", ErrInvalidWebhookBody, describeJSONError(err))
	case typ.Field == "":
		return fmt.Errorf("%w: the body is not a JSON object but a JSON %s", ErrInvalidWebhookBody, typ.Value)
	case typ.Field == "event":
		return fmt.Errorf(`%w: "event" is not a JSON string`, ErrInvalidWebhookBody)
	case typ.Field == "data":
		return fmt.Errorf(`%w: "data" is not a session object: a JSON %s`, ErrInvalidWebhookBody, typ.Value)
	}
	return fmt.Errorf(`%w: "data" is not a session object: field %q holds a JSON %s`,
		ErrInvalidWebhookBody, strings.TrimPrefix(fieldPath(typ), "data."), typ.Value)
}
