package heliumid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/internal/wire"
)

// maxMediaSize is the largest file DownloadMedia copies: 20 MiB. A
// document photo or a selfie is a few MiB at most; the limit keeps a wrong
// or hostile URL from filling a disk.
const maxMediaSize = 20 << 20

// maxMediaRedirects is how many redirects DownloadMedia follows.
const maxMediaRedirects = 10

// DownloadMedia copies the file at url (a [Media].URL, a [DocumentSides]
// URL of a session) to w and returns the bytes written. It streams: the
// file is never held in memory whole. Write to a temporary file and rename
// it once DownloadMedia returns nil: after an error, w may hold part of the
// file.
//
// It is an HTTP GET with these bounds:
//   - At most 20 MiB (a document photo or a selfie is a few MiB at most;
//     the limit keeps a wrong or hostile URL from filling your disk): a
//     larger file is an error matching [ErrUnexpectedResponse] that says
//     so, and nothing past the limit is written (nothing at all when the
//     response declares its length).
//   - https only; http only for a loopback host (localhost, 127.0.0.0/8,
//     ::1), for tests. Any other URL (or a nil w) fails before any I/O
//     with an error matching [ErrInvalidRequest].
//   - Redirects are followed, up to 10, each to a URL that passes the same
//     check, and never from https to http.
//   - Retried as a GET is (network errors, 408, 429, 500, 502, 503, 504;
//     the backoff, Retry-After and cap of [WithMaxRetries],
//     [WithRetryBackoff] and [WithRetryAfterCap]; [WithRequestTimeout]
//     bounds each attempt), but only while nothing has been written to w:
//     once bytes went out, a failure is returned, and the file must be
//     fetched again into an empty w.
//
// The request carries no credentials and nothing of the SDK's own: not
// the API key, not the headers of [WithHeader], not the SDK's User-Agent,
// whatever the host, the base URL's included: a URL read from a response
// must not lead the key anywhere, and a media URL is expected to carry its
// own authorization (the sample in Helium ID's docs shows S3 URLs; a
// presigned one holds it in the query). For the same reason [Middleware] does not run
// (middleware may add credentials of a gateway in front of the API), and
// a media request neither waits for nor causes the pause a 429 of the API
// imposes on the client's reads: the media host is another server. It
// goes through the http.Client of [WithHTTPClient] (its transport, and its
// Timeout, which bounds each hop including the body), not through that
// client's redirect policy.
//
// Errors and log records name the URL's scheme and host, never its path or
// query: a presigned URL's query is a credential. A response other than
// 2xx is an [*APIError] (with the status, Retry-After and request id; the
// body of a storage service's error is not kept, as it may quote the URL).
// [WithResponseInfo] describes the last response.
func (c *Client) DownloadMedia(ctx context.Context, url string, w io.Writer, opts ...Option) (int64, error) {
	cfg, err := c.startCall(ctx, opts)
	if err != nil {
		return 0, err
	}
	u, err := parseMediaURL(url)
	if err != nil {
		return 0, err
	}
	if w == nil {
		return 0, fmt.Errorf("%w: DownloadMedia got a nil writer; pass the file or buffer to copy the media into", ErrInvalidRequest)
	}
	d := &download{c: c, cfg: cfg, url: u, out: &countingWriter{w: w}, hc: mediaHTTPClient(cfg)}
	last, sent, err := d.run(ctx)
	if cfg.info != nil {
		cfg.info.fill(c, last, sent)
	}
	return d.out.n, err
}

// parseMediaURL parses and checks a media URL. Its errors never quote the
// URL: its query may be a credential.
func parseMediaURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%w: the media URL is empty: the session holds no such file (yet)", ErrInvalidRequest)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the media URL does not parse as a URL (it is not quoted here: it may carry credentials)", ErrInvalidRequest)
	}
	if why := refusedMediaURL(u); why != "" {
		return nil, fmt.Errorf("%w: media URL %s: %s", ErrInvalidRequest, origin(u), why)
	}
	return u, nil
}

// refusedMediaURL says why DownloadMedia does not fetch u, or returns "".
func refusedMediaURL(u *url.URL) string {
	switch {
	case !u.IsAbs() || u.Host == "":
		return "not an absolute URL"
	case u.User != nil:
		return "it carries user info"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return ""
	case u.Scheme == "http":
		return "plain http; DownloadMedia fetches https URLs only (http on loopback hosts only, for tests)"
	}
	return "not an https URL"
}

