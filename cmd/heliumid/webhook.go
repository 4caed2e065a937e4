package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/internal/webhooksig"
)

const webhookHelp = `Usage: heliumid webhook send --to URL --status S --id ID [--vendor-data V] [--signature-format F] [--timeout D] [--allow-unknown-status]

POSTs to your webhook endpoint what Helium ID sends when a session changes
status,

  {"event": "verification.status", "data": <the session, as GET returns it>}

signed with your API key the way Helium ID signs it (Webhook-Timestamp: Unix
milliseconds, now; Webhook-Signature: hex HMAC-SHA256 over
"<timestamp>.<body>"), so heliumid.ParseWebhook and WebhookHandler accept it
with the same key. Helium ID's pages disagree on how the signature is sent;
--signature-format sends it the other ways too, to check that your endpoint
accepts each:

  hex     Webhook-Signature: <hex>              (the default)
  sha256  Webhook-Signature: sha256=<hex>
  v1      Webhook-Signature: v1,<base64>        (Standard Webhooks)
  x-hmac  X-Hmac-Signature: <hex>, and no Webhook-Signature

It prints the response's status and the first 4 KiB of its body, and exits 0
when the endpoint answered 2xx, 4 otherwise. Redirects are not followed.

The body is what "heliumid fake" sends (heliumidtest.WebhookBody), about a
made-up session: method auto, createdAt and updatedAt now, the status code of
--status, a reason for failed, expired and abandoned, and from
submitted on the fake personal data heliumidtest serves (JANE DOE, a specimen
passport of Utopia), so your handler sees what a real decision carries.

--status takes any spelling "heliumid list --status" takes; with
--allow-unknown-status any other value is sent as is, without a status code,
to check that your handler survives a status Helium ID may add later.

Examples:
  heliumid webhook send --to http://localhost:3000/webhooks/heliumid \
      --status successful --id 7e570000-0000-4000-8000-000000000001
  heliumid webhook send --to http://localhost:3000/hook \
      --status not_started --id test-1 --vendor-data user-42
`

// maxPrintedBody bounds how much of the endpoint's response is printed.
const maxPrintedBody = 4 << 10

// webhookSend serves "heliumid webhook send".
func (c *cli) webhookSend(ctx context.Context, args []string) int {
	const name = "webhook send"
	fs := c.newFlagSet(name)
	keyFile := keyFlag(fs)
	to := fs.String("to", "", "your webhook endpoint's `URL` (http or https)")
	status := fs.String("status", "", "the `status` the session changed to")
	id := fs.String("id", "", "the session `ID` the webhook is about")
	vendorData := fs.String("vendor-data", "", "the session's vendor data `V`, as your integration created it")
	timeout := fs.Duration("timeout", 10*time.Second, "give the endpoint `D` to answer")
	allowUnknown := fs.Bool("allow-unknown-status", false, "send a --status this SDK does not know, verbatim")
	format := fs.String("signature-format", "hex", "how to send the signature: `hex|sha256|v1|x-hmac`")
	pos, code, done := c.parse(fs, webhookHelp, args)
	if done {
		return code
	}
	target, st, msg := checkWebhookFlags(pos, *to, *status, *id, *timeout, *allowUnknown)
	if msg != "" {
		return c.usageError(name, msg)
	}
	if !slices.Contains(signatureFormats, *format) {
		return c.usageError(name, fmt.Sprintf("--signature-format %q: want one of %s", *format, strings.Join(signatureFormats, ", ")))
	}
	key, err := c.apiKey(*keyFile)
	if err != nil {
		return c.fail(name, err)
	}

	now := time.Now()
	body := heliumidtest.WebhookBody(*id, st, now, *vendorData)
	fmt.Fprintf(c.stdout, "POST %s\nverification.status: %s is %s\n", target.Redacted(), clean(*id), clean(string(st)))
	resp, elapsed, err := postWebhook(ctx, target, body, signatureHeaders(heliumid.SignWebhook(body, key, now), *format), *timeout)
	switch {
	case errors.Is(err, context.Canceled):
		return c.fail(name, err) // interrupted
	case err != nil:
		return c.report(name, err, "is your endpoint listening at "+target.Redacted()+"?")
	}
	fmt.Fprintf(c.stdout, "%s in %v\n", resp.status, elapsed.Round(time.Millisecond))
	if len(resp.body) > 0 {
		fmt.Fprintln(c.stdout, printableBody(resp.body, resp.truncated))
	}
	if resp.code < 200 || resp.code > 299 {
		hint := ""
		if resp.code == http.StatusUnauthorized {
			hint = "does your endpoint verify with the key this command signs with (" + envAPIKey + " or --api-key-file)?"
		}
		return c.report(name, fmt.Errorf("the endpoint answered %s", resp.status), hint)
	}
	return exitOK
}

