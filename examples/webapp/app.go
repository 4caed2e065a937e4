package main

import (
	"context"
	"log/slog"

	heliumid "github.com/heliumid/heliumid-go"
)

// app is the service: its handlers, its sweep and what they share.
type app struct {
	client *heliumid.Client
	store  *store
	log    *slog.Logger
}

// record applies what Helium ID says of a session, from a webhook or from
// the sweep (source names which, for the log): the one apply function
// both use. An error means the database failed: the webhook handler then
// answers 500, so a sender that retries delivers again, and the next sweep
// fetches the session again.
func (a *app) record(ctx context.Context, v *heliumid.Verification, source string) (outcome, error) {
	what, sess, err := a.store.apply(ctx, v)
	if err != nil {
		a.log.Error("recording a status", "source", source, "session", v.ID, "status", v.Status, "err", err)
		return "", err
	}
	// Ids and statuses only: v also carries the end-user's document data.
	switch what {
	case applied:
		a.log.Info("recorded a status", "source", source, "session", v.ID, "user_id", sess.UserID, "status", sess.Status)
	case stale:
		a.log.Debug("stale or repeated status, ignored", "source", source, "session", v.ID, "status", v.Status, "recorded", sess.Status)
	case unknownSession:
		a.log.Warn("a session this service did not create, ignored", "source", source, "session", v.ID, "status", v.Status)
	}
	return what, nil
}

// onWebhook handles one authenticated webhook delivery.
func (a *app) onWebhook(ctx context.Context, ev *heliumid.WebhookEvent) error {
	if ev.Data == nil || ev.Data.ID == "" {
		return nil // not about a session: nothing to record
	}
	_, err := a.record(ctx, ev.Data, "webhook")
	return err
}
