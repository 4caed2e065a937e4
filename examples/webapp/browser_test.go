package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The day's loop in a real browser (headless Chromium): the example's
// index, sign up, Verify, the fake's hosted page, its buttons to a
// decision, and back to the example's status page, which shows the
// decision that arrived by webhook. Every step waits for what it needs
// within a bound, so a broken step fails the test rather than hanging it.
func TestBrowserDaysLoop(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake) // as with heliumid fake: HELIUMID_API_KEY and HELIUMID_BASE_URL
	ctx := newBrowser(t, false)
	walkTheLoop(t, ctx, w, fake, "alice", false)
}

// The same loop with JavaScript off: every form of the example and of the
// fake's page works without a script. Here the decision's webhook is held
// back until the browser shows the status page: the page, which reloads
// itself (a meta refresh, no script), shows the decision once it arrives.
func TestBrowserDaysLoopWithoutJavaScript(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake)
	ctx := newBrowser(t, true)

	// Scripts are off: a page's script does not run.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(`data:text/html,<title>off</title><script>document.title="on"</script>`)))
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	require.Equal(t, "off", title, "JavaScript is not disabled")

	walkTheLoop(t, ctx, w, fake, `Zoë <b>"O'Brien"</b>`, true)
}

// walkTheLoop signs name up on the example's index and verifies them
// through the fake's page to "successful". With holdDecision, the
// decision's webhook reaches the example only once the browser is on the
// status page.
func walkTheLoop(t *testing.T, ctx context.Context, w *webapp, fake *heliumidtest.Server, name string, holdDecision bool) {
	t.Helper()
	statusPage := w.base + "/status.html?user=" + url.QueryEscape(name)

	step(t, ctx, "the index, sign up",
		chromedp.Navigate(w.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-signup-name]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-signup-name]`), name),
		chromedp.Click(chromedp.CSS(`[data-signup]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-user-name]`)),
	)
	assert.Equal(t, name, text(t, ctx, `[data-user-name]`), "the status page of the user who signed up")
	assert.Equal(t, statusPage, location(t, ctx))

	step(t, ctx, "Verify, to the fake's hosted page",
		chromedp.Click(chromedp.CSS(`[data-verify]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-session-status="not started"]`)),
	)
	link, err := url.Parse(location(t, ctx))
	require.NoError(t, err)
	require.NotEqual(t, strings.TrimPrefix(w.base, "http://"), link.Host, "on the fake's page, not the example's")
	id := link.Query().Get("processId")
	require.NotEmpty(t, id, link)

	for _, st := range []string{"started", "submitted", "successful"} {
		if st == "successful" && holdDecision {
			require.NoError(t, fake.WaitWebhooks(t.Context()))
			fake.SetWebhookURL("http://127.0.0.1:1/nobody-listens")
		}
		step(t, ctx, "press "+st,
			chromedp.Click(chromedp.CSS(`[data-status="`+st+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-session-status="`+st+`"]`)),
		)
	}

	// Back to the example: the decision arrives by webhook, and the page,
	// which reloads itself until then, shows it.
	if holdDecision {
		require.NoError(t, fake.WaitWebhooks(t.Context())) // given up
		step(t, ctx, "back to the example's status page, no decision yet",
			chromedp.Navigate(statusPage),
			chromedp.WaitVisible(chromedp.CSS(`[data-verification-status="submitted"]`)),
		)
		fake.SetWebhookURL(w.base + "/webhooks/heliumid")
		require.Equal(t, 1, fake.RedeliverFailed())
		step(t, ctx, "the page reloads itself until the decision arrives",
			chromedp.WaitVisible(chromedp.CSS(`[data-verification-status="successful"]`)),
		)
	} else {
		step(t, ctx, "back to the example's status page",
			chromedp.Navigate(statusPage),
			chromedp.WaitVisible(chromedp.CSS(`[data-verification-status="successful"]`)),
		)
	}
	assert.Equal(t, "successful", text(t, ctx, `[data-verification-status]`))
	assert.Contains(t, text(t, ctx, `main`), id)

	step(t, ctx, "the index lists the user as verified",
		chromedp.Navigate(w.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-verification-status="successful"]`)),
	)
	assert.Contains(t, text(t, ctx, `tbody`), name)
}

// stepTimeout bounds each step of a browser test.
const stepTimeout = 15 * time.Second

// step runs the actions of one step of the loop within stepTimeout, and
// fails the test with where the browser is and what it shows when one
// fails.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	start := time.Now()
	defer func() { t.Logf("%s: %v", name, time.Since(start)) }()
	if err := chromedp.Do(stepCtx, actions...); err != nil {
		at, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`body`)))
		t.Fatalf("%s: %v\nat %s:\n%.2000s", name, err, at, body)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return strings.TrimSpace(s)
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return s
}

// newBrowser starts a headless Chromium for the test, with a profile of
// its own, and returns its context; it ends with the test.
func newBrowser(t *testing.T, noJavaScript bool) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // it runs as root here (and in CI), where Chromium's sandbox cannot start
		// Nothing but the test's own loopback servers: no update checks,
		// no sync, no QUIC probes.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)
	if noJavaScript {
		opts = append(opts, chromedp.Flag("blink-settings", "scriptEnabled=false"))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit, before its profile is removed
	})
	// Start the browser now, so that its start-up is not charged to a step.
	require.NoError(t, chromedp.Do(ctx))
	return ctx
}

// chromium returns the path of Debian's chromium (./test.sh installs it).
// Without it the test fails under CI, and is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: the browser test must run (./test.sh installs it: apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI never skips this test")
	return ""
}
