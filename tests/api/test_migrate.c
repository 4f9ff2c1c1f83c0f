/*
 * Migration of a database of schema 3 (every row of a case naming the case
 * by its random id) to schema 4 (by the case's number;
 * schema/004_case_numbers.sql), on the instance the other tests filled with
 * reports, messages, notes, classifications, collectives, shares, purges and
 * log leaves.  The stopped server's database is turned back into schema 3
 * with the sqlcipher shell (DOWNGRADE below: the tables exactly as 001-003
 * make them), then meldpuntd starts on it and migrates it.  What must hold:
 *
 *  - every row, and every table, index and trigger, is as before: the
 *    database dumped before and after is the same text;
 *  - every answer is as before: case lists (also by ground and by
 *    collective), cases with their envelopes and history, collectives,
 *    items to share, the log's checkpoint, leaves and opened events, the
 *    statistics, and every follow-up;
 *  - a row whose case is missing stops the migration: the server does not
 *    start, and the database is left at schema 3, unchanged;
 *  - after it, reports and messages are stored and logged as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework.h"

/* A schema 4 database back to schema 3, rows, order and numbers kept (a case's number its rowid). */
static const char DOWNGRADE[] =
    "BEGIN;"
    "CREATE TABLE cases_3 (id TEXT PRIMARY KEY, year INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " received TEXT NOT NULL, updated TEXT NOT NULL, status TEXT NOT NULL, closure TEXT,"
    " closed TEXT, channel TEXT NOT NULL, language TEXT NOT NULL, anonymous INTEGER NOT NULL,"
    " token_tag BLOB UNIQUE, reporter_pk BLOB, classification TEXT, collective TEXT,"
    " purged TEXT, UNIQUE (year, seq));"
    "INSERT INTO cases_3 (rowid, id, year, seq, received, updated, status, closure, closed,"
    " channel, language, anonymous, token_tag, reporter_pk, classification, collective, purged)"
    " SELECT n, id, year, seq, received, updated, status, closure, closed, channel, language,"
    " anonymous, token_tag, reporter_pk, classification, collective, purged FROM cases;"
    "CREATE TABLE items_3 (id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases (id),"
    " kind TEXT NOT NULL CHECK (kind IN ('report', 'message', 'note')),"
    " sender TEXT NOT NULL CHECK (sender IN ('reporter', 'caseworker')),"
    " day TEXT NOT NULL, envelope TEXT NOT NULL);"
    "INSERT INTO items_3 (rowid, id, case_id, kind, sender, day, envelope)"
    " SELECT i.rowid, i.id, c.id, i.kind, i.sender, i.day, i.envelope"
    " FROM items i JOIN cases c ON c.n = i.case_n;"
    "CREATE TABLE events_3 (seq INTEGER PRIMARY KEY,"
    " case_id TEXT NOT NULL REFERENCES cases (id), day TEXT NOT NULL,"
    " type TEXT NOT NULL CHECK (type IN ('created', 'status', 'classified', 'collective',"
    " 'shared', 'purged')), data TEXT NOT NULL);"
    "INSERT INTO events_3 SELECT e.seq, c.id, e.day, e.type, e.data"
    " FROM events e JOIN cases c ON c.n = e.case_n;"
    "CREATE TABLE case_grounds_3 (case_id TEXT NOT NULL REFERENCES cases (id),"
    " ground TEXT NOT NULL, PRIMARY KEY (case_id, ground));"
    "INSERT INTO case_grounds_3 SELECT c.id, g.ground"
    " FROM case_grounds g JOIN cases c ON c.n = g.case_n;"
    "CREATE TABLE log_3 (idx INTEGER PRIMARY KEY, case_id TEXT NOT NULL,"
    " seq INTEGER NOT NULL, salt BLOB NOT NULL, event BLOB NOT NULL, leaf BLOB NOT NULL,"
    " UNIQUE (case_id, seq));"
    "INSERT INTO log_3 SELECT l.idx, c.id, l.seq, l.salt, l.event, l.leaf"
    " FROM log l JOIN cases c ON c.n = l.case_n;"
    "DROP TABLE log; DROP TABLE case_grounds; DROP TABLE events; DROP TABLE items;"
    "DROP TABLE cases;"
    "ALTER TABLE cases_3 RENAME TO cases; ALTER TABLE items_3 RENAME TO items;"
    "ALTER TABLE events_3 RENAME TO events; ALTER TABLE case_grounds_3 RENAME TO case_grounds;"
    "ALTER TABLE log_3 RENAME TO log;"
    "CREATE INDEX cases_status ON cases (status);"
    "CREATE INDEX items_case ON items (case_id);"
    "CREATE INDEX cases_collective ON cases (collective);"
    "CREATE INDEX events_case ON events (case_id);"
    "CREATE INDEX case_grounds_ground ON case_grounds (ground);"
    "CREATE TRIGGER log_no_update BEFORE UPDATE ON log"
    " BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;"
    "CREATE TRIGGER log_no_delete BEFORE DELETE ON log"
    " BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;"
    "PRAGMA user_version = 3;"
    "COMMIT;"
    "SELECT count(*) FROM cases; PRAGMA user_version;";

