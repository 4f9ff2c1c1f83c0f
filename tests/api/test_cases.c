/*
 * The caseworker API (signed): case list and paging, a case with its
 * envelopes, messages to the reporter and notes, status moves, keys.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "mp_b64.h"
#include "mp_envelope.h"

#define REPORTER_MSG "CANARY-REPORTER-MESSAGE-2e6b: did you read my report?"
#define CW_MSG "CANARY-CASEWORKER-REPLY-8d4c: yes, we will call you"
#define CW_MSG_LOST "CANARY-CASEWORKER-UNSEALED-51aa"
#define NOTE_BAD "CANARY-NOTE-TO-REPORTER-0c3f"
#define NOTE "CANARY-NOTE-INTERNAL-6e92"

/* The reporter's box key pair, derived from the token text. */
static int
reporter_keys(uint8_t pk[32], uint8_t sk[32], const char *token)
{
	uint8_t t[MP_TOKEN_BYTES];
	int rc;

	if (mp_token_parse(t, token, strlen(token)) != 0)
		return -1;
	rc = mp_token_reporter_keypair(pk, sk, t);
	sodium_memzero(t, sizeof t);
	return rc;
}

/* The submission whose description contains needle, or NULL. */
static struct sub *
sub_with(const char *needle)
{
	for (size_t i = 0; i < NSUBS; i++) {
		const char *d = jstr(SUBS[i].report, "description");

		if (d && strstr(d, needle))
			return &SUBS[i];
	}
	return NULL;
}

static int
sub_index_of_case(const char *id)
{
	for (size_t i = 0; i < NSUBS; i++)
		if (id && strcmp(SUBS[i].case_id, id) == 0)
			return (int)i;
	return -1;
}

