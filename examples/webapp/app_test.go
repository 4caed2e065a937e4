package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Signing up creates the user once and leads to their status page; the
// index lists them as not verified, and there is no session to show yet.
func TestSignUpListsTheUserOnTheIndex(t *testing.T) {
	w := startWithFake(t, newFake(t))

	res := w.get(t, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "Nobody has signed up yet.")
	assert.Contains(t, res.Body, `<form method="post" action="/signup">`)

	for range 2 {
		res = w.postForm(t, "/signup", url.Values{"user": {"  alice "}}, nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
		assert.Equal(t, "/status.html?user=alice", res.Header.Get("Location"))
	}
	res = w.get(t, "/")
	assert.Equal(t, 1, strings.Count(res.Body, `<tr data-user="alice">`), "signed up once:\n%s", res.Body)
	assert.Contains(t, res.Body, `data-verification-status="">not verified</td>`)
	assert.Contains(t, res.Body, `<input type="hidden" name="user" value="alice"><button type="submit" data-verify>Verify my identity</button>`)

	res = w.get(t, "/status.html?user=alice")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Body, "You have not verified your identity yet.")
	assert.Contains(t, res.Body, `<button type="submit" data-verify>Verify my identity</button>`)
	assert.NotContains(t, res.Body, `http-equiv="refresh"`, "nothing to wait for")

	assert.Equal(t, http.StatusNotFound, w.get(t, "/status?user=alice").StatusCode, "no session yet")
	assert.Equal(t, http.StatusNotFound, w.get(t, "/status.html?user=nobody").StatusCode)
	assert.Equal(t, http.StatusNotFound, w.get(t, "/nothing-here").StatusCode)
}

// GET /verify signs up a new name and answers 303 to a new session's link;
// while that session is open, every Verify (GET, or the pages' POST) leads
// back to it instead of creating another.
func TestVerifyRedirectsToTheSessionLinkAndReusesAnOpenOne(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)

	link, id := w.verify(t, "bob")
	assert.Contains(t, w.get(t, "/").Body, `<tr data-user="bob">`, "the first visit signed bob up")
	v, ok := fake.Verification(id)
	require.True(t, ok, "created at the configured API")
	assert.Equal(t, "user-1", v.VendorData, "the service's own id for the user, not their name")
	assert.Equal(t, status{"bob", id, heliumid.StatusNotStarted}, w.status(t, "bob"))

	again, _ := w.verify(t, "bob")
	assert.Equal(t, link, again)
	res := w.postForm(t, "/verify", url.Values{"user": {"bob"}}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, link, res.Header.Get("Location"))

	require.NoError(t, fake.SetStatus(id, heliumid.StatusStarted))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	again, _ = w.verify(t, "bob")
	assert.Equal(t, link, again, "started is still open")
	assert.Equal(t, 1, creates(fake), "one session for bob")
}

// The decision arrives by webhook: the status page refreshes itself until
// then and shows the decision after, the JSON says it, and Verify no longer
// creates a session.
func TestTheDecisionArrivesByWebhook(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	_, id := w.verify(t, "carol")

	page := w.get(t, "/status.html?user=carol").Body
	assert.Contains(t, page, `<meta http-equiv="refresh" content="2">`)
	assert.Contains(t, page, `data-verification-status="not started">not started<`)
	assert.Contains(t, page, `Continue my verification`)

	require.NoError(t, fake.Decide(id, heliumid.StatusSuccessful))
	require.NoError(t, fake.WaitWebhooks(t.Context()))

	assert.Equal(t, status{"carol", id, heliumid.StatusSuccessful}, w.status(t, "carol"))
	page = w.get(t, "/status.html?user=carol").Body
	assert.Contains(t, page, `data-verification-status="successful">successful<`)
	assert.Contains(t, page, "You are verified.")
	assert.NotContains(t, page, `http-equiv="refresh"`, "a decision: nothing more to wait for")
	assert.NotContains(t, page, "data-verify", "nothing to verify again")
	index := w.get(t, "/").Body
	assert.Contains(t, index, `data-verification-status="successful">successful</td>`)
	assert.NotContains(t, index, "data-verify", "no Verify button for a verified user")

	res := w.get(t, "/verify?user=carol")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/status.html?user=carol", res.Header.Get("Location"), "a verified user gets no new session")
	assert.Equal(t, 1, creates(fake))
	assert.Contains(t, w.logs.String(), `msg="recorded a status" source=webhook session=`+id+` user_id=1 status=successful`)
	assert.NotContains(t, w.logs.String(), "JANE", "the session's document data stays out of the logs")
}