/* Every row of the schema 4 database, in order, and every schema object by name. */
static const char DUMP[] =
    "PRAGMA user_version;"
    "SELECT type, name, tbl_name FROM sqlite_master ORDER BY name;"
    "SELECT 'case', n, id, year, seq, received, updated, status, closure, closed, channel,"
    " language, anonymous, quote(token_tag), quote(reporter_pk), classification, collective,"
    " purged FROM cases ORDER BY n;"
    "SELECT 'item', rowid, id, case_n, kind, sender, day, envelope FROM items ORDER BY rowid;"
    "SELECT 'event', seq, case_n, day, type, data FROM events ORDER BY seq;"
    "SELECT 'ground', case_n, ground FROM case_grounds ORDER BY case_n, ground;"
    "SELECT 'leaf', idx, case_n, seq, quote(salt), quote(event), quote(leaf) FROM log"
    " ORDER BY idx;"
    "SELECT 'node', level, idx, quote(hash) FROM log_nodes ORDER BY level, idx;"
    "SELECT 'key', kid, name, role, quote(sign_pk), quote(box_pk), added, revoked FROM keys"
    " ORDER BY kid;"
    "SELECT 'collective', id, year, seq, name, created FROM collectives ORDER BY id;"
    "PRAGMA integrity_check;"
    "PRAGMA foreign_key_check;";

/* Follow-ups asked in each look (the policy allows a client 120 an hour; a look asks twice). */
#define FOLLOWUPS 40

static void
put(FILE *f, const char *what, const struct resp *r)
{
	fprintf(f, "== %s %ld %zu\n%s\n", what, r->status, r->len, r->body ? r->body : "");
}

/* GET target as who, into f; the answer's JSON (a new reference) or NULL. */
static json_t *
look_get(FILE *f, const struct mp_identity *who, const char *target)
{
	struct resp r;
	json_t *j = NULL;

	if (who != NULL)
		signed_req(&r, who, "GET", target, NULL);
	else
		http_get(&r, target);
	put(f, target, &r);
	if (r.json != NULL)
		j = json_incref(r.json);
	resp_free(&r);
	return j;
}

/* Whole cases asked for in each look: every case when there are fewer, else evenly spread. */
#define WHOLE_CASES 400

/* Every page of the case list, and cases whole; the grounds the cases have. */
static void
look_cases(FILE *f, json_t *grounds)
{
	char target[192], after[64] = "";
	json_t *page, *c, *g, *ids = json_array();
	const char *id, *next;
	size_t i, k, step;

	do {
		snprintf(target, sizeof target, "/api/v1/cases?limit=500%s%s",
		    *after ? "&after=" : "", after);
		if ((page = look_get(f, anna, target)) == NULL)
			break;
		json_array_foreach(json_object_get(page, "cases"), i, c) {
			if ((id = jstr(c, "id")) != NULL)
				json_array_append_new(ids, json_string(id));
			json_array_foreach(
			    json_object_get(json_object_get(c, "classification"), "grounds"), k, g)
				if (json_is_string(g))
					json_object_set(grounds, json_string_value(g), json_true());
		}
		next = jstr(page, "next");
		snprintf(after, sizeof after, "%s", next ? next : "");
		json_decref(page);
	} while (*after);
	step = json_array_size(ids) / WHOLE_CASES + 1;
	for (i = 0; i < json_array_size(ids); i += step) {
		snprintf(target, sizeof target, "/api/v1/cases/%s",
		    json_string_value(json_array_get(ids, i)));
		json_decref(look_get(f, anna, target));
	}
	json_decref(ids);
}

/*
 * Everything the service answers from the database, as one text: the
 * caseworkers', the auditor's, the public's and the reporters' views.
 */
