/* Caseworkers' signed routes: list, read, move and answer cases; the active keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_token.h"

#define LIST_DEFAULT 50
#define LIST_MAX 500

static json_t *
text_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

json_t *
case_json(struct server *srv, const struct mp_case *c)
{
	json_t *cls = c->classification ? json_loads(c->classification, 0, NULL) : json_null();
	char due[11] = "", today[11];

	mp_today(today);
	if (mp_day_add(due, c->received, srv->in->policy->handling_days) != 0)
		due[0] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:b, s:b}", "id",
	    c->id, "ref", c->ref, "received", c->received, "updated", c->updated, "status",
	    c->status, "closure", text_or_null(c->closure), "channel", c->channel, "anonymous",
	    c->anonymous, "classification", cls ? cls : json_null(), "collective",
	    text_or_null(c->collective), "due", text_or_null(due), "overdue",
	    strcmp(c->status, "closed") != 0 && due[0] && strcmp(today, due) > 0, "purged",
	    c->purged[0] != '\0');
}

struct list {
	struct server *srv;
	json_t *cases;
	char last[MP_ID_LEN + 1];
};

static int
add_case(void *arg, const struct mp_case *c)
{
	struct list *l = arg;

	snprintf(l->last, sizeof l->last, "%s", c->id);
	return json_array_append_new(l->cases, case_json(l->srv, c));
}

static int
parse_limit(const char *s, int *out)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 4)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > LIST_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int
id_ok(const char *s)
{
	uint8_t b[MP_ID_BYTES];

	return s != NULL && mp_b64u_decode_exact(b, sizeof b, s, strlen(s)) == 0;
}

/* "YYYY-NNNN" into year and sequence; 0 or -1. */
static int
parse_ref(const char *s, int *year, int *seq)
{
	char *end;
	long y, n;

	if (strlen(s) < 9 || s[4] != '-')
		return -1;
	y = strtol(s, &end, 10);
	if (end != s + 4 || s[5] < '0' || s[5] > '9')
		return -1;
	n = strtol(s + 5, &end, 10);
	if (*end != '\0' || y < 1900 || y > 9999 || n < 1 || n > 99999999)
		return -1;
	*year = (int)y;
	*seq = (int)n;
	return 0;
}

