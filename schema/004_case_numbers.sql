-- 004: every case gets a number, and the rows that belong to a case (its
-- items, events, classification grounds and log leaves) name it by that
-- number instead of its random id.  A new case's number is the next one, so
-- the indexes on it grow at their end: a batch of reports shares their
-- pages instead of writing one page of each index per report
-- (docs/STORE.md).  The random id stays the case's name everywhere outside
-- the database.  Rows keep their order: a case's number is its old rowid,
-- which already put the cases in order of arrival.  A row whose case is
-- missing fails NOT NULL and undoes the whole migration.

CREATE TABLE cases_4 (
	n              INTEGER PRIMARY KEY,  -- the case's number, in order of arrival
	id             TEXT NOT NULL UNIQUE, -- b64u of 16 random bytes
	year           INTEGER NOT NULL,
	seq            INTEGER NOT NULL,     -- reference YYYY-NNNN
	received       TEXT NOT NULL,
	updated        TEXT NOT NULL,
	status         TEXT NOT NULL,
	closure        TEXT,
	closed         TEXT,
	channel        TEXT NOT NULL,
	language       TEXT NOT NULL,
	anonymous      INTEGER NOT NULL,
	token_tag      BLOB UNIQUE,          -- NULL when no token was handed out
	reporter_pk    BLOB,
	classification TEXT,                 -- JSON of policy codes, set by caseworkers
	collective     TEXT,
	purged         TEXT,                 -- YYYY-MM-DD, NULL until purged
	UNIQUE (year, seq)
);
INSERT INTO cases_4 (n, id, year, seq, received, updated, status, closure, closed, channel,
    language, anonymous, token_tag, reporter_pk, classification, collective, purged)
SELECT rowid, id, year, seq, received, updated, status, closure, closed, channel,
    language, anonymous, token_tag, reporter_pk, classification, collective, purged
FROM cases ORDER BY rowid;

CREATE TABLE items_4 (
	id       TEXT PRIMARY KEY,
	case_n   INTEGER NOT NULL REFERENCES cases (n),
	kind     TEXT NOT NULL CHECK (kind IN ('report', 'message', 'note')),
	sender   TEXT NOT NULL CHECK (sender IN ('reporter', 'caseworker')),
	day      TEXT NOT NULL,
	envelope TEXT NOT NULL
);
INSERT INTO items_4 (rowid, id, case_n, kind, sender, day, envelope)
SELECT i.rowid, i.id, c.n, i.kind, i.sender, i.day, i.envelope
FROM items i LEFT JOIN cases_4 c ON c.id = i.case_id ORDER BY i.rowid;

CREATE TABLE events_4 (
	seq      INTEGER PRIMARY KEY,
	case_n   INTEGER NOT NULL REFERENCES cases (n),
	day      TEXT NOT NULL,
	type     TEXT NOT NULL CHECK (type IN ('created', 'status', 'classified', 'collective',
	                                      'shared', 'purged')),
	data     TEXT NOT NULL                  -- compact JSON object of codes
);
INSERT INTO events_4 (seq, case_n, day, type, data)
SELECT e.seq, c.n, e.day, e.type, e.data
FROM events e LEFT JOIN cases_4 c ON c.id = e.case_id ORDER BY e.seq;

CREATE TABLE case_grounds_4 (
	case_n   INTEGER NOT NULL REFERENCES cases (n),
	ground   TEXT NOT NULL,
	PRIMARY KEY (case_n, ground)
);
INSERT INTO case_grounds_4 (case_n, ground)
SELECT c.n, g.ground FROM case_grounds g LEFT JOIN cases_4 c ON c.id = g.case_id;

-- The log's rows are copied as they are; the event bytes, which name the
-- case by its id, are what the leaves commit to, and they do not change.
CREATE TABLE log_4 (
	idx      INTEGER PRIMARY KEY,       -- leaf index, from 0
	case_n   INTEGER NOT NULL,
	seq      INTEGER NOT NULL,          -- the case's events, from 1
	salt     BLOB NOT NULL,             -- 32 random bytes
	event    BLOB NOT NULL,             -- compact JSON: codes, the case id and the month
	leaf     BLOB NOT NULL,             -- C = BLAKE2b-256(key = salt, msg = event)
	UNIQUE (case_n, seq)
);
INSERT INTO log_4 (idx, case_n, seq, salt, event, leaf)
SELECT l.idx, c.n, l.seq, l.salt, l.event, l.leaf
FROM log l LEFT JOIN cases_4 c ON c.id = l.case_id ORDER BY l.idx;

-- The old tables' pages are freed without being overwritten: with
-- secure_delete, SQLite would keep an image of every one of them in memory
-- until the statement ends (as much memory as the database is large).  They
-- hold only what the new tables hold; new rows reuse them, and the next
-- retention purge that removes anything rebuilds the file (VACUUM) without
-- them.
PRAGMA secure_delete = OFF;
DROP TABLE log;
DROP TABLE case_grounds;
DROP TABLE events;
DROP TABLE items;
DROP TABLE cases;
PRAGMA secure_delete = ON;
ALTER TABLE cases_4 RENAME TO cases;
ALTER TABLE items_4 RENAME TO items;
ALTER TABLE events_4 RENAME TO events;
ALTER TABLE case_grounds_4 RENAME TO case_grounds;
ALTER TABLE log_4 RENAME TO log;

CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_collective ON cases (collective);
CREATE INDEX items_case ON items (case_n);
CREATE INDEX events_case ON events (case_n);
CREATE INDEX case_grounds_ground ON case_grounds (ground);

CREATE TRIGGER log_no_update BEFORE UPDATE ON log
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER log_no_delete BEFORE DELETE ON log
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