static int
ref_ok(const char *ref, const char *year)
{
	if (ref == NULL || strlen(ref) < 9 || strncmp(ref, year, 4) != 0 || ref[4] != '-')
		return 0;
	for (const char *p = ref + 5; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return strlen(ref) >= 9;
}

static int
id_ok(const char *id)
{
	uint8_t b[16];

	return id != NULL && strlen(id) == 22 && mp_b64u_decode_exact(b, 16, id, 22) == 0;
}

/* Seal a message or note plaintext for the case to the given keys; {"envelope": ...} text. */
static char *
sealed_body(const char *kind, const char *case_id, const char *text, const uint8_t *const keys[],
    size_t nkeys)
{
	struct mp_box_pk rc[4];
	json_t *pt = json_pack(
	           "{s:s, s:s, s:s}", "text", text, "from", "caseworker", "author", "Anna"),
	       *env, *o;
	char *pts = dump(pt), *b = NULL;

	for (size_t i = 0; i < nkeys && i < 4; i++)
		memcpy(rc[i].pk, keys[i], 32);
	env = mp_envelope_seal(kind, case_id, (const uint8_t *)pts, strlen(pts), rc, nkeys);
	if (env != NULL) {
		o = json_pack("{s:o}", "envelope", env);
		b = dump(o);
		json_decref(o);
	}
	sodium_memzero(pts, strlen(pts));
	free(pts);
	json_decref(pt);
	return b;
}

static char *big_body(const char *name, size_t len);

/* GET the case; r holds the answer. */
static int
get_case(struct resp *r, const char *id)
{
	char target[128];

	snprintf(target, sizeof target, "/api/v1/cases/%s", id);
	return signed_req(r, anna, "GET", target, NULL) == 0 && r->status == 200 ? 0 : -1;
}

static int
post_case(struct resp *r, const char *id, const char *what, const char *body)
{
	char target[160];

	snprintf(target, sizeof target, "/api/v1/cases/%s/%s", id, what);
	return signed_req(r, anna, "POST", target, body);
}

static size_t
case_messages(const char *id)
{
	struct resp r;
	size_t n = (size_t)-1;

	if (get_case(&r, id) == 0)
		n = json_array_size(json_object_get(r.json, "messages"));
	resp_free(&r);
	return n;
}

static const char *
followup_status(const char *token, size_t *nmsgs)
{
	static char st[64];
	struct resp r;

	st[0] = '\0';
	if (followup(&r, token) == 0 && r.status == 200 && jstr(r.json, "status"))
		snprintf(st, sizeof st, "%s", jstr(r.json, "status"));
	if (nmsgs)
		*nmsgs = json_array_size(json_object_get(r.json, "messages"));
	resp_free(&r);
	return st;
}

static void
test_list(void)
{
	char year[11], target[512], *cur = NULL, *esc;
	const char *id, *prev_ref = NULL;
	json_t *cases, *c, *all_ids = json_array();
	int last = -1, order_ok = 1, fields_ok = 1, refs_ok = 1;
	struct resp r, p;
	size_t i, walked = 0;
	struct sub *s;

	amsterdam_day(year, 0);
	year[4] = '\0';
	for (i = 0; i < NSUBS; i++)
		case_of(&SUBS[i]);
	for (i = 0; i < NSUBS; i++)
		if (SUBS[i].case_id[0] == '\0')
			break;
	if (!ok(i == NSUBS, "every accepted report is a case whose report envelope Anna opens"))
		diag("report %zu (%.60s) not found", i, jstr(SUBS[i].report, "description"));

	signed_req(&r, anna, "GET", "/api/v1/cases", NULL);
	cases = json_object_get(r.json, "cases");
	if (!ok(r.status == 200 && json_is_array(cases) && json_object_get(r.json, "next") != NULL,
	        "GET /api/v1/cases (signed) -> 200 {\"cases\": [...], \"next\"}")) {
		diag_resp(&r);
		resp_free(&r);
		json_decref(all_ids);
		return;
	}
	json_array_foreach(cases, i, c) {
		const json_t *an = json_object_get(c, "anonymous");
		int k;

		id = jstr(c, "id");
		json_array_append_new(all_ids, json_string(id ? id : ""));
		if (!id_ok(id) || !ref_ok(jstr(c, "ref"), year) || !is_day(jstr(c, "received")) ||
		    !jstr(c, "status") || !json_is_boolean(an) ||
		    json_object_get(c, "classification") == NULL ||
		    json_object_get(c, "collective") == NULL) {
			if (fields_ok) {
				char *t = dump(c);

				diag("case %zu: %s", i, t ? t : "");
				free(t);
			}
			fields_ok = 0;
		}
		if ((k = sub_index_of_case(id)) >= 0) {
			if (last >= 0 && k >= last)
				order_ok = 0;
			last = k;
		}
		if (prev_ref && jstr(c, "ref") && strcmp(jstr(c, "ref"), prev_ref) >= 0)
			refs_ok = 0;
		prev_ref = jstr(c, "ref");
	}
	ok(fields_ok,
	    "every case has id (22 b64u), ref (<this year>-NNNN), received, status, "
	    "anonymous, classification, collective");
	ok(order_ok, "cases come newest first (by submission order)");
	ok(refs_ok, "refs are distinct and descend in list order");
	{
		struct {
			const char *needle;
			int anon;
		} want[] = {
			{ "minimal report, anonymous", 1 },
			{ "full report", 0 },
			{ "contact null", 1 },
			{ "contact empty", 1 },
		};

		for (i = 0; i < sizeof want / sizeof want[0]; i++) {
			const json_t *an = NULL;
			size_t j;

			s = sub_with(want[i].needle);
			json_array_foreach(cases, j, c)
				if (s && jstr(c, "id") && strcmp(jstr(c, "id"), s->case_id) == 0)
					an = json_object_get(c, "anonymous");
			ok(json_is_boolean(an) && json_is_true(an) == want[i].anon,
			    "case of the report (%s) has anonymous %s", want[i].needle,
			    want[i].anon ? "true" : "false");
		}
	}

	/* paging */
	signed_req(&p, anna, "GET", "/api/v1/cases?limit=1", NULL);
	c = json_array_get(json_object_get(p.json, "cases"), 0);
	if (!ok(p.status == 200 && json_array_size(json_object_get(p.json, "cases")) == 1 &&
	            jstr(c, "id") &&
	            !strcmp(jstr(c, "id"), json_string_value(json_array_get(all_ids, 0))) &&
	            jstr(p.json, "next") && strlen(jstr(p.json, "next")) > 0,
	        "limit=1 -> the newest case and a next cursor"))
		diag_resp(&p);
	if (jstr(p.json, "next")) {
		esc = url_escape(jstr(p.json, "next"));
		resp_free(&p);
		snprintf(target, sizeof target, "/api/v1/cases?limit=1&after=%s", esc);
		free(esc);
		signed_req(&p, anna, "GET", target, NULL);
		c = json_array_get(json_object_get(p.json, "cases"), 0);
		if (!ok(p.status == 200 && json_array_size(json_object_get(p.json, "cases")) == 1 &&
		            jstr(c, "id") &&
		            !strcmp(jstr(c, "id"), json_string_value(json_array_get(all_ids, 1))),
		        "after=<cursor> -> the next case"))
			diag_resp(&p);
	}
	resp_free(&p);
	/* Walking with limit=3 visits every case once, in order. */
	for (i = 0; i < 200; i++) {
		size_t j;

		if (cur) {
			esc = url_escape(cur);
			snprintf(target, sizeof target, "/api/v1/cases?limit=3&after=%s", esc);
			free(esc);
		} else {
			snprintf(target, sizeof target, "/api/v1/cases?limit=3");
		}
		if (signed_req(&p, anna, "GET", target, NULL) != 0 || p.status != 200) {
			diag_resp(&p);
			resp_free(&p);
			break;
		}
		json_array_foreach(json_object_get(p.json, "cases"), j, c) {
			const char *want = json_string_value(json_array_get(all_ids, walked));

			if (!want || !jstr(c, "id") || strcmp(want, jstr(c, "id")) != 0)
				walked = (size_t)-1000000;
			walked++;
		}
		free(cur);
		cur = jstr(p.json, "next") ? strdup(jstr(p.json, "next")) : NULL;
		resp_free(&p);
		if (cur == NULL)
			break;
	}
	free(cur);
	if (!ok(walked == json_array_size(all_ids),
	        "paging with limit=3 visits every case once, in "
	        "order, and ends with next null"))
		diag("%zu cases in the list; the walk matched %zu", json_array_size(all_ids),
		    walked);
	signed_req(&p, anna, "GET", "/api/v1/cases?limit=0", NULL);
	expect_error(&p, 400, "invalid_field", "limit", "GET /api/v1/cases?limit=0");
	resp_free(&p);
	signed_req(&p, anna, "GET", "/api/v1/cases?limit=501", NULL);
	expect_error(&p, 400, "invalid_field", "limit", "GET /api/v1/cases?limit=501");
	resp_free(&p);
	signed_req(&p, anna, "GET", "/api/v1/cases?limit=ten", NULL);
	expect_error(&p, 400, "invalid_field", "limit", "GET /api/v1/cases?limit=ten");
	resp_free(&p);
	signed_req(&p, anna, "GET", "/api/v1/cases?limit=500", NULL);
	ok(p.status == 200, "GET /api/v1/cases?limit=500 -> 200");
	resp_free(&p);
	signed_req(&p, anna, "GET", "/api/v1/cases?after=not-a-cursor", NULL);
	expect_error(&p, 400, "invalid_field", "after", "GET /api/v1/cases?after=not-a-cursor");
	resp_free(&p);
	signed_req(&p, anna, "GET", "/api/v1/cases?status=archived", NULL);
	expect_error(&p, 400, "invalid_field", "status", "GET /api/v1/cases?status=archived");
	resp_free(&p);

	{
		int distinct = 1;

		for (i = 0; i < NSUBS; i++)
			for (size_t j = i + 1; j < NSUBS; j++)
				if (!strcmp(SUBS[i].token, SUBS[j].token) ||
				    (SUBS[i].case_id[0] &&
				        !strcmp(SUBS[i].case_id, SUBS[j].case_id)))
					distinct = 0;
		ok(distinct, "every report has its own token and its own case");
	}
	resp_free(&r);
	json_decref(all_ids);
}

/* The case of the full report: envelopes open for Anna and Bram, not for the reporter. */
static void
test_case_detail(struct sub *full, const uint8_t rpk[32], const uint8_t rsk[32])
{
	char today[11], rbox[MP_B64U_LEN(32)], rkid[MP_KID_TEXT_LEN + 1];
	const json_t *env, *msgs, *m;
	json_t *want, *pa, *pb, *pr;
	struct resp r;
	size_t i;
	int found = 0;

	amsterdam_day(today, 0);
	b64u(rbox, sizeof rbox, rpk, 32);
	mp_kid(rkid, rpk);
	if (!ok(get_case(&r, full->case_id) == 0, "GET /api/v1/cases/{id} -> 200")) {
		diag_resp(&r);
		resp_free(&r);
		return;
	}
	ok(jstr(r.json, "id") && !strcmp(jstr(r.json, "id"), full->case_id) &&
	        jstr(r.json, "ref") && is_day(jstr(r.json, "received")) && jstr(r.json, "status") &&
	        json_is_boolean(json_object_get(r.json, "anonymous")),
	    "the case has id, ref, received, status, anonymous");
	if (!ok(jstr(r.json, "reporter_box") && !strcmp(jstr(r.json, "reporter_box"), rbox),
	        "reporter_box is the box key derived from the token"))
		diag("got %s, want %s",
		    jstr(r.json, "reporter_box") ? jstr(r.json, "reporter_box") : "(none)", rbox);
	env = json_object_get(r.json, "report");
	want = json_deep_copy(full->report);
	json_object_set_new(want, "received", json_string(today));
	pa = open_env(env, full->case_id, anna->box_pk, anna->box_sk);
	pb = open_env(env, full->case_id, bram->box_pk, bram->box_sk);
	pr = open_env(env, full->case_id, rpk, rsk);
	ok(jstr(env, "kind") && !strcmp(jstr(env, "kind"), "report"),
	    "the report envelope has kind report");
	if (!ok(pa && json_equal(pa, want),
	        "Anna opens the report: the submitted report plus "
	        "\"received\"")) {
		char *a = pa ? dump(pa) : NULL, *w = dump(want);

		diag("opened %s", a ? a : "(does not open)");
		diag("wanted %s", w ? w : "");
		free(a);
		free(w);
	}
	ok(pb && json_equal(pb, want), "Bram opens the report too");
	ok(pr == NULL && !mp_envelope_has_kid(env, rkid),
	    "the report is not sealed to the reporter (a lost receipt must not reveal it)");
	json_decref(pa);
	json_decref(pb);
	json_decref(pr);
	json_decref(want);

	msgs = json_object_get(r.json, "messages");
	json_array_foreach(msgs, i, m) {
		const json_t *e = json_object_get(m, "envelope");
		json_t *oa, *ob, *orp;

		if (!jstr(m, "from") || strcmp(jstr(m, "from"), "reporter") != 0)
			continue;
		found = 1;
		oa = open_env(e, full->case_id, anna->box_pk, anna->box_sk);
		ob = open_env(e, full->case_id, bram->box_pk, bram->box_sk);
		orp = open_env(e, full->case_id, rpk, rsk);
		ok(jstr(m, "id") && jstr(m, "date") && !strcmp(jstr(m, "date"), today) &&
		        jstr(e, "kind") && !strcmp(jstr(e, "kind"), "message"),
		    "the reporter's message has an id, today's date and an envelope of kind message");
		if (!ok(oa && jstr(oa, "text") && !strcmp(jstr(oa, "text"), REPORTER_MSG) &&
		            jstr(oa, "from") && !strcmp(jstr(oa, "from"), "reporter"),
		        "Anna opens the reporter's message: {\"text\", \"from\": \"reporter\"}")) {
			char *t = oa ? dump(oa) : NULL;

			diag("opened %s", t ? t : "(does not open)");
			free(t);
		}
		ok(ob && json_equal(ob, oa), "Bram opens the reporter's message");
		ok(orp && json_equal(orp, oa), "the reporter's key opens the reporter's message");
		json_decref(oa);
		json_decref(ob);
		json_decref(orp);
	}
	if (!ok(found, "the case's messages include the reporter's message (from reporter)"))
		diag_resp(&r);
	resp_free(&r);
}

static void
test_messages(struct sub *full, const uint8_t rpk[32])
{
	const uint8_t *to_all[] = { rpk, anna->box_pk, bram->box_pk };
	const uint8_t *to_cw[] = { anna->box_pk, bram->box_pk };
	const json_t *msgs, *m0, *m1;
	char today[11], *b;
	struct resp r;
	size_t n0, n, i;
	int notes = 0;

	amsterdam_day(today, 0);
	canary_add(CANARY_TEXT, "CANARY-CASEWORKER-REPLY-8d4c");
	canary_add(CANARY_TEXT, CW_MSG_LOST);
	canary_add(CANARY_TEXT, NOTE_BAD);
	canary_add(CANARY_TEXT, NOTE);
	n0 = case_messages(full->case_id);

	b = sealed_body("message", full->case_id, CW_MSG, to_all, 3);
	post_case(&r, full->case_id, "messages", b);
	if (!ok(r.status == 201, "caseworker message sealed to the reporter, Anna and Bram -> 201"))
		diag_resp(&r);
	resp_free(&r);
	free(b);

	followup(&r, full->token);
	msgs = json_object_get(r.json, "messages");
	m0 = json_array_get(msgs, 0);
	m1 = json_array_get(msgs, 1);
	if (!ok(r.status == 200 && json_array_size(msgs) == 2 && jstr(m0, "from") &&
	            !strcmp(jstr(m0, "from"), "reporter") && jstr(m0, "text") &&
	            !strcmp(jstr(m0, "text"), REPORTER_MSG) && jstr(m1, "from") &&
	            !strcmp(jstr(m1, "from"), "caseworker") && jstr(m1, "text") &&
	            !strcmp(jstr(m1, "text"), CW_MSG) && jstr(m1, "date") &&
	            !strcmp(jstr(m1, "date"), today),
	        "follow-up shows the reporter's message, then the caseworker's reply (oldest first)"))
		diag_resp(&r);
	resp_free(&r);

	b = sealed_body("message", full->case_id, CW_MSG_LOST, to_cw, 2);
	post_case(&r, full->case_id, "messages", b);
	expect_error(&r, 400, "invalid_field", NULL, "message not sealed to the reporter's kid");
	resp_free(&r);
	free(b);
	b = sealed_body("note", full->case_id, NOTE_BAD, to_all, 3);
	post_case(&r, full->case_id, "messages", b);
	expect_error(&r, 400, "invalid_field", NULL, "note sealed to the reporter");
	resp_free(&r);
	free(b);
	ok(case_messages(full->case_id) == n0 + 1, "the rejected message and note stored nothing");

	b = sealed_body("note", full->case_id, NOTE, to_cw, 2);
	post_case(&r, full->case_id, "messages", b);
	if (!ok(r.status == 201, "note sealed to Anna and Bram -> 201"))
		diag_resp(&r);
	resp_free(&r);
	free(b);
	followup(&r, full->token);
	if (!ok(r.status == 200 && json_array_size(json_object_get(r.json, "messages")) == 2 &&
	            strstr(r.body, NOTE) == NULL,
	        "the note never appears in the follow-up answer"))
		diag_resp(&r);
	resp_free(&r);

	get_case(&r, full->case_id);
	msgs = json_object_get(r.json, "messages");
	n = json_array_size(msgs);
	json_array_foreach(msgs, i, m0) {
		const json_t *e = json_object_get(m0, "envelope");

		if (jstr(e, "kind") && !strcmp(jstr(e, "kind"), "note")) {
			json_t *o = open_env(e, full->case_id, bram->box_pk, bram->box_sk);

			notes += o && jstr(o, "text") && !strcmp(jstr(o, "text"), NOTE);
			json_decref(o);
		}
	}
	ok(n == n0 + 2 && notes == 1,
	    "the case lists the reply and the note (kind note), "
	    "which Bram opens");
	resp_free(&r);

	/*
	 * A message that names the reporter's kid but whose key was sealed to
	 * someone else: the server cannot tell, and the follow-up leaves it out.
	 */
	{
		const uint8_t *to_other[] = { mallory->box_pk, anna->box_pk, bram->box_pk };
		char kid[MP_KID_TEXT_LEN + 1];
		json_t *o;

		b = sealed_body("message", full->case_id, CW_MSG_LOST, to_other, 3);
		o = json_loads(b, 0, NULL);
		mp_kid(kid, rpk);
		json_object_set_new(
		    json_array_get(
		        json_object_get(json_object_get(o, "envelope"), "recipients"), 0),
		    "kid", json_string(kid));
		free(b);
		b = dump(o);
		json_decref(o);
		post_case(&r, full->case_id, "messages", b);
		if (!ok(r.status == 201,
		        "a message naming the reporter's kid but sealed to another "
		        "key -> 201 (the server cannot tell)"))
			diag_resp(&r);
		resp_free(&r);
		free(b);
		followup(&r, full->token);
		if (!ok(r.status == 200 &&
		            json_array_size(json_object_get(r.json, "messages")) == 2,
		        "the follow-up leaves out a message it cannot open"))
			diag_resp(&r);
		resp_free(&r);
		n0++;
	}

	post_case(&r, full->case_id, "messages", "{\"envelope\":{\"v\":1,\"kind\":\"message\"}}");
	expect_error(&r, 400, "invalid_field", NULL, "message whose envelope is malformed");
	resp_free(&r);
	post_case(&r, full->case_id, "messages", "{\"envelope\":null,\"text\":\"plain\"}");
	ok(r.status == 400, "message with a plaintext field -> 400");
	resp_free(&r);
	ok(case_messages(full->case_id) == n0 + 2, "the malformed messages stored nothing");

	/* Body limits: messages 128 KiB, other signed routes 1 MiB. */
	b = big_body("envelope", 128 * 1024 + 1);
	post_case(&r, full->case_id, "messages", b);
	expect_error(&r, 413, "too_large", NULL, "caseworker message body of 128 KiB + 1");
	resp_free(&r);
	free(b);
	ok(case_messages(full->case_id) == n0 + 2, "the oversized message stored nothing");
	b = big_body("status", 1024 * 1024 + 1);
	post_case(&r, full->case_id, "status", b);
	expect_error(&r, 413, "too_large", NULL, "status body of 1 MiB + 1");
	resp_free(&r);
	free(b);
}

/* {"<name>":"aaa..."} of exactly len bytes. */
static char *
big_body(const char *name, size_t len)
{
	char *b = malloc(len + 1);
	int n;

	if (b == NULL)
		abort();
	memset(b, 'a', len);
	n = snprintf(b, len, "{\"%s\":\"", name);
	b[n] = 'a';
	memcpy(b + len - 2, "\"}", 2);
	b[len] = '\0';
	return b;
}

static void
test_status(struct sub *full, struct sub *other)
{
	const json_t *e, *c;
	struct resp r;
	const char *code, *st;
	char *before = NULL;
	size_t i;
	int only_intake = 1, found = 0;

	followup(&r, full->token);
	if (jstr(r.json, "status_label"))
		before = strdup(jstr(r.json, "status_label"));
	resp_free(&r);

	post_case(&r, full->case_id, "status", "{\"status\":\"intake\"}");
	if (!ok(r.status == 200, "status received -> intake -> 200"))
		diag_resp(&r);
	resp_free(&r);
	followup(&r, full->token);
	if (!ok(jstr(r.json, "status") && !strcmp(jstr(r.json, "status"), "intake") &&
	            jstr(r.json, "status_label") && before &&
	            strcmp(before, jstr(r.json, "status_label")),
	        "the reporter's follow-up shows status intake, with another label"))
		diag_resp(&r);
	resp_free(&r);
	free(before);

	signed_req(&r, anna, "GET", "/api/v1/cases?status=intake", NULL);
	json_array_foreach(json_object_get(r.json, "cases"), i, c) {
		if (!jstr(c, "status") || strcmp(jstr(c, "status"), "intake"))
			only_intake = 0;
		if (jstr(c, "id") && !strcmp(jstr(c, "id"), full->case_id))
			found = 1;
	}
	if (!ok(r.status == 200 && found && only_intake,
	        "GET /api/v1/cases?status=intake lists that case and only intake cases"))
		diag_resp(&r);
	resp_free(&r);

	post_case(&r, full->case_id, "status", "{\"status\":\"closed\"}");
	e = json_object_get(r.json, "error");
	code = jstr(e, "code");
	if (!ok((r.status == 409 && code && !strcmp(code, "conflict")) ||
	            (r.status == 400 && code && !strcmp(code, "missing_field")),
	        "status intake -> closed without closure -> 409 conflict or 400 missing_field"))
		diag_resp(&r);
	resp_free(&r);
	post_case(&r, full->case_id, "status", "{\"status\":\"received\"}");
	expect_error(&r, 409, "conflict", NULL, "status intake -> received (not an allowed move)");
	resp_free(&r);
	post_case(&r, full->case_id, "status", "{\"status\":\"archived\"}");
	expect_error(&r, 400, "invalid_field", "status", "status \"archived\" (unknown)");
	resp_free(&r);
	post_case(&r, full->case_id, "status", "{}");
	expect_error(&r, 400, "missing_field", "status", "status without status");
	resp_free(&r);
	st = followup_status(full->token, NULL);
	if (!ok(!strcmp(st, "intake"), "rejected status changes leave the status intake"))
		diag("status %s", st);

	/* A whole path to closed on another case. */
	if (other == NULL || other->case_id[0] == '\0')
		return;
	post_case(&r, other->case_id, "status", "{\"status\":\"intake\"}");
	resp_free(&r);
	post_case(&r, other->case_id, "status", "{\"status\":\"registration_only\"}");
	if (!ok(r.status == 200, "status intake -> registration_only -> 200"))
		diag_resp(&r);
	resp_free(&r);
	post_case(
	    &r, other->case_id, "status", "{\"status\":\"closed\",\"closure\":\"not_a_closure\"}");
	expect_error(&r, 400, "invalid_field", "closure", "closing with an unknown closure code");
	resp_free(&r);
	post_case(&r, other->case_id, "status",
	    "{\"status\":\"closed\",\"closure\":\"registration_only\"}");
	if (!ok(r.status == 200, "status registration_only -> closed with closure -> 200"))
		diag_resp(&r);
	resp_free(&r);
	st = followup_status(other->token, NULL);
	if (!ok(!strcmp(st, "closed"), "the reporter's follow-up shows status closed"))
		diag("status %s", st);
}

static void
test_unknown_and_keys(void)
{
	uint8_t b[16];
	char id[MP_B64U_LEN(16)], target[128];
	const json_t *list, *k;
	struct resp r;
	size_t i;
	int seen_a = 0, seen_b = 0;

	randombytes_buf(b, sizeof b);
	b64u(id, sizeof id, b, sizeof b);
	snprintf(target, sizeof target, "/api/v1/cases/%s", id);
	signed_req(&r, anna, "GET", target, NULL);
	expect_error(&r, 404, "not_found", NULL, "GET /api/v1/cases/{unknown id}");
	resp_free(&r);
	post_case(&r, id, "status", "{\"status\":\"intake\"}");
	expect_error(&r, 404, "not_found", NULL, "POST /api/v1/cases/{unknown id}/status");
	resp_free(&r);
	signed_req(&r, anna, "GET", "/api/v1/cases/..%2F..%2Fmeldpunt.conf", NULL);
	expect_error(&r, 404, "not_found", NULL, "GET /api/v1/cases/..%%2F..%%2Fmeldpunt.conf");
	resp_free(&r);

	signed_req(&r, anna, "GET", "/api/v1/keys", NULL);
	list = json_is_array(r.json) ? r.json : json_object_get(r.json, "keys");
	json_array_foreach(list, i, k) {
		const struct mp_identity *who[] = { anna, bram };

		for (int w = 0; w < 2; w++) {
			char s[MP_B64U_LEN(32)], x[MP_B64U_LEN(32)];

			b64u(s, sizeof s, who[w]->sign_pk, 32);
			b64u(x, sizeof x, who[w]->box_pk, 32);
			if (jstr(k, "name") && !strcmp(jstr(k, "name"), who[w]->name) &&
			    jstr(k, "role") && !strcmp(jstr(k, "role"), "caseworker") &&
			    jstr(k, "sign") && !strcmp(jstr(k, "sign"), s) && jstr(k, "box") &&
			    !strcmp(jstr(k, "box"), x)) {
				if (w == 0)
					seen_a = 1;
				else
					seen_b = 1;
			}
		}
	}
	if (!ok(r.status == 200 && seen_a && seen_b,
	        "GET /api/v1/keys -> the bundles {name, role, sign, box} of Anna and Bram"))
		diag_resp(&r);
	resp_free(&r);
}

/* Neither the report's answer nor the follow-up names the case id or the ref. */
static void
test_no_case_id_for_reporters(struct sub *full)
{
	struct resp r, c;
	const char *ref = NULL;

	get_case(&c, full->case_id);
	ref = jstr(c.json, "ref");
	followup(&r, full->token);
	if (!ok(full->answer && !strstr(full->answer, full->case_id) &&
	            !strstr(r.body, full->case_id) && ref && !strstr(full->answer, ref) &&
	            !strstr(r.body, ref),
	        "reporters never see the case id or ref (report answer, follow-up)"))
		diag("case %s ref %s; follow-up %.200s", full->case_id, ref ? ref : "-", r.body);
	resp_free(&r);
	resp_free(&c);
}

void
test_cases(void)
{
	uint8_t rpk[32], rsk[32];
	struct sub *full = NSUBS > 1 ? &SUBS[1] : NULL;
	struct sub *other = sub_with("minimal report, anonymous");

	test_list();
	if (full == NULL || case_of(full) == NULL) {
		ok(0, "the full report's case is found");
		return;
	}
	if (reporter_keys(rpk, rsk, full->token) != 0) {
		ok(0, "the reporter's keys derive from the token");
		return;
	}
	test_case_detail(full, rpk, rsk);
	test_no_case_id_for_reporters(full);
	test_messages(full, rpk);
	test_status(full, other);
	test_unknown_and_keys();
	sodium_memzero(rsk, sizeof rsk);
}