// checkWebhookFlags validates the command line of "webhook send"; msg
// says what is wrong.
func checkWebhookFlags(pos []string, to, status, id string, timeout time.Duration, allowUnknown bool) (target *url.URL, st heliumid.Status, msg string) {
	switch {
	case len(pos) > 0:
		return nil, "", fmt.Sprintf("unexpected argument %q (webhook send takes flags only)", pos[0])
	case to == "":
		return nil, "", "missing --to URL"
	case status == "":
		return nil, "", "missing --status"
	case strings.TrimSpace(id) == "":
		return nil, "", "missing --id"
	case timeout <= 0:
		return nil, "", fmt.Sprintf("--timeout %v: want more than 0", timeout)
	}
	target, err := url.Parse(to)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, "", fmt.Sprintf("--to %q: want an absolute http or https URL, such as http://localhost:3000/webhooks", to)
	}
	st = heliumid.ParseStatus(status)
	if !st.IsKnown() {
		if !allowUnknown {
			return nil, "", fmt.Sprintf("--status: unknown status %q; want one of %s (or pass --allow-unknown-status)", status, strings.Join(statusNames(), ", "))
		}
		st = heliumid.Status(status)
	}
	return target, st, ""
}

// signatureFormats are the values of --signature-format.
var signatureFormats = []string{"hex", "sha256", "v1", "x-hmac"}

// signatureHeaders rewrites the headers of heliumid.SignWebhook (a hex
// Webhook-Signature) into format, one of signatureFormats.
func signatureHeaders(signed http.Header, format string) http.Header {
	sig := signed.Get(webhooksig.HeaderSignature)
	switch format {
	case "sha256":
		signed.Set(webhooksig.HeaderSignature, "sha256="+sig)
	case "v1":
		mac, _ := hex.DecodeString(sig) // SignWebhook writes hex
		signed.Set(webhooksig.HeaderSignature, "v1,"+base64.StdEncoding.EncodeToString(mac))
	case "x-hmac":
		signed.Del(webhooksig.HeaderSignature)
		signed.Set(webhooksig.HeaderHMACSignature, sig)
	}
	return signed
}

// webhookResponse is what the endpoint answered.
type webhookResponse struct {
	code      int
	status    string // "200 OK"
	body      []byte // at most maxPrintedBody bytes
	truncated bool
}

// postWebhook sends one signed delivery and reads a bounded part of the
// answer. Redirects are not followed, as a real sender would not.
func postWebhook(ctx context.Context, target *url.URL, body []byte, signature http.Header, timeout time.Duration) (*webhookResponse, time.Duration, error) {
	hc := &http.Client{
		// One request, so no connection to keep: none is left open when
		// the command returns.
		Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	for k, v := range signature {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "heliumid-cli/"+heliumid.Version)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, already printed
		}
		return nil, 0, fmt.Errorf("sending the webhook: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPrintedBody+1))
	elapsed := time.Since(start)
	if err != nil {
		return nil, elapsed, fmt.Errorf("reading the endpoint's answer (%s): %w", resp.Status, err)
	}
	out := &webhookResponse{code: resp.StatusCode, status: resp.Status, body: b}
	if len(b) > maxPrintedBody {
		out.body, out.truncated = b[:maxPrintedBody], true
	}
	return out, elapsed, nil
}

// printableBody returns a response body fit for a terminal: control
// characters other than newlines and tabs replaced, a truncation marked.
func printableBody(b []byte, truncated bool) string {
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, string(b))
	s = strings.TrimRight(s, "\n")
	if truncated {
		s += "\n… (truncated after 4 KiB)"
	}
	return s
}
