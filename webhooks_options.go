package heliumid

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// WebhookOption configures [ParseWebhook] and [WebhookHandler]. An option
// given an invalid value makes ParseWebhook return an error matching
// [ErrInvalidOption], and makes the handler of WebhookHandler answer every
// request with 500, logging why, until the configuration is fixed.
type WebhookOption func(*webhookConfig) error

// webhookConfig is what ParseWebhook and WebhookHandler verify with. It is
// built once per handler and never changes afterwards, so a handler shares it
// between requests without locking.
type webhookConfig struct {
	keys      *webhookKeys // behind a pointer: fmt prints nested pointers as addresses, never their contents
	tolerance time.Duration
	logger    *slog.Logger // nil: no logging; only WebhookHandler logs
}

// webhookKeys are the accepted HMAC keys, the primary first.
type webhookKeys struct {
	keys [][]byte
}

// newWebhookConfig validates apiKey and applies opts; caller names the
// function for the error message. It returns the first error, but a config in
// every case, with every valid option applied: a misconfigured handler still
// needs its logger to say what is wrong.
func newWebhookConfig(caller, apiKey string, opts []WebhookOption) (*webhookConfig, error) {
	cfg := &webhookConfig{keys: &webhookKeys{}, tolerance: defaultWebhookTolerance}
	var first error
	if key, err := webhookKey(apiKey); err != nil {
		first = fmt.Errorf("%w: %s needs the API key of the integration whose webhooks it receives; %s", ErrMissingAPIKey, caller, err)
	} else {
		cfg.keys.keys = append(cfg.keys.keys, key)
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(cfg); err != nil && first == nil {
			first = err
		}
	}
	return cfg, first
}

// webhookKey checks a key the way NewClient does: surrounding whitespace is
// trimmed (a key pasted from a file often ends in a newline), and a blank key
// is refused, because anyone can compute an HMAC with an empty key.
func webhookKey(raw string) ([]byte, error) {
	key, problem := normalizeAPIKey(raw)
	if problem != "" {
		return nil, errors.New(problem)
	}
	return []byte(key), nil
}

// WithWebhookTolerance sets how far Webhook-Timestamp may lie from this
// machine's clock, in the past or the future, for a delivery to be accepted
// (default 5 minutes; a difference of exactly d
// is accepted). d must be positive: the check is what stops a captured
// delivery from being replayed later, so it cannot be switched off. Widen it
// if your clock drifts or deliveries wait in a queue before they reach
// ParseWebhook.
func WithWebhookTolerance(d time.Duration) WebhookOption {
	return func(cfg *webhookConfig) error {
		if d <= 0 {
			return invalidOption("WithWebhookTolerance", "%v must be positive (default %v)", d, defaultWebhookTolerance)
		}
		cfg.tolerance = d
		return nil
	}
}

// WithWebhookKeys accepts deliveries signed with any of keys as well as with
// the apiKey given to ParseWebhook or WebhookHandler. Use it while you rotate
// the API key: deploy with the new key as apiKey and the old one here (or the
// other way round), rotate in the dashboard, and drop the old key once
// deliveries signed with it can no longer arrive (after the tolerance, plus
// however long a delivery may be retried: Helium ID's docs do not say). Each key is trimmed like apiKey; a blank
// key makes the option invalid. Every key costs one HMAC per rejected
// delivery, so keep the list short.
func WithWebhookKeys(keys ...string) WebhookOption {
	return func(cfg *webhookConfig) error {
		for i, k := range keys {
			key, err := webhookKey(k)
			if err != nil {
				return invalidOption("WithWebhookKeys", "key %d of %d: %s", i+1, len(keys), err)
			}
			cfg.keys.keys = append(cfg.keys.keys, key)
		}
		return nil
	}
}

// WithWebhookLogger makes the handler of [WebhookHandler] log through l: a
// debug record per handled delivery (event name, session id and status,
// how long your function took), a warning per rejected request (the
// status answered and why) and an error when your function fails (with its
// error: keep personal data out of it). Records never contain the key, the
// body or the session's personal data. A nil l disables logging (the
// default). ParseWebhook does not log.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(cfg *webhookConfig) error {
		cfg.logger = l
		return nil
	}
}
