-- 003: the transparency log of case events (PROTOCOL.md section 5).  Each
-- leaf commits to the exact event bytes with a random salt; the tree keeps
-- the hash of every complete subtree, so roots and proofs of any size are a
-- few look-ups.  Nothing here is ever changed or removed.

CREATE TABLE log (
	idx      INTEGER PRIMARY KEY,       -- leaf index, from 0
	case_id  TEXT NOT NULL,
	seq      INTEGER NOT NULL,          -- the case's events, from 1
	salt     BLOB NOT NULL,             -- 32 random bytes
	event    BLOB NOT NULL,             -- compact JSON: codes, the case id and the month
	leaf     BLOB NOT NULL,             -- C = BLAKE2b-256(key = salt, msg = event)
	UNIQUE (case_id, seq)
);

-- Hash of the complete subtree over leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE log_nodes (
	level    INTEGER NOT NULL,
	idx      INTEGER NOT NULL,
	hash     BLOB NOT NULL,
	PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER log_no_update BEFORE UPDATE ON log
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER log_no_delete BEFORE DELETE ON log
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER log_nodes_no_delete BEFORE DELETE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
