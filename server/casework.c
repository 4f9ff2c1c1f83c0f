/* Case work routes: classification, intake, sharing with colleagues, collectives. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_token.h"

#define BULK_MAX 20000
#define NAME_MAX_CP 100

static const char *const cls_fields[] = { "grounds", "domain", "manifestation",
	"incident_municipality", "residence_municipality", NULL };
static const enum mp_list_id cls_lists[] = { MP_GROUNDS, MP_DOMAINS, MP_MANIFESTATIONS,
	MP_MUNICIPALITIES, MP_MUNICIPALITIES };

/* A field name under a prefix ("classification.domain"). */
static const char *
fname(char *buf, size_t len, const char *prefix, const char *name)
{
	snprintf(buf, len, "%s%s", prefix, name);
	return buf;
}

/*
 * Check a classification object against the policy and return its
 * canonical compact JSON (malloc'ed) and its grounds (pointers into o).
 */
static int
classification(const struct mp_policy *p, const json_t *o, const char *prefix, char **text,
    const char **grounds, size_t *ngrounds, struct api_err *e)
{
	char f[64];
	json_t *g, *v, *canon;
	size_t i, j;

	*text = NULL;
	*ngrounds = 0;
	if (!json_is_object(o))
		return api_error(e, 400, "invalid_field", prefix[0] ? "classification" : NULL,
		    "a classification is an object");
	if (only_fields(o, cls_fields, prefix, e) != 0)
		return -1;
	for (i = 0; cls_fields[i] != NULL; i++)
		if (json_object_get(o, cls_fields[i]) == NULL ||
		    json_is_null(json_object_get(o, cls_fields[i])))
			return api_error(e, 400, "missing_field",
			    fname(f, sizeof f, prefix, cls_fields[i]), "%s is required",
			    cls_fields[i]);
	g = json_object_get(o, "grounds");
	if (!json_is_array(g) || json_array_size(g) == 0 ||
	    json_array_size(g) > p->lists[MP_GROUNDS].n)
		return api_error(e, 400, "invalid_field", fname(f, sizeof f, prefix, "grounds"),
		    "grounds is a list of one or more ground codes");
	json_array_foreach(g, i, v) {
		if (!json_is_string(v) ||
		    mp_policy_find(p, MP_GROUNDS, json_string_value(v)) == NULL)
			return api_error(e, 400, "invalid_field",
			    fname(f, sizeof f, prefix, "grounds"), "unknown ground");
		for (j = 0; j < i; j++)
			if (strcmp(grounds[j], json_string_value(v)) == 0)
				return api_error(e, 400, "invalid_field",
				    fname(f, sizeof f, prefix, "grounds"),
				    "a ground is named twice");
		grounds[i] = json_string_value(v);
	}
	*ngrounds = json_array_size(g);
	for (i = 1; cls_fields[i] != NULL; i++) {
		v = json_object_get(o, cls_fields[i]);
		if (!json_is_string(v) ||
		    mp_policy_find(p, cls_lists[i], json_string_value(v)) == NULL)
			return api_error(e, 400, "invalid_field",
			    fname(f, sizeof f, prefix, cls_fields[i]),
			    "%s is not one of the policy's codes", cls_fields[i]);
	}
	canon = json_pack("{s:O, s:O, s:O, s:O, s:O}", "grounds", g, "domain",
	    json_object_get(o, "domain"), "manifestation", json_object_get(o, "manifestation"),
	    "incident_municipality", json_object_get(o, "incident_municipality"),
	    "residence_municipality", json_object_get(o, "residence_municipality"));
	*text = canon ? json_dumps(canon, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(canon);
	return *text ? 0 : store_error(-1, e);
}

int
h_case_classify(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const char *grounds[64];
	struct mp_case c;
	char *text = NULL, day[11];
	size_t n = 0;
	json_t *o = NULL;
	int r, rc = -1;

	memset(&c, 0, sizeof c);
	if (body_json(rq, &o, e) != 0 ||
	    classification(srv->in->policy, o, "", &text, grounds, &n, e) != 0 ||
	    path_case(srv, rq, &c, e) != 0)
		goto out;
	mp_today(day);
	if ((r = mp_store_case_classify(srv->st, c.id, text, grounds, n, day)) != 0) {
		store_error(r, e);
		goto out;
	}
	rc = case_reply(srv, rq, &c, out, e);
out:
	free(text);
	mp_case_clear(&c);
	json_decref(o);
	return rc;
}

static const char *const intake_fields[] = { "id", "channel", "envelope", "language", "anonymous",
	"followup", "classification", NULL };

static int
optional_bool(const json_t *o, const char *name, int dflt, int *out, struct api_err *e)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return api_error(e, 400, "invalid_field", name, "%s is true or false", name);
	*out = json_is_true(v);
	return 0;
}

