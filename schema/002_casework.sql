-- 002: case work: history events, classification grounds for filtering,
-- collectives, and the day a case's contents were purged.

ALTER TABLE cases ADD COLUMN purged TEXT;          -- YYYY-MM-DD, NULL until purged
CREATE INDEX cases_collective ON cases (collective);

-- What happened to a case, by day: policy codes and ids only, never text.
CREATE TABLE events (
	seq      INTEGER PRIMARY KEY,
	case_id  TEXT NOT NULL REFERENCES cases (id),
	day      TEXT NOT NULL,
	type     TEXT NOT NULL CHECK (type IN ('created', 'status', 'classified', 'collective',
	                                      'shared', 'purged')),
	data     TEXT NOT NULL                  -- compact JSON object of codes
);
CREATE INDEX events_case ON events (case_id);

-- The grounds of each case's current classification, so lists can filter on one.
CREATE TABLE case_grounds (
	case_id  TEXT NOT NULL REFERENCES cases (id),
	ground   TEXT NOT NULL,
	PRIMARY KEY (case_id, ground)
);
CREATE INDEX case_grounds_ground ON case_grounds (ground);

-- Many near-identical reports about one public event, handled together.
CREATE TABLE collectives (
	id       TEXT PRIMARY KEY,
	year     INTEGER NOT NULL,
	seq      INTEGER NOT NULL,              -- reference CYYYY-NNNN
	name     TEXT NOT NULL,                 -- the event, as a caseworker names it
	created  TEXT NOT NULL,
	UNIQUE (year, seq)
);
