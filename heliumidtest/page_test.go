package heliumidtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// page is a hosted page as a browser got it.
type page struct {
	status int
	header http.Header
	body   string
	doc    *html.Node
}

// noRedirects is a client that shows the 303 of a press instead of
// following it.
func noRedirects(srv *Server) *http.Client {
	c := *srv.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// fetchPage makes a request to target as a browser's form would, with
// headers in name, value pairs, and parses the answer as HTML.
func fetchPage(t *testing.T, srv *Server, method, target string, form url.Values, headers ...string) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirects(srv).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.doc, err = html.Parse(strings.NewReader(p.body))
		require.NoError(t, err)
	}
	return p
}

// linkOf creates a session through the API and returns its id and link.
func linkOf(t *testing.T, srv *Server, body string) (id, link string) {
	t.Helper()
	r := send(t, srv, http.MethodPost, "/v1/verifications", body)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	data := r.data(t)
	return data["verificationId"].(string), data["link"].(string)
}

// elements returns the elements of n that carry attribute attr, in
// document order.
func elements(n *html.Node, attr string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && hasAttr(d, attr) {
			out = append(out, d)
		}
	}
	return out
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// shownStatus is the text of the one element with data-session-status.
func (p page) shownStatus(t *testing.T) string {
	t.Helper()
	els := elements(p.doc, "data-session-status")
	require.Len(t, els, 1, p.body)
	return text(els[0])
}

// buttons lists the data-status of the page's buttons, checking that each
// is a submit button of a plain POST form, usable with JavaScript off.
func (p page) buttons(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, b := range elements(p.doc, "data-status") {
		require.Equal(t, "button", b.Data)
		assert.Equal(t, "submit", attr(b, "type"))
		assert.Equal(t, "status", attr(b, "name"))
		assert.Equal(t, attr(b, "data-status"), attr(b, "value"), "the button sends the status it names")
		form := b.Parent
		for form != nil && form.Data != "form" {
			form = form.Parent
		}
		require.NotNil(t, form, "a button outside a form")
		assert.Equal(t, "post", attr(form, "method"))
		out = append(out, attr(b, "data-status"))
	}
	return out
}

// The selectors contract, on every status: the status shown, one button
// per step the lifecycle allows next (time's steps, expired and abandoned,
// are not buttons).
func TestPageShowsTheStatusAndOneButtonPerNextStep(t *testing.T) {
	srv := newTestServer(t, WithResubmission())
	for _, tt := range []struct {
		walk    []heliumid.Status
		status  string
		buttons []string
	}{
		{nil, "not started", []string{"started"}},
		{[]heliumid.Status{"started"}, "started", []string{"submitted"}},
		{[]heliumid.Status{"started", "submitted"}, "submitted", []string{"successful", "failed", "review"}},
		{[]heliumid.Status{"started", "submitted", "review"}, "review", []string{"successful", "failed"}},
		{[]heliumid.Status{"started", "submitted", "successful"}, "successful", nil},
		{[]heliumid.Status{"started", "submitted", "failed"}, "failed", []string{"started"}},
		{[]heliumid.Status{"started", "submitted", "failed", "started", "submitted", "failed"}, "failed", nil},
		{[]heliumid.Status{"expired"}, "expired", nil},
		{[]heliumid.Status{"started", "abandoned"}, "abandoned", nil},
	} {
		id, link := linkOf(t, srv, `{}`)
		walk(t, srv, id, tt.walk...)
		p := fetchPage(t, srv, http.MethodGet, link, nil)
		require.Equal(t, http.StatusOK, p.status, p.body)
		assert.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
		assert.Equal(t, tt.status, p.shownStatus(t), "after %v", tt.walk)
		assert.Equal(t, tt.buttons, p.buttons(t), "after %v", tt.walk)
		assert.Contains(t, p.body, "This is the Helium ID fake: you play the end-user")
		assert.NotContains(t, p.body, "<script")
	}

	plain := newTestServer(t)
	id, link := linkOf(t, plain, `{}`)
	require.NoError(t, plain.Decide(id, heliumid.StatusFailed))
	assert.Empty(t, fetchPage(t, plain, http.MethodGet, link, nil).buttons(t), "without WithResubmission failed is final")
}

func TestTheLinkLeadsToTheServersOwnPage(t *testing.T) {
	srv := newTestServer(t)
	id, link := linkOf(t, srv, `{}`)
	u, err := url.Parse(link)
	require.NoError(t, err)
	base, _ := url.Parse(srv.URL)
	assert.Equal(t, "http", u.Scheme)
	assert.Equal(t, base.Host, u.Host, "the Server's own address, on loopback")
	assert.Equal(t, "/", u.Path)
	assert.Equal(t, url.Values{"processId": {id}}, u.Query(), "the id in processId, as the real link carries it")
	created, err := srv.Client().CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err, "the SDK accepts the link (http on loopback)")
	assert.Equal(t, srv.link(created.ID), created.Link)
}