static char *
look(void)
{
	char target[192], *text = NULL, *line;
	json_t *grounds = json_object(), *j, *v;
	const char *key;
	size_t len = 0, i, n;
	long size = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	look_cases(f, grounds);
	json_object_foreach(grounds, key, v) {
		snprintf(target, sizeof target, "/api/v1/cases?limit=500&ground=%s", key);
		json_decref(look_get(f, anna, target));
	}
	j = look_get(f, anna, "/api/v1/collectives");
	json_array_foreach(json_object_get(j, "collectives"), i, v) {
		if (jstr(v, "id") == NULL)
			continue;
		snprintf(target, sizeof target, "/api/v1/collectives/%s", jstr(v, "id"));
		json_decref(look_get(f, anna, target));
		snprintf(
		    target, sizeof target, "/api/v1/cases?limit=500&collective=%s", jstr(v, "id"));
		json_decref(look_get(f, anna, target));
	}
	json_decref(j);
	json_decref(look_get(f, anna, "/api/v1/recipients"));
	json_decref(look_get(f, bram, "/api/v1/recipients"));
	{
		struct resp r;

		http_get(&r, "/api/v1/log/checkpoint");
		put(f, "checkpoint", &r);
		/* The note's second line is the tree's size. */
		if (r.body && (line = strchr(r.body, '\n')) != NULL)
			size = strtol(line + 1, NULL, 10);
		resp_free(&r);
	}
	for (i = 0; i < (size_t)size; i += 1000) {
		n = (size_t)size - i < 1000 ? (size_t)size - i : 1000;
		snprintf(target, sizeof target, "/api/v1/log/leaves?start=%zu&end=%zu", i, i + n);
		json_decref(look_get(f, NULL, target));
		snprintf(target, sizeof target, "/api/v1/audit/events?start=%zu&end=%zu", i, i + n);
		json_decref(look_get(f, carla, target));
	}
	{
		char day[11];

		amsterdam_day(day, 0);
		snprintf(target, sizeof target, "/api/v1/stats/%.4s", day);
		json_decref(look_get(f, NULL, target));
	}
	for (i = n = 0; i < NSUBS && n < FOLLOWUPS; i++) {
		struct resp r;

		if (SUBS[i].token[0] == '\0')
			continue;
		followup(&r, SUBS[i].token);
		put(f, "followup", &r);
		resp_free(&r);
		n++;
	}
	json_decref(grounds);
	fclose(f);
	return text;
}

/* The first line where a and b differ, for the diagnostics. */
static void
diag_first_difference(const char *a, const char *b)
{
	size_t line = 1, i = 0;

	while (a[i] && a[i] == b[i])
		if (a[i++] == '\n')
			line++;
	diag("they differ first on line %zu: \"%.120s\" against \"%.120s\"", line,
	    a + i - (i > 40 ? 40 : i), b + i - (i > 40 ? 40 : i));
}

static int
same(const char *before, const char *after, const char *what)
{
	int good = before && after && strcmp(before, after) == 0;

	if (!ok(good, "%s", what) && before && after)
		diag_first_difference(before, after);
	return good;
}

/* The size of the server's log, where what the next start writes begins. */
static long
log_end(void)
{
	FILE *f = fopen(I.log, "r");
	long n = 0;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (f != NULL)
		fclose(f);
	return n;
}

