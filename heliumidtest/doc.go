// Package heliumidtest runs a fake Helium ID API on a loopback port: the
// way to test an integration without the network, a test key or the
// dashboard. It is to the heliumid package what net/http/httptest is to
// net/http, and works with no configuration:
//
//	srv := heliumidtest.NewServer()
//	defer srv.Close()
//	client := srv.Client() // a *heliumid.Client wired to srv
//
// or, for code that builds its own client:
//
//	heliumid.NewClient(srv.APIKey(), heliumid.WithBaseURL(srv.URL))
//
// # What it serves
//
// The whole wire contract of the API, over real HTTP, under the "/api"
// prefix of the real base URL (so a client that drops the prefix gets 404):
//
//   - POST /v1/verifications creates a session (200, data {"link",
//     "verificationId"}). Where Helium ID's link is
//     https://verify.heliumid.io/?processId=<id>, the fake's leads to its
//     own hosted page, http://127.0.0.1:<port>/?processId=<id> (see below).
//     The body must be a JSON object with Content-Type application/json:
//     vendorData a string, meta an object, method "auto" (the default) or
//     "manual"; anything else is a 400 saying why, a body over 1 MiB a 413,
//     another Content-Type a 415.
//   - GET /v1/verifications/{id} returns the session: id, status,
//     statusCode, verificationMethod, createdAt, updatedAt (RFC 3339 with
//     milliseconds), reason, selfie, doc, docInfo, vendorData, meta. An
//     unknown id is a 404.
//   - GET /v1/verifications lists sessions in creation order, filtered by
//     status (any spelling heliumid.ParseStatus accepts) and vendorData,
//     paged by page (1-based) and limit (default 20, at most 100). data is
//     {"verifications": [...], "page", "limit", "total", "totalPages",
//     "hasNextPage"}. A malformed parameter is a 400; unknown ones are
//     ignored.
//   - GET /media/{id}/selfie.jpg, doc-front.jpg and doc-back.jpg, beside
//     the API like a storage service, without a key (as a presigned URL
//     needs none): a submitted session's images, small generated JPEGs,
//     for heliumid.Client.DownloadMedia. A session's media URLs point
//     there, on the address the session was created through.
//
// Every response, errors included, is the API's JSON envelope {"status",
// "message", "data", "code"} and carries an X-Request-Id. A missing or wrong
// x-api-key is a 401, an unknown path a 404, a wrong method a 405 with an
// Allow header, a create over the cap of [WithRateLimit] (a sliding
// window) or [WithTokenBucket] (a strict token bucket) a 429 with
// Retry-After. [Server.SetRateLimit] and [Server.SetTokenBucket] change the
// cap while the Server runs.
//
// [Server.Handler] is the same API, and the hosted page, as an
// http.Handler, to serve the fake from a listener or mux of your own (as
// "heliumid fake" does next to its admin endpoints; [WithPageURL] then
// points the links at it). The Server's own listener answers only requests
// whose Host is a loopback name (127.0.0.1, [::1], localhost, *.localhost), with 421
// otherwise: it listens on 127.0.0.1, so another name can only be a web
// page's DNS rebinding.
//
// # Sessions and the lifecycle
//
// A new session is "not started" (statusCode 1001). Nothing happens to it
// by itself: the test plays the end-user and Helium ID with
// [Server.SetStatus], one lifecycle step at a time, or [Server.Decide],
// every step to a decision at once (each step with its webhook), or
// through the hosted page; and moves the Server's virtual clock with
// [Server.Advance], which applies the 7-day expiry (not started becomes
// expired, started becomes abandoned). Failed is final unless the Server
// was started [WithResubmission]: then a failed session accepts one
// resubmission (failed → started), as Helium ID's session-decisions page
// allows, to test that your code applies a decision that follows a
// failure. Each change of a session carries an updatedAt strictly later
// than the one before it (at least 1 ms, on the virtual clock too), so an
// apply rule by updatedAt can tell successive changes apart. From "submitted" on
// a session carries personal data, all fake: JANE DOE, born 1990-01-01,
// passport X0000000 of Utopia ("UTO", the ICAO specimen country), and
// images the Server serves (a selfie, both sides of the document). It lets
// a test check that your code keeps personal data out of its logs, and
// archives the images, without handling anyone's real data.
//
// The clock starts at the wall clock's now (or at [WithStartTime]) and,
// by default, moves only with Advance, so timestamps, expiry and the
// creation cap are deterministic. [WithWallClock] makes it run in real time
// (Advance still adds), for benchmarks of a client's pacing and for servers
// left running, as "heliumid fake" does.
//
// # The hosted verification page
//
// A session's link opens the end-user's side of the session in a browser:
// "This is the Helium ID fake: you play the end-user". The page shows the
// session's status and one button per step the lifecycle allows next
// (start; submit the document and selfie; then approve, decline or send to
// review; try again after a failure, with [WithResubmission]). A press
// moves the session exactly as SetStatus does, webhook included, and
// answers 303 to the page (POST-redirect-GET). The page is plain HTML
// forms, working with JavaScript off; it shows the session's id, status,
// vendor data, reason and timestamps, escaped, and neither the API key nor
// any personal data. An unknown id is a 404 page, a step the lifecycle
// does not allow now a 409 page.
//
// Its selectors are a contract, for browser tests in any language:
//
//   - the element showing the current status carries the attribute
//     data-session-status; its text is the status as heliumid.Status
//     spells it ("not started", "successful", …);
//   - each action is a submit button with data-status="<status>", naming
//     the status it moves the session to: started from not started (and
//     from failed, with WithResubmission); submitted from started;
//     successful, failed and review from submitted; successful and failed
//     from review. Expired and abandoned are not buttons: time brings them.
//
// With chromedp, for instance:
//
//	chromedp.Navigate(created.Link),
//	chromedp.Click(`button[data-status="started"]`),
//	chromedp.WaitVisible(`[data-session-status="started"]`),
//
// A press from another web site is refused with 403 (net/http's
// CrossOriginProtection: a Sec-Fetch-Site other than same-origin or none,
// or an Origin that is not the page's host), so a page the developer
// happens to visit cannot move a session; a test's http.Client and curl,
// which send neither header, are not affected. The page is not the API:
// its requests are not in [Server.Requests] and are not met by the
// failures of [Server.FailNext].
//
// # Webhooks
//
// With [WithWebhookURL] or [Server.SetWebhookURL], every status change (SetStatus, and expiry in
// Advance; not creation) is POSTed as a verification.status event
// (heliumid.EventVerificationStatus) signed with the API key, the way
// heliumid.ParseWebhook verifies. Delivery is asynchronous, in order,
// retried on failure as [WithWebhookRetries] says (by default quickly, for
// tests); [Server.Redeliver] and [Server.RedeliverFailed] send webhooks
// again, [WithWebhookObserver] sees every attempt, [Server.WaitWebhooks]
// waits for them and [Server.Deliveries] reports how it went. To test a
// webhook handler on its own, [WebhookBody] builds the body the Server
// would send, for heliumid.SignWebhook to sign.
//
// A service under test usually needs srv.Client() before it has a URL,
// and its URL is what the Server must send webhooks to. Start the Server
// first, then the service, then tell the Server where the service listens:
//
//	srv := heliumidtest.NewServer()
//	defer srv.Close()
//	svc := httptest.NewServer(newService(srv.Client())) // your handlers
//	defer svc.Close()
//	srv.SetWebhookURL(svc.URL + "/webhooks/heliumid")
//
//	created, _ := srv.Client().CreateVerification(ctx, req) // or through svc
//	srv.Decide(created.ID, heliumid.StatusSuccessful)   // three webhooks
//	srv.WaitWebhooks(ctx)                               // all delivered
//	// assert on what svc stored
//
// An invalid URL given to SetWebhookURL does not panic: each attempt fails
// with an error saying so, in [Delivery].Err.
//
// # Failures and the request log
//
// [Server.FailNext] makes the next requests fail as a real network and
// server can: any status with an optional Retry-After or a raw body, a
// delay, a dropped connection, or a failure after the request was handled;
// [Server.ClearFailures] drops what is queued. [Server.Requests] lists the
// most recent requests the Server received (headers and bodies, cut to a
// few KiB, never the key), to assert on what your code sent and how often
// it retried. [Server.Reset] forgets sessions, requests, failures and
// webhooks at once.
package heliumidtest