// origin is how errors and logs name where a URL goes: its scheme and
// host, and "/…" for the path and query they leave out.
func origin(u *url.URL) string {
	if u.Scheme == "" && u.Host == "" {
		return "(a relative URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// mediaHTTPClient returns the http.Client DownloadMedia sends with: the
// caller's (WithHTTPClient) or the SDK's own, following no redirect itself,
// so that download.attempt checks each one.
func mediaHTTPClient(cfg *config) *http.Client {
	base := cfg.callerHC
	if base == nil {
		base = cfg.hc
	}
	hc := *base
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// download is one DownloadMedia call.
type download struct {
	c   *Client
	cfg *config
	url *url.URL
	out *countingWriter
	hc  *http.Client
	at  *url.URL // where the last attempt ended, for its log records
}

// run is the loop of attempts: the policy of request.go's run for a GET,
// without the API's cool-down, and with no retry once w was written to.
func (d *download) run(ctx context.Context) (o outcome, sent int, err error) {
	for attempt := 1; ; attempt++ {
		o = d.attempt(ctx, attempt)
		sent++
		if o.err == nil {
			return o, sent, nil
		}
		setAttempts(o.err, attempt)
		if o.retry && d.out.n > 0 {
			return o, sent, fmt.Errorf("%w; %d bytes were already written, so it was not retried: fetch the file again into an empty writer", o.err, d.out.n)
		}
		wait, retry, why := d.cfg.retryDelay(ctx, o, attempt)
		if why != "" {
			d.warn(ctx, why, attempt, o, wait)
		}
		if !retry {
			return o, sent, o.err
		}
		if err := sleep(ctx, wait); err != nil {
			return o, sent, d.fail(d.url, err)
		}
	}
}

// attempt fetches the file once, following redirects, and copies it to
// d.out.
func (d *download) attempt(ctx context.Context, attempt int) outcome {
	if d.cfg.requestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d.cfg.requestTimeout, errAttemptTimedOut)
		defer cancel() // after the body is copied: the timeout bounds the whole attempt
	}
	logging := d.cfg.logger != nil && d.cfg.logger.Enabled(ctx, slog.LevelDebug)
	var start time.Time
	if logging {
		start = time.Now()
	}
	u := d.url
	d.at = u
	for hops := 0; ; hops++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return outcome{err: d.fail(u, fmt.Errorf("%w: building the request: the URL is not usable", ErrInvalidRequest))}
		}
		// An empty User-Agent makes net/http send none at all, rather than
		// its own: nothing about the caller goes to a media host.
		req.Header["User-Agent"] = []string{""}
		resp, err := d.hc.Do(req)
		if err != nil {
			if logging {
				d.debug(ctx, attempt, 0, time.Since(start), "")
			}
			if badLocation(err) {
				return outcome{err: d.fail(u, fmt.Errorf("%w: %s", ErrUnexpectedResponse, locationDoesNotParse))}
			}
			return d.transportOutcome(ctx, u, err)
		}
		next, redirected, problem := redirectTarget(u, resp)
		if redirected || problem != "" {
			drainAndClose(resp.Body)
		}
		switch {
		case problem != "":
			return outcome{err: d.fail(u, fmt.Errorf("%w: %s", ErrUnexpectedResponse, problem)), status: resp.StatusCode, header: resp.Header}
		case redirected && hops >= maxMediaRedirects:
			return outcome{err: d.fail(u, fmt.Errorf("%w: stopped after %d redirects", ErrUnexpectedResponse, maxMediaRedirects)), status: resp.StatusCode, header: resp.Header}
		case redirected:
			u = next
			d.at = u
			continue
		}
		o := d.receive(ctx, u, resp)
		resp.Body.Close()
		if logging {
			d.debug(ctx, attempt, resp.StatusCode, time.Since(start), o.requestID)
		}
		return o
	}
}

// redirectTarget reads a 3xx response: where it leads, or why it is not
// followed. Any other response is neither.
func redirectTarget(from *url.URL, resp *http.Response) (next *url.URL, redirected bool, problem string) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false, ""
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, false, fmt.Sprintf("a %d redirect without a Location", resp.StatusCode)
	}
	next, err := from.Parse(loc)
	if err != nil {
		return nil, false, locationDoesNotParse
	}
	if from.Scheme == "https" && next.Scheme != "https" {
		return nil, false, "refusing to follow a redirect from https to " + origin(next)
	}
	if why := refusedMediaURL(next); why != "" {
		return nil, false, "refusing to follow a redirect to " + origin(next) + ": " + why
	}
	return next, true, ""
}

// receive copies a final response's body to d.out, or turns the response
// into an error.
func (d *download) receive(ctx context.Context, u *url.URL, resp *http.Response) outcome {
	o := outcome{status: resp.StatusCode, header: resp.Header}
	if o.status < 200 || o.status > 299 || d.cfg.info != nil || d.cfg.logger != nil {
		o.requestID = d.c.requestID(resp.Header)
		if id := resp.Header.Get("X-Amz-Request-Id"); o.requestID == "" && id != "" {
			o.requestID = d.c.safeText([]byte(id), maxRequestID) // S3's, where the docs show the media
		}
	}
	if o.status < 200 || o.status > 299 {
		drainAndClose(resp.Body)
		apiErr := &APIError{StatusCode: o.status, RequestID: o.requestID, RetryAfter: wire.RetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			method: http.MethodGet, path: origin(u), advice: mediaAdvice(o.status)}
		o.err, o.retryAfter = apiErr, apiErr.RetryAfter
		o.retry = retriedStatus(o.status)
		return o
	}
	if resp.ContentLength > maxMediaSize {
		o.err = d.fail(u, fmt.Errorf("%w: the file is %d bytes, more than the %d MiB DownloadMedia copies; nothing was written",
			ErrUnexpectedResponse, resp.ContentLength, maxMediaSize>>20))
		return o
	}
	if _, err := io.Copy(d.out, io.LimitReader(resp.Body, maxMediaSize-d.out.n)); err != nil {
		if d.out.err != nil {
			o.err = d.fail(u, fmt.Errorf("writing the file to w: %w", d.out.err))
			return o
		}
		return d.readOutcome(ctx, u, o, err)
	}
	var one [1]byte
	if n, _ := io.ReadFull(resp.Body, one[:]); n > 0 {
		o.err = d.fail(u, fmt.Errorf("%w: the file is larger than the %d MiB DownloadMedia copies; the first %d bytes were written, nothing past them",
			ErrUnexpectedResponse, maxMediaSize>>20, d.out.n))
	}
	return o
}

