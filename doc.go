// Package heliumid is the Go client for the Helium ID identity-verification
// API: create a verification session, send the end-user to its link, and read
// the decision by webhook or by polling.
//
//	client, err := heliumid.NewClient(os.Getenv("HELIUMID_API_KEY"))
//	if err != nil { ... }
//	session, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
//		VendorData: user.ID, // how you find the session again
//	})
//	if err != nil { ... }
//	http.Redirect(w, r, session.Link, http.StatusSeeOther) // the end-user verifies there
//
// The decision then arrives at your webhook endpoint, or you poll for it
// with [Client.GetVerification] or [Client.WaitForDecision]:
//
//	mux := http.NewServeMux()
//	mux.Handle("/webhooks/heliumid", heliumid.WebhookHandler(apiKey, handle)) // handle(ctx, ev) stores ev.Data
//
// [WebhookHandler] checks each delivery's signature before it calls handle
// ([ParseWebhook] does the same for another router). Helium ID's docs say it
// POSTs on status changes but nothing about delivering again after a
// failure, so never count on a webhook alone: store decisions with one
// function that applies a session only when [Verification.Supersedes] says
// it is newer, and call it from the handler and from a periodic sweep of
// the sessions still undecided ([Client.GetVerifications]). A session's
// [Status] moves through the lifecycle described at [Status.CanTransitionTo]
// (this SDK's reading of Helium ID's docs); [Status.IsDecided] tells when
// waiting can tell you no more.
//
// # Webhooks and the sweep
//
// Helium ID's docs say a webhook goes out when a session's status changes;
// they say nothing about retrying a delivery that failed (docs/API.md,
// "Webhooks"). This SDK never relies on redelivery: a decision must reach
// your database even if every delivery of it fails. Feed one apply rule,
// [Verification.Supersedes], from two sides: the webhook handler, and a
// periodic sweep that fetches the sessions your database still holds as
// undecided with [Client.GetVerifications]. Supersedes keeps the latest
// read whatever the order: repeats, a sweep racing a webhook, a
// resubmission after a failure.
//
//	for v, err := range client.GetVerifications(ctx, undecidedIDs) {
//		if err != nil { ... } // a *FetchError names the id; the others go on
//		row := db.Load(v.ID)
//		if v.Supersedes(row.Status, row.UpdatedAt) { db.Save(v.ID, v.Status, v.UpdatedAt) }
//	}
//
// # Errors
//
// Every error can be matched with errors.Is against the sentinels
// ([ErrNotFound], [ErrUnauthorized], [ErrRateLimited], [ErrServer], ...), and
// an error that came from a response is an [*APIError] with the status,
// message, request id and Retry-After. Invalid arguments fail before any
// network I/O with [ErrInvalidRequest].
//
// # Retries and rate limits
//
// Reads are retried on network errors, 408, 429, 500, 502, 503 and 504;
// session creation only where Helium ID cannot have acted on it (a 429, a
// connection that was never established, an HTTP/2 stream the server
// refused), so a retry never creates a second, billed session, and no layer
// below the SDK resends a create either. A 429's Retry-After pauses the
// Client's other requests of the same class (creates, or reads), for at most
// the Retry-After cap. After a create's first 429, the Client paces creates at
// a rate it learns from the server (see [WithAdaptiveRate]): you do not need
// to know your plan's cap. [WithRateLimiter] keeps creation below a budget of
// your own; the redisrate module shares it between processes through Redis.
//
// # Options per call, middleware
//
// Every [Option] works on [NewClient] or on one call ([WithRequestTimeout],
// [WithHeader], [WithResponseInfo], ...). [WithMiddleware] runs code around
// every attempt, with [OperationFromContext] naming it; the otelheliumid
// module traces and measures every attempt with OpenTelemetry.
//
// # Secrets and personal data
//
// The API key is never logged, printed (a Client formats as [REDACTED]) or
// sent to another host than the base URL's. Every fmt verb of a
// [Verification] and its slog LogValue leave out the document data, selfie,
// VendorData, Meta and [Verification.Extra] (what the SDK does not model).
// [Client.DownloadMedia] fetches a session's images with no credential of
// the SDK's, and names only the host of their URLs, which may carry one.
//
// # Testing without the network
//
// Package heliumidtest runs a fake Helium ID on loopback that serves the
// whole API, moves sessions through their lifecycle on command and sends
// signed webhooks: use it to test your integration.
//
// # What is Helium ID's and what is this SDK's
//
// What this package says of Helium ID comes from Helium ID's documentation;
// everything else (retries, pacing, the webhook event name
// [EventVerificationStatus], the accepted signature encodings, the lifecycle
// beyond what the docs name) is this SDK's choice. docs/API.md in the
// repository lists the pages and marks each fact and each choice.
package heliumid
