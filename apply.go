package heliumid

import "time"

// Supersedes reports whether v, a session just read (a webhook's
// [WebhookEvent.Data], or what [Client.GetVerification] or
// [Client.GetVerifications] returned), should replace what you stored for
// it: status stored, with the updatedAt stored beside it (the zero time
// when unknown). stored "" means nothing is stored yet. It is the one
// apply rule for webhooks and the sweep alike:
//
//	if v.Supersedes(row.Status, row.UpdatedAt) {
//		row.Status, row.UpdatedAt = v.Status, v.UpdatedAt // store v.UpdatedAt as it is, zero included
//	}
//
// Deliveries may repeat and come in any order, a sweep may read a session
// while its webhook is in flight, and Helium ID's session-decisions page
// allows one resubmission after a failure (failed, then started again, up
// to a new decision). Whatever the order, applying every read with
// Supersedes ends with the latest one, by these rules (this SDK's, from the
// facts in docs/API.md):
//
//  1. Nothing stored: v is applied, unless its Status is empty.
//  2. Both v and the stored row carry an updatedAt, and they differ: the
//     newer one wins, whatever the statuses. A session as GET returns it
//     carries updatedAt (docs/API.md), so this is the rule that settles
//     almost every case, a resubmission's included.
//  3. Otherwise (a timestamp missing, or both equal) the lifecycle decides:
//     v wins when its status comes later in the lifecycle than the stored
//     one, as [Status.Stage] orders them, so a stale status never replaces
//     a decision; a stored failed is replaced by successful or review,
//     which only a resubmission can bring after a failure; and a repeat of
//     the stored status changes nothing, except that one carrying
//     updatedAt supersedes a row without it (to record the time).
//
// Without timestamps one case stays ambiguous: review then failed is a
// reviewer's decision, failed then review a resubmission's. Rule 3 lets the
// later delivery win; the next read that carries updatedAt (a sweep's
// GetVerification does) settles it by rule 2. So store updatedAt, and keep
// sweeping sessions in review and failed sessions younger than
// [SessionLifetime] (a resubmission can follow a failure) until their
// decision is final.
//
// The same rule as one guarded SQL UPDATE, for a table that stores stage
// (:status, :updated_at and :stage are v.Status, v.UpdatedAt, NULL when
// zero, and v.Status.Stage(); updated_at in one format that sorts in time
// order, such as Unix milliseconds):
//
//	UPDATE sessions SET status = :status, updated_at = :updated_at, stage = :stage
//	WHERE id = :id AND :status <> '' AND (
//	    status IS NULL                                            -- rule 1
//	    OR CASE WHEN :updated_at IS NOT NULL AND updated_at IS NOT NULL
//	                 AND :updated_at <> updated_at
//	            THEN :updated_at > updated_at                     -- rule 2
//	            ELSE :stage > stage                               -- rule 3
//	                 OR (status = 'failed' AND :status IN ('successful', 'review'))
//	                 OR (status = :status AND updated_at IS NULL AND :updated_at IS NOT NULL)
//	       END)
//
// Supersedes of a nil v is false.
func (v *Verification) Supersedes(stored Status, storedUpdatedAt time.Time) bool {
	switch {
	case v == nil || v.Status == "":
		return false
	case stored == "":
		return true
	case !v.UpdatedAt.IsZero() && !storedUpdatedAt.IsZero() && !v.UpdatedAt.Equal(storedUpdatedAt):
		return v.UpdatedAt.After(storedUpdatedAt)
	case stored == StatusFailed && (v.Status == StatusSuccessful || v.Status == StatusReview):
		return true // after a failure, only a resubmission leads there
	case v.Status == stored:
		return storedUpdatedAt.IsZero() && !v.UpdatedAt.IsZero() // the time the row lacked
	}
	return v.Status.Stage() > stored.Stage()
}

// Stage returns s's place in the lifecycle, for ordering statuses that
// carry no timestamp (see [Verification.Supersedes]) and for storing
// beside a status, to query by it ("WHERE stage < 5": sessions still
// before any decision). The numbers are stable across versions:
//
//	0  the empty status
//	1  a status this SDK does not know (it cannot be placed)
//	2  not started
//	3  started
//	4  submitted
//	5  review
//	6  successful, failed, expired, abandoned (terminal)
//
// Which terminal status a session ends in, stage does not order: only
// updatedAt can (or a resubmission's decision after a failure).
func (s Status) Stage() int {
	switch s {
	case "":
		return 0
	case StatusNotStarted:
		return 2
	case StatusStarted:
		return 3
	case StatusSubmitted:
		return 4
	case StatusReview:
		return 5
	case StatusSuccessful, StatusFailed, StatusExpired, StatusAbandoned:
		return 6
	}
	return 1
}