// A press moves the session as SetStatus does, webhook included, and
// answers POST-redirect-GET.
func TestPagePressesWalkASessionToADecision(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := newTestServer(t, WithWebhookURL(rc.url), fastRetries())
	id, link := linkOf(t, srv, `{"vendorData":"user-42"}`)
	before := len(srv.Requests())

	for _, step := range []string{"started", "submitted", "review", "successful"} {
		p := fetchPage(t, srv, http.MethodGet, link, nil)
		require.Contains(t, p.buttons(t), step)
		pressed := fetchPage(t, srv, http.MethodPost, link, url.Values{"status": {step}})
		require.Equal(t, http.StatusSeeOther, pressed.status, pressed.body)
		loc, err := url.Parse(pressed.header.Get("Location"))
		require.NoError(t, err)
		after := fetchPage(t, srv, http.MethodGet, u(t, link).ResolveReference(loc).String(), nil)
		require.Equal(t, http.StatusOK, after.status)
		assert.Equal(t, step, after.shownStatus(t), "the redirect leads back to the page, showing the step")
		assert.Equal(t, heliumid.Status(step), lookup(t, srv, id).Status)
	}
	waitWebhooks(t, srv)
	assert.Equal(t, []heliumid.Status{"started", "submitted", "review", "successful"}, statusesReceived(t, rc), "one webhook per press, in order")
	assert.Len(t, srv.Requests(), before, "the page is not the API: its requests are not in the request log")
}

func u(t *testing.T, raw string) *url.URL {
	t.Helper()
	parsed, err := url.Parse(raw)
	require.NoError(t, err)
	return parsed
}

func TestPageRefusesAStepTheLifecycleDoesNotAllow(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := newTestServer(t, WithWebhookURL(rc.url), fastRetries())
	id, link := linkOf(t, srv, `{}`)
	for _, tt := range []struct {
		status string
		code   int
		says   string
	}{
		{"successful", http.StatusConflict, `cannot go from "not started" to "successful"`},
		{"expired", http.StatusConflict, `the page does not offer "expired": time brings it`},
		{"not started", http.StatusConflict, "cannot go from"},
		{"pending", http.StatusBadRequest, `"pending" is not a status`},
		{"", http.StatusBadRequest, `"" is not a status`},
	} {
		p := fetchPage(t, srv, http.MethodPost, link, url.Values{"status": {tt.status}})
		assert.Equal(t, tt.code, p.status, "%q: %s", tt.status, p.body)
		assert.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
		assert.Contains(t, text(p.doc), tt.says, tt.status)
		assert.Equal(t, "not started", p.shownStatus(t), "the refusal shows the session as it is")
		assert.Equal(t, []string{"started"}, p.buttons(t))
	}
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, id).Status)
	waitWebhooks(t, srv)
	assert.Empty(t, rc.received(), "nothing changed, nothing sent")
}

func TestPageOfAnUnknownSessionIs404(t *testing.T) {
	srv := newTestServer(t)
	base := strings.TrimSuffix(srv.URL, "/api")
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		p := fetchPage(t, srv, method, base+"/?processId=nope", url.Values{"status": {"started"}})
		assert.Equal(t, http.StatusNotFound, p.status, method)
		assert.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
		assert.Contains(t, text(p.doc), "The fake has no session with this id")
		assert.Empty(t, elements(p.doc, "data-status"))
		assert.Empty(t, elements(p.doc, "data-session-status"))
	}
	p := fetchPage(t, srv, http.MethodPut, base+"/?processId=nope", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, p.status)
	assert.Equal(t, "GET, HEAD, POST", p.header.Get("Allow"))

	r := send(t, srv, http.MethodGet, "/", "")
	assert.Equal(t, http.StatusNotFound, r.status, "without processId, \"/\" is still the API's 404")
}