int
h_intake(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const struct mp_policy *p = srv->in->policy;
	struct mp_case_new c;
	const char *id, *channel, *lang, *why, *grounds[64];
	char token[MP_TOKEN_TEXT_LEN + 1], url[600], ref[24], item_id[MP_ID_LEN + 1], day[11];
	char *env_text = NULL, *cls = NULL;
	uint8_t tag[32], pk[32];
	json_t *o = NULL, *env, *clso;
	size_t ng = 0;
	int anonymous, followup, r, rc = -1;

	if (body_json(rq, &o, e) != 0 || only_fields(o, intake_fields, "", e) != 0 ||
	    text_field(o, "id", 1, 64, 1, &id, e) != 0 ||
	    text_field(o, "channel", 1, MP_CODE_LEN, 1, &channel, e) != 0 ||
	    text_field(o, "language", 1, MP_CODE_LEN, 0, &lang, e) != 0 ||
	    optional_bool(o, "anonymous", 1, &anonymous, e) != 0 ||
	    optional_bool(o, "followup", 0, &followup, e) != 0)
		goto out;
	if (!id_ok(id)) {
		api_error(e, 400, "invalid_field", "id", "id is 16 random bytes, b64u");
		goto out;
	}
	if (mp_policy_find(p, MP_CHANNELS, channel) == NULL || strcmp(channel, "web") == 0) {
		api_error(e, 400, "invalid_field", "channel",
		    "channel is one of the policy's "
		    "channels other than web");
		goto out;
	}
	if (lang != NULL && mp_policy_lang(p, lang) < 0) {
		api_error(e, 400, "invalid_field", "language", "not one of the policy's languages");
		goto out;
	}
	if ((env = json_object_get(o, "envelope")) == NULL) {
		api_error(e, 400, "missing_field", "envelope", "envelope is required");
		goto out;
	}
	if (mp_envelope_check(env, &why) != 0 ||
	    strcmp(json_string_value(json_object_get(env, "kind")), "report") != 0) {
		api_error(e, 400, "invalid_field", "envelope", "%s",
		    why ? why : "an intake carries an envelope of kind report");
		goto out;
	}
	clso = json_object_get(o, "classification");
	if (clso != NULL && !json_is_null(clso) &&
	    classification(p, clso, "classification.", &cls, grounds, &ng, e) != 0)
		goto out;
	if ((env_text = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	token[0] = url[0] = '\0';
	if (followup && token_issue(srv, token, url, sizeof url, tag, pk) != 0) {
		store_error(-1, e);
		goto out;
	}
	mp_today(day);
	mp_new_id(item_id);
	memset(&c, 0, sizeof c);
	c.id = id;
	c.day = day;
	c.channel = channel;
	c.language = lang != NULL ? lang : default_language(p);
	c.anonymous = anonymous;
	c.token_tag = followup ? tag : NULL;
	c.reporter_pk = followup ? pk : NULL;
	c.item_id = item_id;
	c.envelope = env_text;
	/* The case and its classification are one change. */
	if ((r = mp_store_begin(srv->st)) != 0) {
		store_error(r, e);
		goto out;
	}
	r = mp_store_case_create(srv->st, &c, ref);
	if (r == 0 && cls != NULL)
		r = mp_store_case_classify(srv->st, id, cls, grounds, ng, day);
	if (mp_store_end(srv->st, r == 0) != 0 || r != 0) {
		store_error(r != 0 ? r : -1, e);
		if (r == MP_STORE_CONFLICT)
			api_error(
			    e, 409, "conflict", "id", "this case id is in use; choose another");
		goto out;
	}
	rc = reply_json(out, 201,
	    json_pack("{s:s, s:s, s:o, s:o}", "id", id, "ref", ref, "token",
	        followup ? json_string(token) : json_null(), "followup_url",
	        followup ? json_string(url) : json_null()));
out:
	sodium_memzero(token, sizeof token);
	sodium_memzero(url, sizeof url);
	free(env_text);
	free(cls);
	json_decref(o);
	return rc;
}

/* Check one list of new recipients {kid, sealed}: active caseworker or recovery keys only. */
static int
check_adds(struct server *srv, const json_t *add, const char *field, struct api_err *e)
{
	uint8_t sealed[80];
	struct mp_key k;
	json_t *a, *kid, *s;
	size_t i;

	if (!json_is_array(add) || json_array_size(add) == 0 ||
	    json_array_size(add) > MP_ENVELOPE_MAX_RECIPIENTS)
		return api_error(e, 400, "invalid_field", field, "add is a list of {kid, sealed}");
	json_array_foreach(add, i, a) {
		kid = json_object_get(a, "kid");
		s = json_object_get(a, "sealed");
		if (!json_is_object(a) || json_object_size(a) != 2 || !json_is_string(kid) ||
		    !json_is_string(s) ||
		    mp_b64u_decode_exact(
		        sealed, sizeof sealed, json_string_value(s), json_string_length(s)) != 0)
			return api_error(e, 400, "invalid_field", field,
			    "each recipient is {kid, sealed: 80 bytes b64u}");
		if (mp_store_key_by_kid(srv->st, json_string_value(kid), &k) != 0 ||
		    (strcmp(k.role, "caseworker") != 0 && strcmp(k.role, "recovery") != 0))
			return api_error(e, 400, "invalid_field", field,
			    "kid %s is not an active "
			    "caseworker or recovery key",
			    json_string_value(kid));
	}
	return 0;
}

/*
 * Add the new recipients to one item (of case_id, when given) as it is now:
 * 0, -1 with e set, or MP_STORE_CONFLICT (e set too) when another share
 * changed the item between this look at it and the store's.
 */
static int
share_once(struct server *srv, const char *item_id, const char *case_id, const json_t *add,
    int *added, struct api_err *e)
{
	char owner[MP_ID_LEN + 1], day[11], *text = NULL, *newtext = NULL;
	const char *kids[MP_ENVELOPE_MAX_RECIPIENTS];
	json_t *env = NULL, *list, *a;
	size_t i, n = 0;
	int r, rc = -1;

	if ((r = mp_store_item_get(srv->st, item_id, owner, &text)) != 0 ||
	    (case_id != NULL && strcmp(owner, case_id) != 0)) {
		api_error(
		    e, 404, "not_found", "item", "no such item%s", case_id ? " in this case" : "");
		if (r < 0)
			store_error(r, e);
		goto out;
	}
	if ((env = json_loads(text, 0, NULL)) == NULL ||
	    !json_is_array(list = json_object_get(env, "recipients"))) {
		store_error(-1, e);
		goto out;
	}
	json_array_foreach(add, i, a) {
		const char *kid = json_string_value(json_object_get(a, "kid"));
		if (mp_envelope_has_kid(env, kid))
			continue;
		if (json_array_size(list) >= MP_ENVELOPE_MAX_RECIPIENTS) {
			api_error(e, 400, "invalid_field", "add",
			    "an item has at most %d recipients", MP_ENVELOPE_MAX_RECIPIENTS);
			goto out;
		}
		json_array_append(list, a);
		kids[n++] = kid;
	}
	if (n > 0) {
		mp_today(day);
		if ((newtext = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
		    (r = mp_store_item_share(srv->st, item_id, owner, newtext, kids, n, day)) !=
		        0) {
			store_error(newtext ? r : -1, e);
			rc = newtext && r == MP_STORE_CONFLICT ? r : -1;
			goto out;
		}
	}
	*added += (int)n;
	rc = 0;
out:
	free(text);
	free(newtext);
	json_decref(env);
	return rc;
}

/* share_once, looking again when another share came first (a few times, then 409). */
static int
share_item(struct server *srv, const char *item_id, const char *case_id, const json_t *add,
    int *added, struct api_err *e)
{
	int tries = 0, rc;

	while ((rc = share_once(srv, item_id, case_id, add, added, e)) == MP_STORE_CONFLICT &&
	    ++tries < 4)
		memset(e, 0, sizeof *e);
	return rc == 0 ? 0 : -1;
}

static const char *const one_share_fields[] = { "add", "item", NULL };

int
h_case_recipients(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct mp_case c;
	const char *item;
	json_t *o = NULL;
	int added = 0, rc = -1;

	memset(&c, 0, sizeof c);
	if (body_json(rq, &o, e) != 0 || only_fields(o, one_share_fields, "", e) != 0 ||
	    text_field(o, "item", 1, 64, 1, &item, e) != 0)
		goto out;
	if (json_object_get(o, "add") == NULL) {
		api_error(e, 400, "missing_field", "add", "add is required");
		goto out;
	}
	if (check_adds(srv, json_object_get(o, "add"), "add", e) != 0 ||
	    path_case(srv, rq, &c, e) != 0 ||
	    share_item(srv, item, c.id, json_object_get(o, "add"), &added, e) != 0)
		goto out;
	rc = reply_json(out, 200, json_pack("{s:i}", "added", added));
out:
	mp_case_clear(&c);
	json_decref(o);
	return rc;
}

struct missing {
	json_t *items;
	char last[MP_ID_LEN + 1];
};

static int
add_missing(void *arg, const char *item_id, const char *case_id, const char *envelope)
{
	struct missing *m = arg;
	json_t *env = json_loads(envelope, 0, NULL), *o;

	if (env == NULL)
		return -1;
	snprintf(m->last, sizeof m->last, "%s", item_id);
	o = json_pack("{s:s, s:s, s:O}", "item", item_id, "case", case_id, "recipients",
	    json_object_get(env, "recipients"));
	json_decref(env);
	return json_array_append_new(m->items, o);
}

int
h_recipients_missing(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const char *kid = request_query(rq, "missing"), *limit = request_query(rq, "limit");
	const char *after = request_query(rq, "after");
	struct missing m = { NULL, "" };
	uint8_t k[MP_KID_BYTES];
	char *end;
	long n = 500;
	int more = 0;

	if (kid == NULL || mp_b64u_decode_exact(k, sizeof k, kid, strlen(kid)) != 0)
		return api_error(
		    e, 400, "invalid_field", "missing", "missing is a kid (16 bytes b64u)");
	if (limit != NULL && *limit != '\0') {
		n = strtol(limit, &end, 10);
		if (*end != '\0' || n < 1 || n > 1000)
			return api_error(
			    e, 400, "invalid_field", "limit", "limit must be 1 to 1000");
	}
	if (after != NULL && *after == '\0')
		after = NULL;
	if (after != NULL && !id_ok(after))
		return api_error(
		    e, 400, "invalid_field", "after", "after must be a cursor from `next`");
	if ((m.items = json_array()) == NULL ||
	    mp_store_items_missing(srv->st, kid, (int)n, after, add_missing, &m, &more) != 0) {
		json_decref(m.items);
		return store_error(-1, e);
	}
	return reply_json(out, 200,
	    json_pack(
	        "{s:o, s:o}", "items", m.items, "next", more ? json_string(m.last) : json_null()));
}

static const char *const bulk_share_fields[] = { "items", NULL };
static const char *const bulk_item_fields[] = { "item", "add", NULL };

int
h_recipients_add(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	json_t *o = NULL, *items, *it;
	char field[64];
	size_t i;
	int added = 0, r, rc = -1;

	if (body_json(rq, &o, e) != 0 || only_fields(o, bulk_share_fields, "", e) != 0)
		goto out;
	items = json_object_get(o, "items");
	if (!json_is_array(items) || json_array_size(items) == 0 ||
	    json_array_size(items) > BULK_MAX) {
		api_error(e, 400, "invalid_field", "items", "items is a list of 1 to %d", BULK_MAX);
		goto out;
	}
	json_array_foreach(items, i, it) {
		snprintf(field, sizeof field, "items[%zu].", i);
		if (!json_is_object(it) || only_fields(it, bulk_item_fields, field, e) != 0 ||
		    !json_is_string(json_object_get(it, "item"))) {
			if (e->status != 400)
				api_error(
				    e, 400, "invalid_field", "items", "each item is {item, add}");
			goto out;
		}
		snprintf(field, sizeof field, "items[%zu].add", i);
		if (check_adds(srv, json_object_get(it, "add"), field, e) != 0)
			goto out;
	}
	/* All or nothing. */
	if ((r = mp_store_begin(srv->st)) != 0) {
		store_error(r, e);
		goto out;
	}
	r = 0;
	json_array_foreach(items, i, it) {
		if ((r = share_item(srv, json_string_value(json_object_get(it, "item")), NULL,
		         json_object_get(it, "add"), &added, e)) != 0)
			break;
	}
	if (mp_store_end(srv->st, r == 0) != 0) {
		if (r == 0)
			store_error(-1, e);
		goto out;
	}
	rc = reply_json(out, 200, json_pack("{s:i}", "added", added));
out:
	json_decref(o);
	return rc;
}

static json_t *
collective_json(const struct mp_collective *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "id", c->id, "ref", c->ref, "name", c->name,
	    "created", c->created, "cases", c->cases);
}

/* Answer with status and the collective the store filled in, or with the store's error r. */
static int
collective_reply(
    struct reply *out, unsigned status, int r, const struct mp_collective *c, struct api_err *e)
{
	if (r != 0)
		return store_error(r, e);
	return reply_json(out, status, collective_json(c));
}

/* The collective named in the path; 404 when there is none. */
static int
path_collective(struct server *srv, struct request *rq, struct mp_collective *c, struct api_err *e)
{
	int r;

	if (!id_ok(rq->param))
		return api_error(e, 404, "not_found", NULL, "no such collective");
	if ((r = mp_store_collective_get(srv->st, rq->param, c)) != 0)
		return r == MP_STORE_NOTFOUND
		    ? api_error(e, 404, "not_found", NULL, "no such collective")
		    : store_error(r, e);
	return 0;
}

static const char *const coll_fields[] = { "name", NULL };

int
h_coll_create(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct mp_collective c;
	const char *name;
	json_t *o = NULL;
	char day[11];
	int r, rc = -1;

	if (body_json(rq, &o, e) != 0 || only_fields(o, coll_fields, "", e) != 0 ||
	    text_field(o, "name", 1, NAME_MAX_CP, 1, &name, e) != 0)
		goto out;
	mp_today(day);
	r = mp_store_collective_create(srv->st, name, day, &c);
	rc = collective_reply(out, 201, r, &c, e);
out:
	json_decref(o);
	return rc;
}

static int
add_collective(void *arg, const struct mp_collective *c)
{
	return json_array_append_new(arg, collective_json(c));
}

int
h_coll_list(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	json_t *a = json_array();

	(void)rq;
	if (a == NULL || mp_store_collectives(srv->st, add_collective, a) != 0) {
		json_decref(a);
		return store_error(-1, e);
	}
	return reply_json(out, 200, json_pack("{s:o}", "collectives", a));
}

static int
add_member(void *arg, const struct mp_member *m)
{
	char box[MP_B64U_LEN(32)];

	if (m->has_reporter && mp_b64u_encode(box, sizeof box, m->reporter_pk, 32) != 0)
		return -1;
	return json_array_append_new(arg,
	    json_pack("{s:s, s:s, s:s, s:o}", "id", m->id, "ref", m->ref, "status", m->status,
	        "reporter_box", m->has_reporter ? json_string(box) : json_null()));
}

int
h_coll_show(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct mp_collective c;
	json_t *o, *members = json_array();

	if (members == NULL || path_collective(srv, rq, &c, e) != 0) {
		json_decref(members);
		return members == NULL ? store_error(-1, e) : -1;
	}
	if (mp_store_collective_members(srv->st, c.id, add_member, members) != 0 ||
	    (o = collective_json(&c)) == NULL) {
		json_decref(members);
		return store_error(-1, e);
	}
	json_object_set_new(o, "members", members);
	return reply_json(out, 200, o);
}

static const char *const coll_add_fields[] = { "add", NULL };

int
h_coll_add(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct mp_collective c;
	json_t *o = NULL, *add, *v;
	char day[11];
	size_t i;
	int r = 0, rc = -1;

	if (body_json(rq, &o, e) != 0 || only_fields(o, coll_add_fields, "", e) != 0 ||
	    path_collective(srv, rq, &c, e) != 0)
		goto out;
	add = json_object_get(o, "add");
	if (!json_is_array(add) || json_array_size(add) == 0 || json_array_size(add) > BULK_MAX) {
		api_error(
		    e, 400, "invalid_field", "add", "add is a list of 1 to %d case ids", BULK_MAX);
		goto out;
	}
	json_array_foreach(add, i, v)
		if (!json_is_string(v) || !id_ok(json_string_value(v))) {
			api_error(e, 400, "invalid_field", "add", "add[%zu] is not a case id", i);
			goto out;
		}
	mp_today(day);
	if ((r = mp_store_begin(srv->st)) != 0) {
		store_error(r, e);
		goto out;
	}
	json_array_foreach(add, i, v) {
		if ((r = mp_store_collective_link(srv->st, c.id, json_string_value(v), day)) != 0)
			break;
	}
	if (mp_store_end(srv->st, r == 0) != 0) {
		if (r == MP_STORE_NOTFOUND)
			api_error(e, 404, "not_found", "add",
			    "add[%zu]: no such case; nothing linked", i);
		else if (r == MP_STORE_CONFLICT)
			api_error(e, 409, "conflict", "add",
			    "add[%zu] is in another collective; nothing "
			    "linked",
			    i);
		else
			store_error(-1, e);
		goto out;
	}
	r = mp_store_collective_get(srv->st, c.id, &c);
	rc = collective_reply(out, 200, r, &c, e);
out:
	json_decref(o);
	return rc;
}

/* Members, kept in memory for one request. */
struct roster {
	struct mp_member *v;
	size_t n, cap;
};

static int
roster_add(void *arg, const struct mp_member *m)
{
	struct roster *r = arg;
	struct mp_member *nv;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		if ((nv = realloc(r->v, r->cap * sizeof *nv)) == NULL)
			return -1;
		r->v = nv;
	}
	r->v[r->n++] = *m;
	return 0;
}

static int
member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mp_member *)a)->id, ((const struct mp_member *)b)->id);
}

