package heliumidtest_test

import (
	"context"
	"errors"
	"fmt"

	heliumid "github.com/heliumid/heliumid-go"
)

// sessionCreator is the one method of *heliumid.Client that Signup needs,
// declared on the caller's side: production passes the client, a unit test
// a stub.
type sessionCreator interface {
	CreateVerification(ctx context.Context, req *heliumid.CreateVerificationRequest, opts ...heliumid.Option) (*heliumid.CreatedVerification, error)
}

// The client satisfies it: this line stops compiling if the method changes.
var _ sessionCreator = (*heliumid.Client)(nil)

// Signup is the code under test: it sends a new user to verification.
type Signup struct{ Verify sessionCreator }

// Start returns the link to send userID to, or a message to show instead.
func (s *Signup) Start(ctx context.Context, userID string) (link, message string, err error) {
	created, err := s.Verify.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: userID})
	switch {
	case errors.Is(err, heliumid.ErrRateLimited):
		return "", "Too many sign-ups right now: try again in a minute.", nil
	case err != nil:
		return "", "", fmt.Errorf("starting verification for %s: %w", userID, err)
	}
	return created.Link, "", nil
}

// stubCreator answers what the test tells it and records what it was asked.
type stubCreator struct {
	err  error
	sent []string // VendorData of each request
}

func (s *stubCreator) CreateVerification(_ context.Context, req *heliumid.CreateVerificationRequest, _ ...heliumid.Option) (*heliumid.CreatedVerification, error) {
	s.sent = append(s.sent, req.VendorData)
	if s.err != nil {
		return nil, s.err
	}
	return &heliumid.CreatedVerification{ID: "v-1", Link: "https://verify.heliumid.io/?processId=v-1"}, nil
}

// For unit tests of your own code, declare the methods you call as an
// interface on your side and pass a stub; no server runs. Use a
// heliumidtest.Server for integration tests, where the SDK's requests,
// retries and decoding take part.
func Example_unitTestWithAnInterface() {
	ctx := context.Background()
	stub := &stubCreator{}
	signup := &Signup{Verify: stub} // in production: &Signup{Verify: client}

	link, _, err := signup.Start(ctx, "user-42")
	fmt.Println(link, err, stub.sent)

	// An APIError with a status matches the sentinels, as the client's do.
	stub.err = &heliumid.APIError{StatusCode: 429}
	_, message, err := signup.Start(ctx, "user-43")
	fmt.Println(message, err)
	// Output:
	// https://verify.heliumid.io/?processId=v-1 <nil> [user-42]
	// Too many sign-ups right now: try again in a minute. <nil>
}