// What the page shows is escaped: vendor data and an id from the query
// string are text, never markup.
func TestPageEscapesWhatItShows(t *testing.T) {
	const hostile = `</code><script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	srv := newTestServer(t)
	_, link := linkOf(t, srv, `{"vendorData":`+jsonString(hostile)+`}`)
	p := fetchPage(t, srv, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, p.status)
	assert.NotContains(t, p.body, "<script>")
	assert.NotContains(t, p.body, "<img")
	assert.Contains(t, text(p.doc), hostile, "shown as text, whole")
	for d := range p.doc.Descendants() {
		assert.NotEqual(t, "script", d.Data)
		assert.NotEqual(t, "img", d.Data)
	}

	base := strings.TrimSuffix(srv.URL, "/api")
	p = fetchPage(t, srv, http.MethodGet, base+"/?processId="+url.QueryEscape(hostile), nil)
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.NotContains(t, p.body, "<script>")
	assert.Contains(t, text(p.doc), hostile)
	assert.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'none'", "and no script would run anyway")
	assert.Equal(t, "DENY", p.header.Get("X-Frame-Options"), "nor may another site frame it to click through it")
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func TestPageShowsNeitherTheKeyNorPersonalData(t *testing.T) {
	const key = "sk_live_do_not_show_me"
	srv := newTestServer(t, WithAPIKey(key))
	id, link := linkOf(t, srv, `{}`)
	require.NoError(t, srv.Decide(id, heliumid.StatusReview))
	require.NotNil(t, lookup(t, srv, id).DocumentInfo, "the session carries the fake's personal data")
	p := fetchPage(t, srv, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, p.status)
	for _, secret := range []string{key, "JANE", "DOE", "X0000000", "1990-01-01", "selfie.jpg", "doc-front"} {
		assert.NotContains(t, p.body, secret)
	}
}

// A press from another site (a page the developer visits) is refused: the
// cross-origin protection of net/http. curl and tests, which send neither
// header, and the page's own form are unaffected.
func TestPageRefusesPressesFromAnotherSite(t *testing.T) {
	srv := newTestServer(t)
	id, link := linkOf(t, srv, `{}`)
	origin := strings.TrimSuffix(srv.URL, "/api")
	press := url.Values{"status": {"started"}}
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "http://evil.example"},
		{"Origin", "http://localhost:1"},
	} {
		p := fetchPage(t, srv, http.MethodPost, link, press, h...)
		assert.Equal(t, http.StatusForbidden, p.status, "%v", h)
		assert.Contains(t, text(p.doc), "This press came from another web site")
	}
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, id).Status)
	assert.Equal(t, http.StatusOK, fetchPage(t, srv, http.MethodGet, link, nil, "Sec-Fetch-Site", "cross-site").status, "following a link from another site is fine")

	assert.Equal(t, http.StatusSeeOther, fetchPage(t, srv, http.MethodPost, link, press, "Sec-Fetch-Site", "same-origin", "Origin", origin).status, "the page's own form")
	assert.Equal(t, http.StatusSeeOther, fetchPage(t, srv, http.MethodPost, link, url.Values{"status": {"submitted"}}).status, "curl")
	assert.Equal(t, heliumid.StatusSubmitted, lookup(t, srv, id).Status)
}

// The Server's own listener is on 127.0.0.1: a request naming another host
// can only be DNS rebinding, and is refused with 421, API and page alike.
func TestTheServersListenerAnswersLoopbackNamesOnly(t *testing.T) {
	srv := newTestServer(t)
	_, link := linkOf(t, srv, `{}`)
	port := u(t, srv.URL).Port()
	for _, target := range []string{link, srv.URL + "/v1/verifications"} {
		for host, want := range map[string]int{
			"rebound.example:" + port: http.StatusMisdirectedRequest,
			"localhost:" + port:       http.StatusOK,
			"127.0.0.1:" + port:       http.StatusOK,
		} {
			req, err := http.NewRequest(http.MethodGet, target, nil)
			require.NoError(t, err)
			req.Host = host
			req.Header.Set("X-Api-Key", srv.APIKey())
			resp, err := srv.ts.Client().Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, want, resp.StatusCode, "%s with Host %s: %s", target, host, b)
			if want == http.StatusMisdirectedRequest {
				assert.Contains(t, string(b), "a guard against DNS rebinding")
			}
		}
	}
}

// Served from a listener of one's own with WithPageURL, the link leads
// there, and Handler serves the page.
func TestPageThroughHandlerWithPageURL(t *testing.T) {
	mux := http.NewServeMux()
	own := httptest.NewServer(mux)
	t.Cleanup(own.Close)
	srv := newTestServer(t, WithPageURL(own.URL+"/"))
	mux.Handle("/", srv.Handler())
	id, link := linkOf(t, srv, `{}`)
	assert.Equal(t, own.URL+"/?processId="+url.QueryEscape(id), link)
	resp, err := own.Client().Get(link)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), `data-session-status="not started"`)

	for _, bad := range []string{"127.0.0.1:8080", "ftp://x", "http://h/path", "http://h/?q=1", "http://user:s3cret@h"} {
		msg := invalidMessage(WithPageURL(bad))
		assert.Contains(t, msg, "WithPageURL", bad)
		assert.NotContains(t, msg, "s3cret")
	}
}

func TestPageIsNotMetByInjectedFailures(t *testing.T) {
	srv := newTestServer(t)
	_, link := linkOf(t, srv, `{}`)
	require.NoError(t, srv.FailNext(1, Failure{Status: http.StatusServiceUnavailable}))
	assert.Equal(t, http.StatusOK, fetchPage(t, srv, http.MethodGet, link, nil).status)
	assert.Equal(t, 1, srv.QueuedFailures(), "the failure waits for the API")
	assert.Equal(t, http.StatusOK, fetchPage(t, srv, http.MethodHead, link, nil).status)
}