int
h_coll_status(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const struct mp_policy *p = srv->in->policy;
	struct roster ro = { NULL, 0, 0 };
	struct mp_collective c;
	const char *to, *closure;
	json_t *o = NULL, *skipped = NULL;
	char day[11];
	size_t i;
	int moved = 0, r = 0, rc = -1;

	if (body_json(rq, &o, e) != 0 || move_body(p, o, &to, &closure, e) != 0)
		goto out;
	if (path_collective(srv, rq, &c, e) != 0)
		goto out;
	if ((skipped = json_array()) == NULL ||
	    mp_store_collective_members(srv->st, c.id, roster_add, &ro) != 0) {
		store_error(-1, e);
		goto out;
	}
	mp_today(day);
	if ((r = mp_store_begin(srv->st)) != 0) {
		store_error(r, e);
		goto out;
	}
	for (i = 0; i < ro.n && r == 0; i++) {
		if (!mp_policy_move_ok(p, ro.v[i].status, to)) {
			json_array_append_new(skipped,
			    json_pack("{s:s, s:s}", "id", ro.v[i].id, "status", ro.v[i].status));
			continue;
		}
		if ((r = mp_store_case_move(
		         srv->st, ro.v[i].id, ro.v[i].status, to, closure, day)) == 0)
			moved++;
	}
	if (mp_store_end(srv->st, r == 0) != 0) {
		store_error(r != 0 ? r : -1, e);
		goto out;
	}
	rc = reply_json(out, 200, json_pack("{s:i, s:O}", "moved", moved, "skipped", skipped));
out:
	free(ro.v);
	json_decref(skipped);
	json_decref(o);
	return rc;
}

