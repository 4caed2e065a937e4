package main

import (
	"context"
	"database/sql"
	"fmt"

	heliumid "github.com/heliumid/heliumid-go"
)

// outcome says what apply did with a session's status.
type outcome string

const (
	applied        outcome = "applied"         // the status was newer: recorded
	stale          outcome = "stale"           // as new as, or older than, the recorded one: ignored
	unknownSession outcome = "unknown session" // not a session this service created: ignored
)

// apply records what v says of its session (status and updatedAt) when
// the SDK's apply rule, v.Supersedes, says it replaces what is recorded,
// and returns what it did and the session as recorded afterwards. It is
// the one way a status reaches the database, for the webhook handler and
// the sweep alike, so deliveries that repeat, arrive out of order, follow
// a resubmission or race the sweep cannot replace a later status with an
// earlier one.
//
// The rule is Supersedes', written as ONE guarded UPDATE (the one its
// documentation gives), so that two concurrent applies (a webhook and the
// sweep) are serialized by the database, not by this process: the guard
// is evaluated against the row as it is when the UPDATE runs. It runs in a
// transaction with the read that reports the result. A test checks that it
// says what Supersedes says, case by case.
func (s *store) apply(ctx context.Context, v *heliumid.Verification) (outcome, session, error) {
	const query = `UPDATE sessions SET status = :status, updated_at = :updated_at, stage = :stage
WHERE id = :id AND :status <> '' AND (
	CASE WHEN :updated_at IS NOT NULL AND updated_at IS NOT NULL AND :updated_at <> updated_at
	     THEN :updated_at > updated_at                            -- both carry updatedAt: the newer wins
	     ELSE :stage > stage                                      -- else the lifecycle, by Status.Stage
	          OR (status = 'failed' AND :status IN ('successful', 'review'))   -- a resubmission's decision
	          OR (status = :status AND updated_at IS NULL AND :updated_at IS NOT NULL) -- the time the row lacked
	END)`
	args := []any{
		sql.Named("id", v.ID),
		sql.Named("status", string(v.Status)),
		sql.Named("updated_at", nanos(v.UpdatedAt)),
		sql.Named("stage", v.Status.Stage()),
	}

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
	sess, known, err := readSession(ctx, tx, v.ID)
	switch {
	case err != nil:
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	case !known:
		return unknownSession, session{}, nil
	}
	if err := tx.Commit(); err != nil {
		return "", session{}, fmt.Errorf("applying to session %s: %w", v.ID, err)
	}
	if n == 0 {
		return stale, sess, nil
	}
	return applied, sess, nil
}