// While Helium ID checks the documents (submitted, review), Verify shows
// the status page, which keeps refreshing.
func TestVerifyWhileBeingCheckedShowsTheStatusPage(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	_, id := w.verify(t, "dave")
	require.NoError(t, fake.Decide(id, heliumid.StatusReview))
	require.NoError(t, fake.WaitWebhooks(t.Context()))

	res := w.get(t, "/verify?user=dave")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/status.html?user=dave", res.Header.Get("Location"))
	page := w.get(t, "/status.html?user=dave").Body
	assert.Contains(t, page, "A person is reviewing your verification.")
	assert.Contains(t, page, `http-equiv="refresh"`, "review can still end in a decision")
	assert.Equal(t, 1, creates(fake))
}

// A failed session is over: Verify creates a new one, and the old one's
// late webhooks do not touch it.
func TestAFailedSessionStartsOver(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	_, first := w.verify(t, "erin")
	require.NoError(t, fake.Decide(first, heliumid.StatusFailed))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	assert.Equal(t, status{"erin", first, heliumid.StatusFailed}, w.status(t, "erin"))
	assert.Contains(t, w.get(t, "/status.html?user=erin").Body, ">Try again</button>")

	_, second := w.verify(t, "erin")
	assert.NotEqual(t, first, second)
	assert.Equal(t, status{"erin", second, heliumid.StatusNotStarted}, w.status(t, "erin"))

	require.NoError(t, fake.Redeliver("whk_3")) // the first session's "failed", again
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	assert.Equal(t, status{"erin", second, heliumid.StatusNotStarted}, w.status(t, "erin"))
}

// Forms posted from another web site are refused with 403 and change
// nothing; the same forms from the service's own pages, and from programs
// that send neither header (curl), work.
func TestCrossSitePostsAreRefused(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	form := url.Values{"user": {"mallory"}}
	for name, h := range map[string]http.Header{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": {"cross-site"}},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": {"same-site"}},
		"a foreign Origin":          {"Origin": {"https://attacker.example"}},
	} {
		for _, path := range []string{"/signup", "/verify"} {
			res := w.postForm(t, path, form, h)
			assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s", name, path)
		}
	}
	assert.NotContains(t, w.get(t, "/").Body, "mallory", "nobody was signed up")
	assert.Zero(t, creates(fake), "no session was created")

	u, _ := url.Parse(w.base)
	for name, h := range map[string]http.Header{
		"same-origin": {"Sec-Fetch-Site": {"same-origin"}, "Origin": {w.base}},
		"user typed":  {"Sec-Fetch-Site": {"none"}},
		"curl":        {},
	} {
		res := w.postForm(t, "/signup", form, h)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode, "%s (host %s)", name, u.Host)
	}
}