static const char *const coll_msg_fields[] = { "messages", NULL };
static const char *const coll_one_fields[] = { "case", "envelope", NULL };

int
h_coll_messages(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct roster ro = { NULL, 0, 0 };
	struct mp_collective coll;
	struct mp_member key, *m;
	struct mp_case c;
	json_t *o = NULL, *msgs, *it;
	char field[64], item_id[MP_ID_LEN + 1], day[11], **texts = NULL;
	size_t i, n = 0;
	int r = 0, rc = -1;

	memset(&c, 0, sizeof c);
	if (body_json(rq, &o, e) != 0 || only_fields(o, coll_msg_fields, "", e) != 0 ||
	    path_collective(srv, rq, &coll, e) != 0)
		goto out;
	msgs = json_object_get(o, "messages");
	if (!json_is_array(msgs) || (n = json_array_size(msgs)) == 0 || n > BULK_MAX) {
		api_error(
		    e, 400, "invalid_field", "messages", "messages is a list of 1 to %d", BULK_MAX);
		goto out;
	}
	if (mp_store_collective_members(srv->st, coll.id, roster_add, &ro) != 0 ||
	    (texts = calloc(n, sizeof *texts)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	qsort(ro.v, ro.n, sizeof *ro.v, member_cmp);
	/* Everything is checked before anything is stored. */
	json_array_foreach(msgs, i, it) {
		const char *id = json_string_value(json_object_get(it, "case"));
		snprintf(field, sizeof field, "messages[%zu].", i);
		if (!json_is_object(it) || only_fields(it, coll_one_fields, field, e) != 0)
			goto bad;
		if (id == NULL || strlen(id) > MP_ID_LEN) {
			api_error(e, 400, "invalid_field", "messages",
			    "messages[%zu].case is a case id", i);
			goto bad;
		}
		snprintf(key.id, sizeof key.id, "%s", id);
		if ((m = bsearch(&key, ro.v, ro.n, sizeof *ro.v, member_cmp)) == NULL) {
			api_error(e, 409, "conflict", "messages",
			    "messages[%zu].case is not in this "
			    "collective; nothing sent",
			    i);
			goto out;
		}
		/* The envelope rules of one case's messages, from the member's own row. */
		memset(&c, 0, sizeof c);
		snprintf(c.id, sizeof c.id, "%s", m->id);
		c.has_reporter = m->has_reporter;
		memcpy(c.reporter_pk, m->reporter_pk, 32);
		snprintf(field, sizeof field, "messages[%zu].envelope", i);
		if (check_case_envelope(&c, json_object_get(it, "envelope"), field, e) != 0)
			goto out;
		if (strcmp(
		        json_string_value(json_object_get(json_object_get(it, "envelope"), "kind")),
		        "message") != 0) {
			api_error(
			    e, 400, "invalid_field", field, "a collective answer is a message");
			goto out;
		}
		if ((texts[i] = json_dumps(json_object_get(it, "envelope"),
		         JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
			store_error(-1, e);
			goto out;
		}
	}
	mp_today(day);
	if ((r = mp_store_begin(srv->st)) != 0) {
		store_error(r, e);
		goto out;
	}
	for (i = 0; i < n && r == 0; i++) {
		mp_new_id(item_id);
		r = mp_store_item_add(srv->st,
		    json_string_value(json_object_get(json_array_get(msgs, i), "case")), item_id,
		    "message", "caseworker", day, texts[i], 0);
	}
	if (mp_store_end(srv->st, r == 0) != 0) {
		store_error(r != 0 ? r : -1, e);
		goto out;
	}
	rc = reply_json(out, 201, json_pack("{s:i}", "sent", (int)n));
	goto out;
bad:
	if (e->status != 400)
		api_error(e, 400, "invalid_field", "messages", "each message is {case, envelope}");
out:
	for (i = 0; texts != NULL && i < n; i++)
		free(texts[i]);
	free(texts);
	free(ro.v);
	json_decref(o);
	return rc;
}
