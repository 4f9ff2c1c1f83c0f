/*
 * Collective reports (docs/CASEWORK.md): create, list, show, link, status
 * and messages for all linked cases; then a collective of 5,000 reports.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casework.h"
#include "mp_b64.h"

#define NBIG 5000
#define BATCH 1000
#define ANSWER "collective: thank you for your report; we have written to the broadcaster"
#define BIG_ANSWER "collective: all 5,000 of you get this answer"

/* --- a keep-alive client for the bulk part ---------------------------------------------- */

static CURL *FC;

struct fbuf {
	char *p;
	size_t len, cap;
};

static size_t
fast_body(char *p, size_t sz, size_t nmemb, void *u)
{
	struct fbuf *b = u;
	size_t n = sz * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* One request on the shared connection; signed by id unless id is NULL.  0 when answered. */
static int
fast(struct resp *r, const struct mp_identity *id, const char *method, const char *target,
    const char *body)
{
	char url[8192], si[MP_SIG_PARAMS_LEN + 64], sg[256], dg[128];
	struct curl_slist *hl = NULL;
	struct fbuf b = { 0 };
	struct sighdr h;
	size_t len = body ? strlen(body) : 0;

	memset(r, 0, sizeof *r);
	if (FC == NULL && (FC = curl_easy_init()) == NULL)
		return -1;
	curl_easy_reset(FC);
	snprintf(url, sizeof url, "%s%s", I.base, target);
	curl_easy_setopt(FC, CURLOPT_URL, url);
	curl_easy_setopt(FC, CURLOPT_INTERFACE, "host!" CLIENT_IP);
	curl_easy_setopt(FC, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(FC, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(FC, CURLOPT_WRITEFUNCTION, fast_body);
	curl_easy_setopt(FC, CURLOPT_WRITEDATA, &b);
	hl = curl_slist_append(hl, "Expect:");
	hl = curl_slist_append(hl, "User-Agent: meldpunt-api-test/" USER_AGENT_CANARY);
	if (body) {
		hl = curl_slist_append(hl, "Content-Type: application/json");
		curl_easy_setopt(FC, CURLOPT_POST, 1L);
		curl_easy_setopt(FC, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(FC, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(FC, CURLOPT_HTTPGET, 1L);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(FC, CURLOPT_CUSTOMREQUEST, method);
	if (id != NULL) {
		if (sign_req(&h, id, method, target, body, len, (long long)time(NULL)) != 0) {
			curl_slist_free_all(hl);
			return -1;
		}
		snprintf(si, sizeof si, "Signature-Input: %s", h.input);
		snprintf(sg, sizeof sg, "Signature: %s", h.sig);
		hl = curl_slist_append(hl, si);
		hl = curl_slist_append(hl, sg);
		if (h.digest[0]) {
			snprintf(dg, sizeof dg, "Content-Digest: %s", h.digest);
			hl = curl_slist_append(hl, dg);
		}
	}
	curl_easy_setopt(FC, CURLOPT_HTTPHEADER, hl);
	curl_easy_perform(FC);
	curl_easy_getinfo(FC, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	if (b.p == NULL)
		fast_body((char *)"", 1, 0, &b);
	r->body = b.p;
	r->len = b.len;
	r->json = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
	return r->status > 0 ? 0 : -1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- helpers ------------------------------------------------------------------------------ */

static long
coll_post(struct resp *r, const char *id, const char *what, json_t *body)
{
	char target[200], *b = dump(body);

	if (id == NULL)
		snprintf(target, sizeof target, "/api/v1/collectives");
	else
		snprintf(target, sizeof target, "/api/v1/collectives/%s/%s", id, what);
	if (strlen(b) > 1024 * 1024)
		fast(r, anna, "POST", target, b);
	else
		signed_req(r, anna, "POST", target, b);
	free(b);
	json_decref(body);
	return r->status;
}

static int
coll_summary_ok(const json_t *s, const char *name, int cases)
{
	char year[11];
	const char *ref = jstr(s, "ref");
	uint8_t b[16];

	amsterdam_day(year, 0);
	return jstr(s, "id") && strlen(jstr(s, "id")) == 22 &&
	    mp_b64u_decode_exact(b, 16, jstr(s, "id"), 22) == 0 && ref && ref[0] == 'C' &&
	    strncmp(ref + 1, year, 4) == 0 && ref[5] == '-' && strlen(ref) >= 10 &&
	    jstr(s, "name") && (name == NULL || strcmp(jstr(s, "name"), name) == 0) &&
	    jstr(s, "created") && strcmp(jstr(s, "created"), year) == 0 &&
	    json_is_integer(json_object_get(s, "cases")) &&
	    (cases < 0 || json_integer_value(json_object_get(s, "cases")) == cases);
}

static const char *
case_collective(const char *id)
{
	static char c[64];
	json_t *s = cw_list_find("", id);

	snprintf(c, sizeof c, "%s",
	    s == NULL                   ? "?"
	        : jstr(s, "collective") ? jstr(s, "collective")
	                                : "null");
	json_decref(s);
	return c;
}

static size_t
message_count(const char *id)
{
	struct resp r;
	size_t n = (size_t)-1;

	if (cw_get(&r, id) == 0)
		n = json_array_size(json_object_get(r.json, "messages"));
	resp_free(&r);
	return n;
}

static int
skipped_is(const json_t *ans, const char *id, const char *status)
{
	const json_t *sk = json_object_get(ans, "skipped");

	return json_array_size(sk) == 1 && jstr(json_array_get(sk, 0), "id") &&
	    !strcmp(jstr(json_array_get(sk, 0), "id"), id) &&
	    jstr(json_array_get(sk, 0), "status") &&
	    !strcmp(jstr(json_array_get(sk, 0), "status"), status);
}

/* {"case": id, "envelope": message sealed to the active keys and, if given, the reporter}. */
static json_t *
coll_msg(const char *id, const char *text, const uint8_t *rpk, const char *kind,
    const struct mp_box_pk *keys, size_t nkeys)
{
	struct mp_box_pk rc[64];
	json_t *pt = json_pack(
	           "{s:s, s:s, s:s}", "text", text, "from", "caseworker", "author", "Anna"),
	       *env;
	char *pts = dump(pt);
	size_t n = nkeys;

	memcpy(rc, keys, nkeys * sizeof *keys);
	if (rpk)
		memcpy(rc[n++].pk, rpk, 32);
	env = mp_envelope_seal(kind, id, (const uint8_t *)pts, strlen(pts), rc, n);
	free(pts);
	json_decref(pt);
	return json_pack("{s:s, s:o}", "case", id, "envelope", env ? env : json_null());
}

/* --- the small collective ------------------------------------------------------------------ */

static void
test_small(void)
{
	char *name100 = repeat("\xc3\xa9", 100), *name101 = repeat("\xc3\xa9", 101), today[11];
	const char *evname = "Statement on television, November";
	char k1[64] = "", k2[64] = "", kx[64] = "";
	struct mp_box_pk keys[64];
	size_t nkeys, i;
	struct cw a, b, c, d;
	struct resp r;
	json_t *m, *list;

	amsterdam_day(today, 0);
	coll_post(&r, NULL, NULL, json_pack("{s:s}", "name", ""));
	expect_error(&r, 400, "invalid_field", "name", "a collective with an empty name");
	resp_free(&r);
	coll_post(&r, NULL, NULL, json_pack("{s:s}", "name", name101));
	expect_error(&r, 400, "invalid_field", "name", "a collective name of 101 characters");
	resp_free(&r);
	coll_post(&r, NULL, NULL, json_object());
	expect_error(&r, 400, "missing_field", "name", "a collective without a name");
	resp_free(&r);
	coll_post(&r, NULL, NULL, json_pack("{s:s, s:s}", "name", "x", "members", "y"));
	expect_error(&r, 400, "unknown_field", NULL, "a collective with an unknown field");
	resp_free(&r);
	coll_post(&r, NULL, NULL, json_pack("{s:s}", "name", name100));
	if (!ok(r.status == 201 && coll_summary_ok(r.json, name100, 0),
	        "a collective name of 100 characters (200 bytes) -> 201 {id, ref C<year>-NNNN, name as "
	        "written, created today, cases 0}"))
		diag_resp(&r);
	snprintf(kx, sizeof kx, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "");
	resp_free(&r);
	coll_post(&r, NULL, NULL, json_pack("{s:s}", "name", evname));
	if (!ok(r.status == 201 && coll_summary_ok(r.json, evname, 0),
	        "POST /api/v1/collectives "
	        "{name} -> 201 summary"))
		diag_resp(&r);
	snprintf(k1, sizeof k1, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "");
	resp_free(&r);
	free(name100);
	free(name101);
	if (k1[0] == '\0' || kx[0] == '\0')
		return;

	signed_req(&r, anna, "GET", "/api/v1/collectives", NULL);
	list = json_object_get(r.json, "collectives");
	{
		int ik1 = -1, ikx = -1;

		json_array_foreach(list, i, m) {
			if (jstr(m, "id") && !strcmp(jstr(m, "id"), k1) &&
			    coll_summary_ok(m, evname, 0))
				ik1 = (int)i;
			if (jstr(m, "id") && !strcmp(jstr(m, "id"), kx))
				ikx = (int)i;
		}
		if (!ok(r.status == 200 && ik1 >= 0 && ikx >= 0 && ik1 < ikx,
		        "GET /api/v1/collectives lists both summaries, newest first"))
			diag_resp(&r);
	}
	resp_free(&r);
	{
		char target[128];

		snprintf(target, sizeof target, "/api/v1/collectives/%s", k1);
		signed_req(&r, anna, "GET", target, NULL);
		if (!ok(r.status == 200 && coll_summary_ok(r.json, evname, 0) &&
		            json_is_array(json_object_get(r.json, "members")) &&
		            json_array_size(json_object_get(r.json, "members")) == 0,
		        "GET /api/v1/collectives/{id} -> the summary and members []"))
			diag_resp(&r);
		resp_free(&r);
		signed_req(&r, anna, "GET", "/api/v1/collectives/AAAAAAAAAAAAAAAAAAAAAA", NULL);
		expect_error(&r, 404, "not_found", NULL, "GET /api/v1/collectives/{unknown id}");
		resp_free(&r);
	}

	if (!ok(cw_report(&a, "nl", "collective: report a") == 0 &&
	            cw_report(&b, "en", "collective: report b") == 0 &&
	            cw_report(&c, "nl", "collective: report c") == 0 &&
	            cw_report(&d, "nl", "collective: report d") == 0,
	        "four reports about the event"))
		return;

	coll_post(&r, k1, "cases", json_pack("{s:[s,s]}", "add", a.id, b.id));
	if (!ok(r.status == 200 && coll_summary_ok(r.json, evname, 2),
	        "POST /api/v1/collectives/{id}/cases {add: [a, b]} -> 200 summary with cases 2"))
		diag_resp(&r);
	resp_free(&r);
	ok(!strcmp(case_collective(a.id), k1) && !strcmp(case_collective(b.id), k1),
	    "the summaries of a and b name the collective");
	{
		json_t *h = cw_history(a.id), *ev = json_array_get(h, json_array_size(h) - 1);

		char why[256];

		if (!ok(history_codes_only(h, why, sizeof why),
		        "the linked case's history holds "
		        "only codes, ids and days"))
			diag("%s", why);
		if (!ok(ev && jstr(ev, "type") && !strcmp(jstr(ev, "type"), "collective") &&
		            jstr(ev, "collective") && !strcmp(jstr(ev, "collective"), k1) &&
		            jstr(ev, "date") && !strcmp(jstr(ev, "date"), today),
		        "the link is a collective event {date, collective} in the case's history"))
			diag("history of a has %zu events", json_array_size(h));
		json_decref(h);
	}
	{
		char target[160];
		int ina = 0, inb = 0, n = 0;

		snprintf(target, sizeof target, "/api/v1/cases?limit=500&collective=%s", k1);
		signed_req(&r, anna, "GET", target, NULL);
		json_array_foreach(json_object_get(r.json, "cases"), i, m) {
			n++;
			ina |= jstr(m, "id") && !strcmp(jstr(m, "id"), a.id);
			inb |= jstr(m, "id") && !strcmp(jstr(m, "id"), b.id);
		}
		if (!ok(r.status == 200 && n == 2 && ina && inb,
		        "GET /api/v1/cases?collective=<id> -> exactly its two cases"))
			diag_resp(&r);
		resp_free(&r);
	}
	coll_post(&r, k1, "cases", json_pack("{s:[s]}", "add", a.id));
	if (!ok(r.status == 200 && coll_summary_ok(r.json, evname, 2),
	        "linking a case already in the collective -> 200, skipped (cases 2)"))
		diag_resp(&r);
	resp_free(&r);
	coll_post(&r, k1, "cases", json_pack("{s:[s,s]}", "add", c.id, "AAAAAAAAAAAAAAAAAAAAAA"));
	expect_error(&r, 404, "not_found", NULL, "linking [c, an unknown case]");
	resp_free(&r);
	ok(!strcmp(case_collective(c.id), "null"), "the refused link left c unlinked");
	coll_post(&r, NULL, NULL, json_pack("{s:s}", "name", "Another event"));
	snprintf(k2, sizeof k2, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "");
	resp_free(&r);
	coll_post(&r, k2, "cases", json_pack("{s:[s,s]}", "add", d.id, a.id));
	expect_error(&r, 409, "conflict", NULL, "linking [d, a case of another collective]");
	resp_free(&r);
	ok(!strcmp(case_collective(d.id), "null") && !strcmp(case_collective(a.id), k1),
	    "the refused link changed nothing (d unlinked, a still in the first collective)");
	coll_post(&r, k1, "cases", json_pack("{s:[]}", "add"));
	expect_error(&r, 400, "invalid_field", "add", "linking an empty list");
	resp_free(&r);
	coll_post(&r, k1, "cases", json_pack("{s:s}", "add", a.id));
	expect_error(&r, 400, "invalid_field", "add", "add as a string, not a list");
	resp_free(&r);
	{
		json_t *many = json_array();
		char *big = big_json("add", 16 * 1024 * 1024 + 1), target[160];

		for (i = 0; i < 20001; i++) {
			uint8_t rb[16];
			char id[MP_B64U_LEN(16)];

			randombytes_buf(rb, sizeof rb);
			b64u(id, sizeof id, rb, sizeof rb);
			json_array_append_new(many, json_string(id));
		}
		coll_post(&r, k1, "cases", json_pack("{s:o}", "add", many));
		expect_error(
		    &r, 400, "invalid_field", "add", "linking 20,001 ids (at most 20,000)");
		resp_free(&r);
		snprintf(target, sizeof target, "/api/v1/collectives/%s/cases", k1);
		signed_req(&r, anna, "POST", target, big);
		expect_error(&r, 413, "too_large", NULL, "a link body of 16 MiB + 1");
		resp_free(&r);
		free(big);
	}
	coll_post(&r, "AAAAAAAAAAAAAAAAAAAAAA", "cases", json_pack("{s:[s]}", "add", d.id));
	expect_error(&r, 404, "not_found", NULL, "linking to an unknown collective");
	resp_free(&r);
	coll_post(&r, k1, "cases", json_pack("{s:[s]}", "add", c.id));
	ok(r.status == 200 && coll_summary_ok(r.json, evname, 3), "linking c -> cases 3");
	resp_free(&r);
	{
		char target[128], ba[MP_B64U_LEN(32)], bb[MP_B64U_LEN(32)], bc[MP_B64U_LEN(32)];
		const json_t *mem;

		b64u(ba, sizeof ba, a.rpk, 32);
		b64u(bb, sizeof bb, b.rpk, 32);
		b64u(bc, sizeof bc, c.rpk, 32);
		snprintf(target, sizeof target, "/api/v1/collectives/%s", k1);
		signed_req(&r, anna, "GET", target, NULL);
		mem = json_object_get(r.json, "members");
#define MEMBER(i, cs, box) \
	(jstr(json_array_get(mem, i), "id") && \
	    !strcmp(jstr(json_array_get(mem, i), "id"), (cs).id) && \
	    jstr(json_array_get(mem, i), "ref") && \
	    !strcmp(jstr(json_array_get(mem, i), "ref"), (cs).ref) && \
	    jstr(json_array_get(mem, i), "status") && \
	    !strcmp(jstr(json_array_get(mem, i), "status"), "received") && \
	    jstr(json_array_get(mem, i), "reporter_box") && \
	    !strcmp(jstr(json_array_get(mem, i), "reporter_box"), box))
		if (!ok(r.status == 200 && json_array_size(mem) == 3 && MEMBER(0, a, ba) &&
		            MEMBER(1, b, bb) && MEMBER(2, c, bc) &&
		            coll_summary_ok(r.json, evname, 3),
		        "GET /api/v1/collectives/{id}: members a, b, c oldest first, each {id, ref, status, "
		        "reporter_box}"))
			diag_resp(&r);
#undef MEMBER
		resp_free(&r);
	}

	/* Status for all. */
	cw_move(a.id, "intake", NULL);
	coll_post(&r, k1, "status", json_pack("{s:s}", "status", "intake"));
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "moved")) == 2 &&
	            skipped_is(r.json, a.id, "intake"),
	        "collective status intake -> 200 {moved: 2, "
	        "skipped: [{a, intake}]}"))
		diag_resp(&r);
	resp_free(&r);
	cw_move(c.id, "registration_only", NULL);
	coll_post(&r, k1, "status", json_pack("{s:s}", "status", "in_progress"));
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "moved")) == 2 &&
	            skipped_is(r.json, c.id, "registration_only"),
	        "collective status in_progress -> "
	        "{moved: 2, skipped: [{c, registration_only}]}"))
		diag_resp(&r);
	resp_free(&r);
	ok(!strcmp(cw_status(a.id), "in_progress") && !strcmp(cw_status(b.id), "in_progress") &&
	        !strcmp(cw_status(c.id), "registration_only") &&
	        !strcmp(cw_status(d.id), "received"),
	    "a and b are in_progress, c registration_only, the unlinked d untouched");

	/* Messages for all: refusals store nothing. */
	nkeys = active_keys(keys, 64);
	{
		json_t *msgs = json_pack("[o,o,o]",
		    coll_msg(a.id, ANSWER, a.rpk, "message", keys, nkeys),
		    coll_msg(b.id, ANSWER, NULL, "message", keys, nkeys),
		    coll_msg(c.id, ANSWER, c.rpk, "message", keys, nkeys));

		coll_post(&r, k1, "messages", json_pack("{s:o}", "messages", msgs));
		if (!ok(r.status == 400 && field_is(&r, "messages[1]") &&
		            jstr(json_object_get(r.json, "error"), "code") &&
		            !strcmp(
		                jstr(json_object_get(r.json, "error"), "code"), "invalid_field"),
		        "collective messages where the 2nd is not sealed to its reporter -> 400 "
		        "invalid_field (field messages[1]...)"))
			diag_resp(&r);
		resp_free(&r);
		msgs = json_pack("[o,o]", coll_msg(a.id, ANSWER, a.rpk, "message", keys, nkeys),
		    coll_msg(d.id, ANSWER, d.rpk, "message", keys, nkeys));
		coll_post(&r, k1, "messages", json_pack("{s:o}", "messages", msgs));
		expect_error(
		    &r, 409, "conflict", NULL, "collective messages naming a case not linked");
		resp_free(&r);
		msgs = json_pack("[o,o]", coll_msg(a.id, ANSWER, a.rpk, "message", keys, nkeys),
		    coll_msg(b.id, ANSWER, NULL, "note", keys, nkeys));
		coll_post(&r, k1, "messages", json_pack("{s:o}", "messages", msgs));
		if (!ok(r.status == 400 && field_is(&r, "messages[1]"),
		        "collective messages with a note among them -> 400 (field messages[1]...)"))
			diag_resp(&r);
		resp_free(&r);
		coll_post(&r, k1, "messages", json_pack("{s:[]}", "messages"));
		expect_error(
		    &r, 400, "invalid_field", "messages", "collective messages: an empty list");
		resp_free(&r);
		ok(message_count(a.id) == 0 && message_count(b.id) == 0 &&
		        message_count(c.id) == 0 && message_count(d.id) == 0,
		    "the refused collective messages stored nothing");
	}
	{
		json_t *msgs = json_pack("[o,o,o]",
		    coll_msg(a.id, ANSWER, a.rpk, "message", keys, nkeys),
		    coll_msg(b.id, ANSWER, b.rpk, "message", keys, nkeys),
		    coll_msg(c.id, ANSWER, c.rpk, "message", keys, nkeys));
		struct cw *all[] = { &a, &b, &c };
		int read = 0;

		coll_post(&r, k1, "messages", json_pack("{s:o}", "messages", msgs));
		if (!ok(r.status == 201 && json_integer_value(json_object_get(r.json, "sent")) == 3,
		        "collective messages, one per linked case sealed to its reporter -> 201 "
		        "{sent: 3}"))
			diag_resp(&r);
		resp_free(&r);
		for (i = 0; i < 3; i++) {
			const json_t *fm;

			cw_followup(&r, all[i]->token);
			fm = json_array_get(json_object_get(r.json, "messages"), 0);
			read += json_array_size(json_object_get(r.json, "messages")) == 1 &&
			    jstr(fm, "text") && !strcmp(jstr(fm, "text"), ANSWER) &&
			    jstr(fm, "from") && !strcmp(jstr(fm, "from"), "caseworker");
			resp_free(&r);
		}
		ok(read == 3, "each of the three reporters reads the answer in the follow-up (%d)",
		    read);
	}

	coll_post(&r, k1, "status", json_pack("{s:s}", "status", "closed"));
	expect_error(
	    &r, 400, "missing_field", "closure", "collective status closed without closure");
	resp_free(&r);
	ok(!strcmp(cw_status(a.id), "in_progress"), "... and moved nothing");
	coll_post(&r, k1, "status",
	    json_pack("{s:s, s:s}", "status", "closed", "closure", "policy_influence"));
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "moved")) == 3 &&
	            json_array_size(json_object_get(r.json, "skipped")) == 0,
	        "collective status closed with a closure -> {moved: 3, skipped: []}"))
		diag_resp(&r);
	resp_free(&r);
	coll_post(&r, k1, "status", json_pack("{s:s}", "status", "intake"));
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "moved")) == 0 &&
	            json_array_size(json_object_get(r.json, "skipped")) == 3,
	        "collective status intake on closed cases -> {moved: 0, skipped: 3 entries}"))
		diag_resp(&r);
	resp_free(&r);
	ok(!strcmp(cw_status(a.id), "closed") && !strcmp(cw_status(c.id), "closed"),
	    "the linked cases are closed");
	coll_post(&r, k1, "status", json_pack("{s:s}", "status", "archived"));
	expect_error(&r, 400, "invalid_field", "status", "collective status with an unknown code");
	resp_free(&r);
}

