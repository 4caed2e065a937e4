// Package benchpeers benchmarks the SDK against the clients a user would
// otherwise pick for the same calls: a hand-written net/http +
// encoding/json client, hashicorp/go-retryablehttp and go-resty/resty. It
// is a module of its own so that the SDK's dependencies stay as they are;
// it holds only tests and benchmarks (see docs/PERFORMANCE.md).
//
// The peers' retry policies, as they come by default, differ from the
// SDK's where it matters most, on session creation:
//   - go-retryablehttp retries every method, POST included, on a
//     connection error, a 429 and any 5xx but 501, up to 4 times (1 s to
//     30 s apart, Retry-After honoured): a create that failed with a 500
//     or 503 after Helium ID processed it is sent again, and creates a
//     second, billed session (TestRetryPolicies shows it);
//   - resty does not retry unless asked (SetRetryCount); then it retries
//     on transport errors, for every method, and on the conditions added
//     with AddRetryCondition: a create that timed out after it was sent is
//     sent again;
//   - the SDK retries a create only on a 429 or when the connection failed
//     before anything was sent, and a GET on network errors, 408, 429 and
//     5xx (docs/API.md).
package benchpeers