const locationDoesNotParse = "a redirect whose Location does not parse as a URL (not quoted: it may carry credentials)"

// badLocation reports whether err is http.Client's failure to parse a
// redirect's Location, which it reports before any redirect policy is
// asked, quoting the Location whole. The text is the only way to tell.
func badLocation(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && strings.HasPrefix(ue.Err.Error(), "failed to parse Location header")
}

// mediaAdvice is the hint of a media host's error status.
func mediaAdvice(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "the media host refused the URL: a presigned URL expires; fetch the session again for fresh URLs"
	case status == http.StatusNotFound:
		return "no file at that URL; fetch the session again for fresh URLs"
	case status == http.StatusTooManyRequests:
		return "the media host is rate limiting; try again later"
	case status >= 500:
		return "the media host had a server error; retry later"
	}
	return "the media host refused the request"
}

// transportOutcome classifies an error of sending, as request.go's does
// for a GET: retried, unless the call's own context ended.
func (d *download) transportOutcome(ctx context.Context, u *url.URL, err error) outcome {
	if ctxErr := ctx.Err(); ctxErr != nil {
		attemptOnly := context.Cause(ctx) == errAttemptTimedOut
		return outcome{err: d.fail(u, ctxErr), retry: attemptOnly}
	}
	return outcome{err: d.fail(u, err), retry: true}
}

// readOutcome classifies an error reading the body: retried (while nothing
// was written), unless the call's own context ended.
func (d *download) readOutcome(ctx context.Context, u *url.URL, o outcome, err error) outcome {
	if ctxErr := ctx.Err(); ctxErr != nil {
		o.err, o.retry = d.fail(u, fmt.Errorf("reading the file: %w", ctxErr)), context.Cause(ctx) == errAttemptTimedOut
		return o
	}
	o.err, o.retry = d.fail(u, fmt.Errorf("reading the file: %w", err)), true
	return o
}

// fail wraps err for the caller: the host named, the path and query of u
// taken out of its text (net/http's errors quote the whole URL), the key
// too. errors.Is and errors.As see the error underneath, but not a
// *url.Error, which holds the URL.
func (d *download) fail(u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	text := strings.TrimPrefix(err.Error(), "heliumid: ")
	return &mediaError{msg: "heliumid: GET " + origin(u) + ": " + scrubURL(d.c.scrub(text), u, d.url), err: err}
}

// scrubURL removes from text every part of the URLs that may carry a
// credential: each URL whole (leaving its origin), its query, its path.
func scrubURL(text string, urls ...*url.URL) string {
	for _, u := range urls {
		text = strings.ReplaceAll(text, u.String(), origin(u))
		for _, part := range []string{u.RawQuery, u.EscapedPath(), u.Path} {
			if len(part) > 1 { // "/" alone is no secret, and is everywhere
				text = strings.ReplaceAll(text, part, "…")
			}
		}
	}
	return text
}

// mediaError is a DownloadMedia failure that is not an APIError: its text
// names the host only.
type mediaError struct {
	msg string
	err error
}

func (e *mediaError) Error() string { return e.msg }
func (e *mediaError) Unwrap() error { return e.err }

// countingWriter counts what it wrote and keeps the writer's own error, to
// tell it from a read error io.Copy returns alike.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	cw.err = err
	return n, err
}

// drainAndClose reads a little of a body it discards, so that the
// connection can be reused, then closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	body.Close()
}

// debug logs one attempt: the host, never the path or query.
func (d *download) debug(ctx context.Context, attempt, status int, dur time.Duration, reqID string) {
	d.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "heliumid: request",
		slog.String("operation", "DownloadMedia"),
		slog.String("method", http.MethodGet),
		slog.String("host", origin(d.at)),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", dur),
		slog.String("request_id", reqID))
}

// warn logs a retry or giving up, with the error (which names the host
// only).
func (d *download) warn(ctx context.Context, msg string, attempt int, o outcome, wait time.Duration) {
	if d.cfg.logger == nil || !d.cfg.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	d.cfg.logger.LogAttrs(ctx, slog.LevelWarn, msg,
		slog.String("operation", "DownloadMedia"),
		slog.String("method", http.MethodGet),
		slog.String("host", origin(d.at)),
		slog.Int("status", o.status),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
		slog.String("error", o.err.Error()))
}