/* --- 5,000 reports in one collective -------------------------------------------------------- */

struct tok {
	char box[MP_B64U_LEN(32)];
	int idx;
};

static int
tok_cmp(const void *x, const void *y)
{
	return strcmp(((const struct tok *)x)->box, ((const struct tok *)y)->box);
}

static void
test_big(void)
{
	char(*tokens)[MP_TOKEN_TEXT_LEN + 1] = calloc(NBIG, sizeof *tokens);
	char(*ids)[32] = calloc(NBIG, sizeof *ids), (*byidx)[32] = calloc(NBIG, sizeof *byidx);
	uint8_t(*rpk)[32] = calloc(NBIG, sizeof *rpk);
	struct tok *sorted = calloc(NBIG, sizeof *sorted);
	char newest[64] = "", coll[64] = "", target[256], *b;
	struct mp_box_pk keys[64];
	double t0, t_rep, t_link, t_status, t_msg, t_check;
	size_t nkeys, i, nids = 0, matched = 0, got = 0, sample_ok = 0;
	struct resp r;
	json_t *c, *add;
	int fails = 0, n = 0;

	if (!tokens || !ids || !byidx || !rpk || !sorted) {
		ok(0, "memory for the 5,000 reports");
		goto out;
	}
	coll_post(&r, NULL, NULL,
	    json_pack("{s:s}", "name",
	        "Mass reports: one advertising "
	        "campaign"));
	snprintf(coll, sizeof coll, "%s", jstr(r.json, "id") ? jstr(r.json, "id") : "");
	resp_free(&r);
	if (!ok(coll[0] != '\0', "a collective for 5,000 reports"))
		goto out;
	fast(&r, anna, "GET", "/api/v1/cases?limit=1", NULL);
	snprintf(newest, sizeof newest, "%s",
	    jstr(json_array_get(json_object_get(r.json, "cases"), 0), "id")
	        ? jstr(json_array_get(json_object_get(r.json, "cases"), 0), "id")
	        : "");
	resp_free(&r);

	t0 = now_s();
	for (n = 0; n < NBIG && fails < 10; n++) {
		char body[256];

		snprintf(body, sizeof body,
		    "{\"language\":\"%s\",\"description\":\"collective: mass "
		    "report %d about the campaign\"}",
		    n % 3 == 0 ? "en" : "nl", n);
		fast(&r, NULL, "POST", "/api/v1/reports", body);
		if (r.status == 201 && jstr(r.json, "token") &&
		    strlen(jstr(r.json, "token")) == MP_TOKEN_TEXT_LEN) {
			memcpy(tokens[n], jstr(r.json, "token"), MP_TOKEN_TEXT_LEN + 1);
			fails = 0;
		} else {
			if (fails++ == 0)
				diag_resp(&r);
			n--;
		}
		resp_free(&r);
	}
	t_rep = now_s() - t0;
	if (!ok(n == NBIG, "5,000 reports -> 201 each (%d)", n))
		goto out;

	/* Their cases: the newest 5,000 in the list. */
	for (int page = 0; page < 20 && nids < NBIG; page++) {
		if (page == 0)
			snprintf(target, sizeof target, "/api/v1/cases?limit=500");
		else
			snprintf(target, sizeof target, "/api/v1/cases?limit=500&after=%s",
			    ids[nids - 1]);
		fast(&r, anna, "GET", target, NULL);
		json_array_foreach(json_object_get(r.json, "cases"), i, c)
			if (nids < NBIG && jstr(c, "id"))
				snprintf(ids[nids++], sizeof ids[0], "%s", jstr(c, "id"));
		resp_free(&r);
	}
	snprintf(
	    target, sizeof target, "/api/v1/cases?limit=1&after=%s", nids ? ids[nids - 1] : "x");
	fast(&r, anna, "GET", target, NULL);
	c = json_array_get(json_object_get(r.json, "cases"), 0);
	if (!ok(nids == NBIG && jstr(c, "id") && !strcmp(jstr(c, "id"), newest),
	        "the list pages through the 5,000 new cases to the case that was newest before"))
		diag("%zu ids; after them %s, newest before %s", nids,
		    jstr(c, "id") ? jstr(c, "id") : "-", newest);
	resp_free(&r);

	t0 = now_s();
	add = json_array();
	for (i = 0; i < nids; i++)
		json_array_append_new(add, json_string(ids[i]));
	coll_post(&r, coll, "cases", json_pack("{s:o}", "add", add));
	t_link = now_s() - t0;
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "cases")) == NBIG,
	        "linking 5,000 cases in one request -> 200 {cases: 5000}"))
		diag_resp(&r);
	resp_free(&r);

	/* Members: each reporter_box is one of the tokens' keys. */
	for (i = 0; i < NBIG; i++) {
		uint8_t t[MP_TOKEN_BYTES], sk[32];

		if (mp_token_parse(t, tokens[i], strlen(tokens[i])) != 0 ||
		    mp_token_reporter_keypair(rpk[i], sk, t) != 0)
			continue;
		b64u(sorted[i].box, sizeof sorted[i].box, rpk[i], 32);
		sorted[i].idx = (int)i;
	}
	qsort(sorted, NBIG, sizeof *sorted, tok_cmp);
	snprintf(target, sizeof target, "/api/v1/collectives/%s", coll);
	fast(&r, anna, "GET", target, NULL);
	json_array_foreach(json_object_get(r.json, "members"), i, c) {
		struct tok key, *hit;

		if (!jstr(c, "reporter_box") || !jstr(c, "id"))
			continue;
		snprintf(key.box, sizeof key.box, "%s", jstr(c, "reporter_box"));
		hit = bsearch(&key, sorted, NBIG, sizeof *sorted, tok_cmp);
		if (hit && byidx[hit->idx][0] == '\0') {
			snprintf(byidx[hit->idx], sizeof byidx[0], "%s", jstr(c, "id"));
			matched++;
		}
	}
	if (!ok(matched == NBIG,
	        "the collective's 5,000 members are the 5,000 reporters "
	        "(reporter_box of each; %zu matched)",
	        matched))
		diag("status %ld, %zu members", r.status,
		    json_array_size(json_object_get(r.json, "members")));
	resp_free(&r);
	{
		int all = 1;

		snprintf(target, sizeof target, "/api/v1/cases?limit=500&collective=%s", coll);
		fast(&r, anna, "GET", target, NULL);
		json_array_foreach(json_object_get(r.json, "cases"), i, c)
			if (!jstr(c, "collective") || strcmp(jstr(c, "collective"), coll))
				all = 0;
		ok(r.status == 200 && json_array_size(json_object_get(r.json, "cases")) == 500 &&
		        all && jstr(r.json, "next"),
		    "GET ?collective=<id>&limit=500: a full page of its cases "
		    "and a next cursor");
		resp_free(&r);
	}

	t0 = now_s();
	coll_post(&r, coll, "status", json_pack("{s:s}", "status", "intake"));
	t_status = now_s() - t0;
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "moved")) == NBIG &&
	            json_array_size(json_object_get(r.json, "skipped")) == 0,
	        "status intake for all 5,000 -> {moved: 5000, skipped: []}"))
		diag_resp(&r);
	resp_free(&r);

	/* One message per reporter, in batches. */
	nkeys = active_keys(keys, 64);
	t0 = now_s();
	for (size_t start = 0; start < NBIG; start += BATCH) {
		json_t *msgs = json_array(), *o;
		size_t sent = 0;

		for (i = start; i < start + BATCH && i < NBIG; i++)
			if (byidx[i][0])
				json_array_append_new(msgs,
				    coll_msg(byidx[i], BIG_ANSWER, rpk[i], "message", keys, nkeys));
		sent = json_array_size(msgs);
		o = json_pack("{s:o}", "messages", msgs);
		b = dump(o);
		json_decref(o);
		snprintf(target, sizeof target, "/api/v1/collectives/%s/messages", coll);
		if (start == 0)
			diag(
			    "a batch of %zu messages is %zu bytes (the 1 MiB limit of other signed "
			    "routes does not apply)",
			    sent, strlen(b));
		fast(&r, anna, "POST", target, b);
		free(b);
		if (!ok(r.status == 201 &&
		            (size_t)json_integer_value(json_object_get(r.json, "sent")) == sent,
		        "collective messages %zu..%zu -> 201 {sent: %zu}", start + 1, start + sent,
		        sent))
			diag_resp(&r);
		resp_free(&r);
	}
	t_msg = now_s() - t0;

	t0 = now_s();
	for (i = 0; i < 20; i++) {
		size_t k = i * (NBIG - 1) / 19;
		const json_t *fm;

		{
			char body[128];

			snprintf(body, sizeof body, "{\"token\":\"%s\"}", tokens[k]);
			fast(&r, NULL, "POST", "/api/v1/followup", body);
		}
		fm = json_array_get(json_object_get(r.json, "messages"), 0);
		if (r.status == 200 && json_array_size(json_object_get(r.json, "messages")) == 1 &&
		    jstr(fm, "text") && !strcmp(jstr(fm, "text"), BIG_ANSWER) &&
		    jstr(r.json, "status") && !strcmp(jstr(r.json, "status"), "intake"))
			sample_ok++;
		else if (sample_ok == i)
			diag_resp(&r);
		resp_free(&r);
	}
	ok(sample_ok == 20,
	    "20 reporters spread over the 5,000 read the answer in their "
	    "follow-up, with status intake (%zu)",
	    sample_ok);
	for (i = 0; i < NBIG; i++) {
		const json_t *ms, *m0;

		if (byidx[i][0] == '\0')
			continue;
		snprintf(target, sizeof target, "/api/v1/cases/%s", byidx[i]);
		fast(&r, anna, "GET", target, NULL);
		ms = json_object_get(r.json, "messages");
		m0 = json_array_get(ms, 0);
		if (r.status == 200 && json_array_size(ms) == 1 && jstr(m0, "from") &&
		    !strcmp(jstr(m0, "from"), "caseworker") &&
		    mp_envelope_has_kid(json_object_get(m0, "envelope"), kid_of(rpk[i])))
			got++;
		resp_free(&r);
	}
	t_check = now_s() - t0;
	ok(got == NBIG,
	    "all 5,000 cases hold exactly one caseworker message sealed to their "
	    "reporter (%zu)",
	    got);
	diag("collective of %d: reports %.1f s, link %.2f s, status %.2f s, messages %.1f s, "
	     "checks %.1f s",
	    NBIG, t_rep, t_link, t_status, t_msg, t_check);
out:
	free(tokens);
	free(ids);
	free(byidx);
	free(rpk);
	free(sorted);
}

void
test_collective(void)
{
	test_small();
	test_big();
	if (FC) {
		curl_easy_cleanup(FC);
		FC = NULL;
	}
}
