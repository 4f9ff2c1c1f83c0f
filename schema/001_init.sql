-- 001: people's public keys, cases, and the sealed items of each case.
-- Nothing here identifies a reporter: a case holds its token tag (a keyed
-- hash), the reporter's public box key, the report's language and dates to
-- the day.  Every text a person wrote lives only inside an envelope.

CREATE TABLE keys (
	kid      TEXT PRIMARY KEY,           -- b64u BLAKE2b-128 of box_pk
	name     TEXT NOT NULL,
	role     TEXT NOT NULL CHECK (role IN ('caseworker', 'auditor', 'admin', 'recovery')),
	sign_pk  BLOB UNIQUE,                -- NULL for a recovery key
	box_pk   BLOB NOT NULL UNIQUE,
	added    TEXT NOT NULL,              -- YYYY-MM-DD
	revoked  TEXT                        -- YYYY-MM-DD, NULL while active
);

CREATE TABLE cases (
	id             TEXT PRIMARY KEY,     -- b64u of 16 random bytes
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
	UNIQUE (year, seq)
);
CREATE INDEX cases_status ON cases (status);

CREATE TABLE items (
	id       TEXT PRIMARY KEY,
	case_id  TEXT NOT NULL REFERENCES cases (id),
	kind     TEXT NOT NULL CHECK (kind IN ('report', 'message', 'note')),
	sender   TEXT NOT NULL CHECK (sender IN ('reporter', 'caseworker')),
	day      TEXT NOT NULL,
	envelope TEXT NOT NULL
);
CREATE INDEX items_case ON items (case_id);