// A hostile name is shown as text on every page, whatever it holds, and
// round-trips through the forms and links.
func TestAHostileNameIsEscaped(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	name := `<script>alert("x")</script><img src=x onerror=alert(1)>'&"`
	res := w.postForm(t, "/signup", url.Values{"user": {name}}, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	statusPage := res.Header.Get("Location")
	assert.Equal(t, "/status.html?user="+url.QueryEscape(name), statusPage)

	_, id := w.verify(t, name)
	index := w.get(t, "/").Body
	page := w.get(t, statusPage).Body
	for where, body := range map[string]string{"index": index, "status page": page} {
		assert.NotContains(t, body, "<script>", where)
		assert.NotContains(t, body, "<img", where)
		assert.Contains(t, body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;&#34;", where)
	}
	// In a URL, escaped as a URL (then '+' as an HTML entity).
	assert.Contains(t, index, `href="/status.html?user=%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E%3Cimg&#43;src%3Dx&#43;onerror%3Dalert%281%29%3E%27%26%22"`)
	assert.Equal(t, status{name, id, heliumid.StatusNotStarted}, w.status(t, name))
}

// A name is required, bounded and text; the check comes before anything
// is stored or created.
func TestNamesAreChecked(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	for name, user := range map[string]string{
		"empty":          "",
		"blank":          "   ",
		"too long":       strings.Repeat("a", maxNameLen+1),
		"a control char": "al\x00ice",
		"not UTF-8":      "al\xffice",
	} {
		res := w.get(t, "/verify?user="+url.QueryEscape(user))
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, name)
		assert.Contains(t, res.Body, `class="problem"`, name)
		assert.Equal(t, http.StatusBadRequest, w.postForm(t, "/signup", url.Values{"user": {user}}, nil).StatusCode, name)
	}
	assert.Contains(t, w.get(t, "/").Body, "Nobody has signed up yet.")
	assert.Zero(t, creates(fake))
	assert.Equal(t, http.StatusSeeOther, w.get(t, "/verify?user="+strings.Repeat("é", maxNameLen/2)).StatusCode, "at the limit")
}

// Webhooks must be signed with the integration's key; repeated and
// out-of-order deliveries are acknowledged and change nothing.
func TestWebhooksAreAuthenticatedAndIdempotent(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	_, id := w.verify(t, "frank")
	require.NoError(t, fake.Decide(id, heliumid.StatusSuccessful))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	v, _ := fake.Verification(id)

	// Earlier than the decision, or the decision again: acknowledged (so not
	// delivered again), ignored.
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSuccessful, heliumid.StatusFailed} {
		body := heliumidtest.WebhookBody(id, st, v.UpdatedAt.Add(-time.Millisecond), "")
		res := w.postWebhook(t, body, heliumid.SignWebhook(body, fake.APIKey(), time.Now()))
		assert.Equal(t, http.StatusOK, res.StatusCode, st)
	}
	assert.Equal(t, status{"frank", id, heliumid.StatusSuccessful}, w.status(t, "frank"))

	// Forged or replayed: refused before anything is applied.
	body := heliumidtest.WebhookBody(id, heliumid.StatusFailed, v.UpdatedAt.Add(time.Hour), "")
	for name, h := range map[string]http.Header{
		"another key":  heliumid.SignWebhook(body, "someone-else", time.Now()),
		"old delivery": heliumid.SignWebhook(body, fake.APIKey(), time.Now().Add(-time.Hour)),
		"unsigned":     {},
	} {
		assert.Equal(t, http.StatusUnauthorized, w.postWebhook(t, body, h).StatusCode, name)
	}
	assert.Equal(t, status{"frank", id, heliumid.StatusSuccessful}, w.status(t, "frank"))

	// About a session this service did not create: acknowledged, ignored.
	body = heliumidtest.WebhookBody("someone-elses", heliumid.StatusStarted, time.Now(), "")
	assert.Equal(t, http.StatusOK, w.postWebhook(t, body, heliumid.SignWebhook(body, fake.APIKey(), time.Now())).StatusCode)
	assert.Contains(t, w.logs.String(), "a session this service did not create, ignored")
}

// Without HELIUMID_API_KEY the example runs its own fake, whose page's
// buttons move the session; the webhooks reach the example.
func TestTheEmbeddedFakeDeliversToTheExample(t *testing.T) {
	w := start(t, nil)
	assert.Contains(t, w.stdout.String(), "Using the embedded fake Helium ID")
	link, id := w.verify(t, "grace")
	for _, st := range []string{"started", "submitted", "successful"} {
		res, err := w.client.PostForm(link, url.Values{"status": {st}})
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusSeeOther, res.StatusCode, st)
	}
	require.Eventually(t, func() bool { return w.status(t, "grace").Status == heliumid.StatusSuccessful }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, id, w.status(t, "grace").Session)
}

// HELIUMID_BASE_URL without a key is a mistake worth naming; a bad flag or
// address fails before anything runs.
func TestConfigurationMistakesAreReported(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"base URL without key": {nil, map[string]string{"HELIUMID_BASE_URL": "http://127.0.0.1:8080/api"}, "HELIUMID_API_KEY is not"},
		"sweep of zero":        {[]string{"-sweep", "0s"}, nil, "-sweep 0s: give a positive duration"},
		"an argument":          {[]string{"now"}, nil, `unexpected argument "now"`},
		"listen":               {[]string{"-addr", "127.0.0.1:-1"}, nil, "invalid port"},
		"db":                   {[]string{"-db", t.TempDir() + "/x.db?mode=ro"}, nil, "without '?'"},
	} {
		err := run(t.Context(), c.args, func(k string) string { return c.env[k] }, io.Discard, io.Discard)
		assert.ErrorContains(t, err, c.want, name)
	}
}

// The server is bounded at every stage (issue 21): a client that stalls
// mid-body, stops reading or keeps an idle connection is cut off; a
// header timeout alone held a handler goroutine forever.
func TestTheServerIsBoundedAtEveryStage(t *testing.T) {
	srv := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	assert.Positive(t, srv.ReadHeaderTimeout)
	assert.Positive(t, srv.ReadTimeout, "a stalled body")
	assert.Positive(t, srv.WriteTimeout, "a client that stops reading")
	assert.Positive(t, srv.IdleTimeout, "an idle kept-alive connection")
	assert.GreaterOrEqual(t, srv.ReadTimeout, srv.ReadHeaderTimeout)
	assert.Greater(t, srv.WriteTimeout, createTimeout, "no answer of /verify is cut off")
}

// creates counts the sessions created at fake.
func creates(fake *heliumidtest.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/v1/verifications") && r.Status == http.StatusOK {
			n++
		}
	}
	return n
}
