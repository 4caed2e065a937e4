package heliumid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"log"
	"os"
	"path/filepath"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

// The sweep: fetch the sessions your database still holds as undecided and
// apply each with the rule the webhook handler uses. Here every webhook was
// lost (the fake sends none), and the sweep alone brings the decisions in.
func ExampleClient_GetVerifications() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	type row struct {
		user      string
		status    heliumid.Status
		updatedAt time.Time
	}
	db := map[string]*row{} // your database: one row per session
	var ids []string
	for _, user := range []string{"ada", "grace", "linus"} {
		s, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: user})
		if err != nil {
			log.Fatal(err)
		}
		db[s.ID] = &row{user: user, status: heliumid.StatusNotStarted}
		ids = append(ids, s.ID)
	}
	// The end-users and Helium ID, played by the fake: no webhook tells.
	steps := [][]heliumid.Status{
		{heliumid.StatusStarted, heliumid.StatusSubmitted},
		{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful},
		{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview},
	}
	for i, id := range ids {
		for _, st := range steps[i] {
			_ = srv.SetStatus(id, st)
		}
	}

	// Every minute, say: the sessions still undecided. (Keep failed
	// sessions younger than heliumid.SessionLifetime in the sweep too: a
	// resubmission can follow a failure.)
	var undecided []string
	for id, r := range db {
		if !r.status.IsTerminal() {
			undecided = append(undecided, id)
		}
	}
	for v, err := range client.GetVerifications(ctx, undecided) {
		var fe *heliumid.FetchError
		if errors.As(err, &fe) {
			log.Printf("session %s: %v", fe.ID, err) // the others go on
			continue
		} else if err != nil {
			log.Fatal(err) // ctx ended
		}
		r := db[v.ID]
		if v.Supersedes(r.status, r.updatedAt) {
			r.status, r.updatedAt = v.Status, v.UpdatedAt
		}
	}

	for _, id := range ids {
		fmt.Println(db[id].user, db[id].status)
	}
	// Output:
	// ada submitted
	// grace successful
	// linus review
}

// Apply reads in whatever order they come: a webhook delivered twice, a
// stale one, a sweep's read racing them, a resubmission after a failure.
// The newer updatedAt wins.
func ExampleVerification_Supersedes() {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	read := func(st heliumid.Status, minute int) *heliumid.Verification {
		return &heliumid.Verification{ID: "66f1", Status: st, UpdatedAt: t0.Add(time.Duration(minute) * time.Minute)}
	}
	var status heliumid.Status // what your database holds; "" before anything
	var updatedAt time.Time
	for _, v := range []*heliumid.Verification{
		read(heliumid.StatusFailed, 3),
		read(heliumid.StatusSubmitted, 2),  // late: older than what is stored
		read(heliumid.StatusStarted, 4),    // the end-user resubmits
		read(heliumid.StatusSuccessful, 6), // the sweep's read
		read(heliumid.StatusSubmitted, 5),  // the webhook the sweep overtook
		read(heliumid.StatusSuccessful, 6), // and the decision's own webhook
	} {
		if v.Supersedes(status, updatedAt) {
			status, updatedAt = v.Status, v.UpdatedAt
			fmt.Println("apply ", v.Status)
		} else {
			fmt.Println("ignore", v.Status)
		}
	}
	// Output:
	// apply  failed
	// ignore submitted
	// apply  started
	// apply  successful
	// ignore submitted
	// ignore successful
}

// Archive a session's images: download each to a temporary file and
// rename it once complete, so a failure never leaves half a file under
// the final name. No API key goes to the media host.
func ExampleClient_DownloadMedia() {
	srv := heliumidtest.NewServer() // serves the images of its sessions
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	s, _ := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	_ = srv.SetStatus(s.ID, heliumid.StatusStarted)
	_ = srv.SetStatus(s.ID, heliumid.StatusSubmitted)

	v, err := client.GetVerification(ctx, s.ID)
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "evidence")
	defer os.RemoveAll(dir)

	archive := func(url, name string) error {
		tmp, err := os.CreateTemp(dir, name+".part-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name()) // a no-op once renamed
		if _, err := client.DownloadMedia(ctx, url, tmp); err != nil {
			tmp.Close()
			return err // names the host only: the URL's query may be a credential
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	for name, url := range map[string]string{"selfie.jpg": v.Selfie.URL, "front.jpg": v.Document.URL.Front, "back.jpg": v.Document.URL.Back} {
		if err := archive(url, name); err != nil {
			log.Fatal(err)
		}
	}

	for _, name := range []string{"back.jpg", "front.jpg", "selfie.jpg"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		img, err := jpeg.DecodeConfig(bytes.NewReader(b))
		fmt.Println(name, img.Width, img.Height, err)
	}

	_, err = client.DownloadMedia(ctx, "http://cdn.example.com/selfie.jpg?X-Amz-Signature=abc", os.Stdout)
	fmt.Println(err)
	// Output:
	// back.jpg 96 64 <nil>
	// front.jpg 96 64 <nil>
	// selfie.jpg 96 64 <nil>
	// heliumid: invalid request: media URL http://cdn.example.com/…: plain http; DownloadMedia fetches https URLs only (http on loopback hosts only, for tests)
}

// Send a member of the request body that this version of the SDK does not
// model. A member the SDK writes from a typed field is refused, before
// anything is sent.
func ExampleCreateVerificationRequest_extra() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	_, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
		VendorData: "user-42",
		Extra:      map[string]any{"language": "fr", "expiresIn": 3600},
	})
	if err != nil {
		log.Fatal(err)
	}
	sent := srv.Requests()
	fmt.Println(string(sent[len(sent)-1].Body))

	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
		Extra: map[string]any{"vendorData": "user-42"},
	})
	fmt.Println(errors.Is(err, heliumid.ErrInvalidRequest))
	// Output:
	// {"vendorData":"user-42","expiresIn":3600,"language":"fr"}
	// true
}

// Read a member of a session that this version of the SDK does not model,
// from Verification.Extra. Extra is redacted when printed or logged, like
// the document data, and kept when the session is stored as JSON.
func ExampleVerification_extra() {
	stored := []byte(`{"id":"66f1","status":"review","riskScore":0.93,"watchlists":["pep"]}`)
	var v heliumid.Verification
	if err := json.Unmarshal(stored, &v); err != nil {
		log.Fatal(err)
	}
	var score float64
	if err := json.Unmarshal(v.Extra["riskScore"], &score); err != nil {
		log.Fatal(err)
	}
	fmt.Println(score, string(v.Extra["watchlists"]))
	fmt.Println(v) // no Extra in what is printed or logged

	again, _ := json.Marshal(v) // but all of it in the JSON
	fmt.Println(string(again))
	// Output:
	// 0.93 ["pep"]
	// Verification{ID: 66f1, Status: review, personal data: [REDACTED]}
	// {"id":"66f1","status":"review","createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z","riskScore":0.93,"watchlists":["pep"]}
}
