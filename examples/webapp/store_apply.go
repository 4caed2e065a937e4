package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// outcome says what apply did with a session's status.
type outcome string

const (
	applied        outcome = "applied"         // the status was newer: recorded
	stale          outcome = "stale"           // as new as, or older than, the recorded one: ignored
	unknownSession outcome = "unknown session" // not a session this service created: ignored
)

// apply records what v says of its session (status and updatedAt) when it
// is newer than what is recorded, and returns what it did and the session
// as recorded afterwards. It is the one way a status reaches the database,
// for the webhook handler and the sweep alike, so deliveries that repeat,
// arrive out of order, or race the sweep cannot overwrite a later status
// with an earlier one.
//
// The rule is the SDK's (supersedes below): where both the stored status and
// v carry updatedAt, the later one wins; where either lacks it, the
// lifecycle decides (the stored status must be able to reach v's). It is
// written as ONE guarded UPDATE, inside a transaction with the read that
// reports the result, so that two concurrent applies (a webhook and the
// sweep) are serialized by the database, not by this process: the guard
// is evaluated against the row as it is when the UPDATE runs.
func (s *store) apply(ctx context.Context, v *heliumid.Verification) (outcome, session, error) {
	// The lifecycle half of the rule, as the list of stored statuses from
	// which v's status may follow when a timestamp is missing: asked of the
	// rule itself, so the SQL cannot drift from it.
	var from []any
	for _, st := range allStatuses {
		if supersedes(&heliumid.Verification{ID: v.ID, Status: v.Status}, st, time.Time{}) {
			from = append(from, string(st))
		}
	}
	lifecycle := "0" // no stored status can lead to v's
	if len(from) > 0 {
		lifecycle = "status IN (?" + strings.Repeat(", ?", len(from)-1) + ")"
	}
	at := nanos(v.UpdatedAt)
	query := `UPDATE sessions SET status = ?, updated_at = ?
WHERE id = ? AND (
	(? IS NOT NULL AND updated_at IS NOT NULL AND updated_at < ?) -- both carry updatedAt: the later wins
	OR ((? IS NULL OR updated_at IS NULL) AND ` + lifecycle + `)    -- else the lifecycle decides
)`
	args := append([]any{string(v.Status), at, v.ID, at, at, at}, from...)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	}
	defer tx.Rollback() // after Commit, a no-op
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	}
	sess := session{ID: v.ID}
	var status string
	var updated sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT user_id, link, status, updated_at FROM sessions WHERE id = ?`, v.ID).
		Scan(&sess.UserID, &sess.Link, &status, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return unknownSession, session{}, nil
	} else if err != nil {
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	}
	sess.Status, sess.UpdatedAt = heliumid.Status(status), fromNanos(updated)
	if n == 0 {
		return stale, sess, nil
	}
	return applied, sess, nil
}

// allStatuses are the statuses a session can be recorded with.
var allStatuses = []heliumid.Status{
	heliumid.StatusNotStarted, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview,
	heliumid.StatusSuccessful, heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned,
}

// supersedes reports whether v is newer than a stored status recorded with
// storedAt (zero when unknown).
//
// TODO(lead): replace with the SDK's GetVerifications/apply helper.
func supersedes(v *heliumid.Verification, stored heliumid.Status, storedAt time.Time) bool {
	if !v.UpdatedAt.IsZero() && !storedAt.IsZero() {
		return v.UpdatedAt.After(storedAt)
	}
	return stored.CanReach(v.Status)
}