/* The server's log holds the text in a line written after offset from. */
static int
log_has(long from, const char *text)
{
	char line[1024];
	FILE *f = fopen(I.log, "r");
	int found = 0;

	if (f == NULL)
		return 0;
	if (fseek(f, from, SEEK_SET) == 0)
		while (!found && fgets(line, sizeof line, f))
			found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* The size of the log's newest checkpoint, or -1. */
static long
log_size(void)
{
	struct resp r;
	const char *line;
	long n = -1;

	if (http_get(&r, "/api/v1/log/checkpoint") == 0 && r.status == 200 && r.body &&
	    (line = strchr(r.body, '\n')) != NULL)
		n = strtol(line + 1, NULL, 10);
	resp_free(&r);
	return n;
}

/* The oldest open, unpurged case of the list's first page (static buffer), or NULL. */
static const char *
first_case(void)
{
	static char id[64];
	struct resp r;
	json_t *cases, *c;
	const char *s;
	size_t i;

	*id = '\0';
	signed_req(&r, anna, "GET", "/api/v1/cases?limit=500", NULL);
	cases = json_object_get(r.json, "cases");
	for (i = json_array_size(cases); i-- > 0 && *id == '\0';) {
		c = json_array_get(cases, i);
		s = jstr(c, "status");
		if (s && strcmp(s, "closed") != 0 && !json_is_true(json_object_get(c, "purged")) &&
		    jstr(c, "id"))
			snprintf(id, sizeof id, "%s", jstr(c, "id"));
	}
	if (*id == '\0')
		diag_resp(&r);
	resp_free(&r);
	return *id ? id : NULL;
}

/* The number of messages and notes case id shows, or -1. */
static long
case_items(const char *id)
{
	struct resp r;
	long n = -1;

	if (cw_get(&r, id) == 0)
		n = (long)json_array_size(json_object_get(r.json, "messages"));
	resp_free(&r);
	return n;
}

static int
restart(const char *why)
{
	if (ok(server_start() == 0, "%s", why))
		return 0;
	printf("Bail out! the server does not start; see %s\n", I.log);
	exit(1);
}

void
test_migrate(void)
{
	char *dump0 = NULL, *dump1 = NULL, *look0 = NULL, *look1 = NULL, *look2 = NULL, *out, *body;
	const char *old;
	struct cw c;
	struct resp r;
	json_t *h;
	long size0, items0, from;
	int cases;

	if (!ok(server_stop(5) == 0, "the server stops (to read its database)"))
		return;
	out = sqlcipher("SELECT count(*) FROM cases;");
	cases = out ? atoi(out) : -1;
	free(out);
	diag("migration of the database from schema 3 to 4, over %d cases", cases);
	dump0 = sqlcipher(DUMP);
	ok(dump0 && strncmp(dump0, "4\n", 2) == 0 && strstr(dump0, "\nok\n") != NULL,
	    "the database is at schema 4 and passes its integrity check");
	restart("the server starts again");
	look0 = look();
	look1 = look();
	if (!same(look0, look1, "two looks at every answer, one after the other, are the same"))
		goto out;
	if (!ok(server_stop(5) == 0, "the server stops"))
		goto out;

	out = sqlcipher(DOWNGRADE);
	if (!ok(out != NULL && atoi(out) == cases && strstr(out, "\n3\n") != NULL,
	        "sqlcipher turns the database back into schema 3, every case kept"))
		diag("sqlcipher printed %s", out ? out : "(nothing)");
	free(out);
	out = sqlcipher("PRAGMA table_info(items);");
	ok(out && strstr(out, "|case_id|TEXT|") != NULL && strstr(out, "case_n") == NULL,
	    "... where an item names its case by the case's id");
	free(out);

	/* A row whose case is not there: the migration stops, and nothing of it stays. */
	out = sqlcipher("INSERT INTO events (case_id, day, type, data) VALUES "
	                "('AAAAAAAAAAAAAAAAAAAAAA', '2026-01-01', 'status', '{}'); "
	                "SELECT count(*) FROM events;");
	free(out);
	from = log_end();
	ok(server_start() != 0, "meldpuntd does not start on a database with an event of no case");
	ok(log_has(from, "migrating from schema 3 to 4") &&
	        log_has(from, "NOT NULL constraint failed"),
	    "... and says that it migrates the database, and why it could not");
	ok(!log_has(from, "serving"), "... and never served a request meanwhile");
	out = sqlcipher("PRAGMA user_version; SELECT count(*) FROM sqlite_master "
	                "WHERE name LIKE '%\\_4' ESCAPE '\\';"
	                "DELETE FROM events WHERE case_id = 'AAAAAAAAAAAAAAAAAAAAAA';");
	ok(out && strcmp(out, "3\n0\n") == 0,
	    "... and leaves the database at schema 3 with none of the migration's tables");
	free(out);

	restart("meldpuntd migrates the schema 3 database and starts");
	look2 = look();
	same(look1, look2, "every answer after the migration is the answer before it");
	if (!ok(server_stop(5) == 0, "the server stops"))
		goto out;
	dump1 = sqlcipher(DUMP);
	same(dump0, dump1,
	    "every row, table, index and trigger after the migration is as before it (schema 4)");
	restart("the server starts again");

	/* New rows after it: a report with its event and log leaf, a message to an old case. */
	size0 = log_size();
	if (ok(cw_report(&c, "nl", "a report after the migration") == 0,
	        "a report after the migration is stored")) {
		h = cw_history(c.id);
		ok(json_array_size(h) == 1 && jstr(json_array_get(h, 0), "type") &&
		        !strcmp(jstr(json_array_get(h, 0), "type"), "created"),
		    "... with its history");
		json_decref(h);
		h = cw_list_find("", c.id);
		ok(h != NULL, "... and in the case list");
		json_decref(h);
	}
	ok(log_size() == size0 + 1, "... and its created event is the log's next leaf");
	if ((old = first_case()) != NULL) {
		items0 = case_items(old);
		body = envelope_body(seal_item("note", old, "a note after the migration", NULL));
		cw_post(&r, old, "messages", body);
		free(body);
		ok(r.status == 201, "a note on a case from before the migration is stored (201)");
		resp_free(&r);
		ok(case_items(old) == items0 + 1, "... and the case shows it");
	}
out:
	free(dump0);
	free(dump1);
	free(look0);
	free(look1);
	free(look2);
}
