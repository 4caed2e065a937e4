package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	_ "modernc.org/sqlite" // database/sql driver "sqlite": pure Go, no cgo
)

// store keeps the users and their verification sessions in an SQLite file,
// so that sessions and decisions survive a restart. It is safe for
// concurrent use.
type store struct {
	db *sql.DB
}

// user is one signed-up user of this service.
type user struct {
	ID   int64
	Name string
}

// session is what this service records of one verification session.
type session struct {
	ID        string // Helium ID's verificationId
	UserID    int64
	Link      string
	Status    heliumid.Status
	UpdatedAt time.Time // Helium ID's updatedAt for Status; zero when it was not given
}

// userStatus is a user with the session that decides their verification
// status: their successful session if they have one, else their latest.
type userStatus struct {
	user
	Session *session // nil before their first verification
}

// schema is created at start when missing. Times are Unix nanoseconds, so
// that SQL compares them exactly.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
	seq        INTEGER PRIMARY KEY, -- creation order
	id         TEXT NOT NULL UNIQUE,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	link       TEXT NOT NULL,
	status     TEXT NOT NULL,
	stage      INTEGER NOT NULL,    -- status's heliumid.Status.Stage(), for the apply rule
	updated_at INTEGER,             -- Helium ID's updatedAt of status; NULL when not given
	created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_id, seq);
CREATE INDEX IF NOT EXISTS sessions_by_status ON sessions(status);
`

// openStore opens (creating it when missing) the SQLite database at path.
func openStore(ctx context.Context, path string) (*store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("-db %q: give a file name without '?' or '#'", path)
	}
	// WAL lets the pages read while a webhook writes (and, with synchronous
	// NORMAL, a commit survives a crash of this process, if not of the
	// machine's power); busy_timeout makes a writer wait for another instead
	// of failing at once; _txlock=immediate
	// takes the write lock when a transaction begins, so two transactions
	// never both read and then both try to write.
	dsn := path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=1&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the database %s: %w", path, err)
	}
	return &store{db: db}, nil
}

// Close closes the database.
func (s *store) Close() error { return s.db.Close() }

// signUp returns the user called name, creating them on their first visit.
func (s *store) signUp(ctx context.Context, name string) (user, error) {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO users (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, time.Now().UnixNano())
	if err != nil {
		return user{}, fmt.Errorf("signing up a user: %w", err)
	}
	u, _, err := s.user(ctx, name)
	return u, err
}

// user returns the user called name, and whether there is one.
func (s *store) user(ctx context.Context, name string) (user, bool, error) {
	u := user{Name: name}
	err := s.db.QueryRowContext(ctx, `SELECT id FROM users WHERE name = ?`, name).Scan(&u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return user{}, false, nil
	} else if err != nil {
		return user{}, false, fmt.Errorf("reading a user: %w", err)
	}
	return u, true, nil
}

// currentSessionSQL picks, for the user u.id, the session that decides
// their status: a successful one (a user stays verified), else the latest.
const currentSessionSQL = `(SELECT seq FROM sessions WHERE user_id = u.id
	ORDER BY status = 'successful' DESC, seq DESC LIMIT 1)`

// status returns the user called name with their current session, and
// whether there is such a user.
func (s *store) status(ctx context.Context, name string) (userStatus, bool, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT u.id, u.name, s.id, s.link, s.status, s.updated_at
FROM users u LEFT JOIN sessions s ON s.seq = `+currentSessionSQL+`
WHERE u.name = ?`, name)
	if err != nil {
		return userStatus{}, false, fmt.Errorf("reading a user's status: %w", err)
	}
	all, err := scanUserStatuses(rows)
	if err != nil || len(all) == 0 {
		return userStatus{}, false, err
	}
	return all[0], true, nil
}

// statuses returns every user, by name, with their current session.
func (s *store) statuses(ctx context.Context) ([]userStatus, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT u.id, u.name, s.id, s.link, s.status, s.updated_at
FROM users u LEFT JOIN sessions s ON s.seq = `+currentSessionSQL+`
ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return scanUserStatuses(rows)
}

func scanUserStatuses(rows *sql.Rows) ([]userStatus, error) {
	defer rows.Close()
	var out []userStatus
	for rows.Next() {
		var us userStatus
		var id, link, status sql.NullString
		var updated sql.NullInt64
		if err := rows.Scan(&us.ID, &us.Name, &id, &link, &status, &updated); err != nil {
			return nil, fmt.Errorf("reading users: %w", err)
		}
		if id.Valid {
			us.Session = &session{ID: id.String, UserID: us.ID, Link: link.String, Status: heliumid.Status(status.String), UpdatedAt: fromNanos(updated)}
		}
		out = append(out, us)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	return out, nil
}

// addSession records a session just created for u. Its status is not
// started until Helium ID says otherwise.
func (s *store) addSession(ctx context.Context, u user, created *heliumid.CreatedVerification) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sessions (id, user_id, link, status, stage, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		created.ID, u.ID, created.Link, heliumid.StatusNotStarted, heliumid.StatusNotStarted.Stage(), time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("recording session %s: %w", created.ID, err)
	}
	return nil
}

// session returns the session with id, and whether there is one.
func (s *store) session(ctx context.Context, id string) (session, bool, error) {
	return readSession(ctx, s.db, id)
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readSession reads the session with id through q, and says whether there
// is one.
func readSession(ctx context.Context, q rowQuerier, id string) (session, bool, error) {
	sess := session{ID: id}
	var status string
	var updated sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT user_id, link, status, updated_at FROM sessions WHERE id = ?`, id).
		Scan(&sess.UserID, &sess.Link, &status, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return session{}, false, nil
	} else if err != nil {
		return session{}, false, fmt.Errorf("reading session %s: %w", id, err)
	}
	sess.Status, sess.UpdatedAt = heliumid.Status(status), fromNanos(updated)
	return sess, true, nil
}

// undecided returns the ids of the sessions the sweep fetches, oldest
// first: those whose status can still change (see sweep.go). now - the
// session lifetime bounds how long failed ones, and ones with a status
// this SDK does not know, are fetched.
func (s *store) undecided(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions
WHERE status IN (?, ?, ?, ?)
   OR (status NOT IN (?, ?, ?) AND created_at > ?)
ORDER BY seq`,
		heliumid.StatusNotStarted, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview,
		heliumid.StatusSuccessful, heliumid.StatusExpired, heliumid.StatusAbandoned, now.Add(-heliumid.SessionLifetime).UnixNano())
	if err != nil {
		return nil, fmt.Errorf("listing undecided sessions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing undecided sessions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing undecided sessions: %w", err)
	}
	return ids, nil
}

// nanos is t as the schema stores it: NULL for the zero time.
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