/* An empty query parameter is the same as none. */
static const char *
query(struct request *rq, const char *name)
{
	const char *v = request_query(rq, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
h_cases(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const struct mp_policy *p = srv->in->policy;
	const char *limit = query(rq, "limit"), *after = query(rq, "after");
	const char *overdue = query(rq, "overdue"), *ref = query(rq, "ref");
	struct mp_case_filter f;
	struct list l = { srv, NULL, "" };
	char today[11], before[11];
	int n = LIST_DEFAULT, more = 0;

	memset(&f, 0, sizeof f);
	f.status = query(rq, "status");
	f.collective = query(rq, "collective");
	f.ground = query(rq, "ground");
	if (f.status != NULL && mp_policy_find(p, MP_STATUSES, f.status) == NULL)
		return api_error(e, 400, "invalid_field", "status", "unknown status");
	if (f.ground != NULL && mp_policy_find(p, MP_GROUNDS, f.ground) == NULL)
		return api_error(e, 400, "invalid_field", "ground", "unknown ground");
	if (f.collective != NULL) {
		struct mp_collective coll;
		if (!id_ok(f.collective) ||
		    mp_store_collective_get(srv->st, f.collective, &coll) != 0)
			return api_error(
			    e, 400, "invalid_field", "collective", "no such collective");
	}
	if (ref != NULL && parse_ref(ref, &f.ref_year, &f.ref_seq) != 0)
		return api_error(
		    e, 400, "invalid_field", "ref", "a reference looks like 2026-0042");
	if (overdue != NULL) {
		if (strcmp(overdue, "1") != 0 && strcmp(overdue, "true") != 0)
			return api_error(e, 400, "invalid_field", "overdue", "overdue takes 1");
		/* Overdue: open, and received more than handling_days ago. */
		mp_today(today);
		if (mp_day_add(before, today, -p->handling_days) != 0)
			return store_error(-1, e);
		f.received_before = before;
	}
	if (limit != NULL && parse_limit(limit, &n) != 0)
		return api_error(
		    e, 400, "invalid_field", "limit", "limit must be 1 to %d", LIST_MAX);
	if (after != NULL && !id_ok(after))
		return api_error(
		    e, 400, "invalid_field", "after", "after must be a cursor from `next`");
	if ((l.cases = json_array()) == NULL ||
	    mp_store_cases(srv->st, &f, n, after, add_case, &l, &more) != 0) {
		json_decref(l.cases);
		return store_error(-1, e);
	}
	return reply_json(out, 200,
	    json_pack(
	        "{s:o, s:o}", "cases", l.cases, "next", more ? json_string(l.last) : json_null()));
}

static int
add_event(void *arg, const struct mp_event *ev)
{
	json_t *o = json_loads(ev->data, 0, NULL);

	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	json_object_set_new(o, "date", json_string(ev->day));
	json_object_set_new(o, "type", json_string(ev->type));
	return json_array_append_new(arg, o);
}

struct items {
	json_t *report;
	json_t *messages;
};

static int
add_item(void *arg, const struct mp_item *it)
{
	struct items *x = arg;
	json_t *env = json_loads(it->envelope, JSON_REJECT_DUPLICATES, NULL);

	if (env == NULL)
		return -1;
	if (strcmp(it->kind, "report") == 0 && x->report == NULL) {
		x->report = env;
		return 0;
	}
	return json_array_append_new(x->messages,
	    json_pack("{s:s, s:s, s:s, s:o}", "id", it->id, "from", it->sender, "date", it->day,
	        "envelope", env));
}

/* Load the case named in the path; 404 when there is none. */
int
path_case(struct server *srv, struct request *rq, struct mp_case *c, struct api_err *e)
{
	int r;

	memset(c, 0, sizeof *c);
	if (!id_ok(rq->param))
		return api_error(e, 404, "not_found", NULL, "no such case");
	if ((r = mp_store_case_get(srv->st, rq->param, c)) != 0)
		return store_error(r, e);
	return 0;
}

/*
 * After a change to the case in rq's path: read it again into c (cleared
 * first) and answer 200 with it; -1 with e set when it cannot be read.
 */
int
case_reply(
    struct server *srv, struct request *rq, struct mp_case *c, struct reply *out, struct api_err *e)
{
	int r;

	mp_case_clear(c);
	if ((r = mp_store_case_get(srv->st, rq->param, c)) != 0)
		return store_error(r, e);
	return reply_json(out, 200, case_json(srv, c));
}

int
h_case(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct items x = { NULL, NULL };
	char box[MP_B64U_LEN(32)];
	struct mp_case c;
	json_t *o, *history = NULL;
	int rc = -1;

	if (path_case(srv, rq, &c, e) != 0)
		return -1;
	if ((x.messages = json_array()) == NULL || (history = json_array()) == NULL ||
	    mp_store_items(srv->st, c.id, add_item, &x) != 0 ||
	    mp_store_history(srv->st, c.id, add_event, history) != 0 ||
	    (o = case_json(srv, &c)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	if (c.has_reporter && mp_b64u_encode(box, sizeof box, c.reporter_pk, 32) == 0)
		json_object_set_new(o, "reporter_box", json_string(box));
	else
		json_object_set_new(o, "reporter_box", json_null());
	json_object_set_new(o, "report", x.report ? x.report : json_null());
	json_object_set_new(o, "messages", x.messages);
	json_object_set_new(o, "history", history);
	x.report = x.messages = history = NULL;
	rc = reply_json(out, 200, o);
out:
	json_decref(x.report);
	json_decref(x.messages);
	json_decref(history);
	mp_case_clear(&c);
	return rc;
}

static const char *const status_fields[] = { "status", "closure", NULL };

int
move_body(const struct mp_policy *p, const json_t *o, const char **to, const char **closure,
    struct api_err *e)
{
	if (only_fields(o, status_fields, "", e) != 0 ||
	    text_field(o, "status", 1, MP_CODE_LEN, 1, to, e) != 0 ||
	    text_field(o, "closure", 1, MP_CODE_LEN, 0, closure, e) != 0)
		return -1;
	if (mp_policy_find(p, MP_STATUSES, *to) == NULL)
		return api_error(e, 400, "invalid_field", "status", "unknown status \"%s\"", *to);
	if (*closure != NULL && mp_policy_find(p, MP_CLOSURES, *closure) == NULL)
		return api_error(
		    e, 400, "invalid_field", "closure", "unknown closure code \"%s\"", *closure);
	if (strcmp(*to, "closed") == 0 && *closure == NULL)
		return api_error(
		    e, 400, "missing_field", "closure", "closing a case needs a closure code");
	if (strcmp(*to, "closed") != 0 && *closure != NULL)
		return api_error(
		    e, 400, "invalid_field", "closure", "a closure code goes only with closed");
	return 0;
}

int
h_case_status(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const struct mp_policy *p = srv->in->policy;
	const char *to, *closure;
	struct mp_case c;
	json_t *o = NULL;
	char day[11];
	int r, rc = -1;

	memset(&c, 0, sizeof c);
	if (body_json(rq, &o, e) != 0 || move_body(p, o, &to, &closure, e) != 0 ||
	    path_case(srv, rq, &c, e) != 0)
		goto out;
	if (!mp_policy_move_ok(p, c.status, to)) {
		api_error(
		    e, 409, "conflict", "status", "a case cannot move from %s to %s", c.status, to);
		goto out;
	}
	mp_today(day);
	if ((r = mp_store_case_move(srv->st, c.id, c.status, to, closure, day)) != 0) {
		store_error(r, e);
		goto out;
	}
	rc = case_reply(srv, rq, &c, out, e);
out:
	mp_case_clear(&c);
	json_decref(o);
	return rc;
}

int
check_case_envelope(
    const struct mp_case *c, const json_t *env, const char *field, struct api_err *e)
{
	char kid[MP_KID_TEXT_LEN + 1];
	const char *why, *kind;

	if (mp_envelope_check(env, &why) != 0)
		return api_error(e, 400, "invalid_field", field, "%s", why);
	kind = json_string_value(json_object_get(env, "kind"));
	if (strcmp(kind, "report") == 0)
		return api_error(e, 400, "invalid_field", field,
		    "a case has one report; send a "
		    "message or a note");
	if (c->purged[0] != '\0')
		return api_error(e, 409, "conflict", NULL, "this case's contents were removed");
	if (c->has_reporter)
		mp_kid(kid, c->reporter_pk);
	if (strcmp(kind, "message") == 0 && !(c->has_reporter && mp_envelope_has_kid(env, kid)))
		return api_error(e, 400, "invalid_field", field,
		    c->has_reporter
		        ? "a message must be sealed to the reporter's key"
		        : "this case has no follow-up token, so the reporter cannot read messages");
	if (strcmp(kind, "note") == 0 && c->has_reporter && mp_envelope_has_kid(env, kid))
		return api_error(e, 400, "invalid_field", field,
		    "a note must not be sealed to the "
		    "reporter");
	return 0;
}

static const char *const message_fields[] = { "envelope", NULL };

int
h_case_message(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	char item_id[MP_ID_LEN + 1], day[11], *text = NULL;
	const char *kind;
	struct mp_case c;
	json_t *o = NULL, *env;
	int r, rc = -1;

	memset(&c, 0, sizeof c);
	if (body_json(rq, &o, e) != 0 || only_fields(o, message_fields, "", e) != 0)
		goto out;
	if ((env = json_object_get(o, "envelope")) == NULL) {
		api_error(e, 400, "missing_field", "envelope", "envelope is required");
		goto out;
	}
	if (path_case(srv, rq, &c, e) != 0 || check_case_envelope(&c, env, "envelope", e) != 0)
		goto out;
	kind = json_string_value(json_object_get(env, "kind"));
	if ((text = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	mp_new_id(item_id);
	mp_today(day);
	if ((r = mp_store_item_add(srv->st, c.id, item_id, kind, "caseworker", day, text, 0)) !=
	    0) {
		store_error(r, e);
		goto out;
	}
	rc = reply_json(out, 201, json_pack("{s:s}", "id", item_id));
out:
	free(text);
	mp_case_clear(&c);
	json_decref(o);
	return rc;
}

static int
add_key(void *arg, const struct mp_key *k)
{
	char sign[MP_B64U_LEN(32)], box[MP_B64U_LEN(32)];
	json_t *o;

	if (mp_b64u_encode(box, sizeof box, k->box_pk, 32) != 0 ||
	    (o = json_pack("{s:s, s:s}", "name", k->name, "role", k->role)) == NULL)
		return -1;
	if (k->has_sign && mp_b64u_encode(sign, sizeof sign, k->sign_pk, 32) == 0)
		json_object_set_new(o, "sign", json_string(sign));
	json_object_set_new(o, "box", json_string(box));
	return json_array_append_new(arg, o);
}

int
h_keys(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	json_t *keys = json_array();

	(void)rq;
	if (keys == NULL || mp_store_keys(srv->st, 1, add_key, keys) != 0) {
		json_decref(keys);
		return store_error(-1, e);
	}
	return reply_json(out, 200, json_pack("{s:o}", "keys", keys));
}
