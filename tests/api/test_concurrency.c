/*
 * Group commit (docs/STORE.md).  First the store itself: changes that arrive
 * while one is under way share its COMMIT, and the one refused among them
 * (a case id in use) takes no other down and leaves nothing of itself.
 * Then over HTTP: rounds of reports and intakes sent at once on parallel
 * connections (libcurl's multi interface); every 201 is a stored case with
 * one created event and a receipt that verifies, every refused intake is a
 * 409 that left nothing.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "casework.h"
#include "harness.h"
#include "mp_remote.h"
#include "mp_wire.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_instance.h"
#include "mp_merkle.h"
#include "mp_note.h"
#include "mp_store.h"

#define NREPORTS 32 /* web reports a round */
#define NINTAKES 2  /* intakes with a new case id a round */
#define NDUPS 4     /* intakes with the id of an existing case a round */
#define ROUNDS 3
#define NCALLS (NREPORTS + NINTAKES + NDUPS)

enum kind { REPORT, INTAKE, DUP };

struct call {
	enum kind kind;
	char id[64]; /* an intake's case id */
	char *body;
	struct curl_slist *hl;
	CURL *c;
	char *out;
	size_t len;
	long status;
	json_t *json;
};

static struct mp_verifier V;

static size_t
on_data(char *p, size_t sz, size_t nmemb, void *u)
{
	struct call *k = u;
	size_t n = sz * nmemb;
	char *b;

	if ((b = realloc(k->out, k->len + n + 1)) == NULL)
		return 0;
	memcpy(b + k->len, p, n);
	k->len += n;
	b[k->len] = '\0';
	k->out = b;
	return n;
}

static void
new_case_id(char out[64])
{
	uint8_t b[16];

	randombytes_buf(b, sizeof b);
	b64u(out, 64, b, sizeof b);
}

/* The body of an intake of case id by phone, its report sealed to the active keys. */
static char *
intake_body(const char *id, const char *desc)
{
	struct mp_box_pk rc[64];
	size_t n = active_keys(rc, 64);
	char today[11], *pts, *text;
	json_t *pt, *env, *body;

	amsterdam_day(today, 0);
	pt = json_pack("{s:s, s:s, s:s}", "language", "nl", "description", desc, "received", today);
	pts = dump(pt);
	env = mp_envelope_seal("report", id, (const uint8_t *)pts, strlen(pts), rc, n);
	body = json_pack("{s:s, s:s, s:o*}", "id", id, "channel", "phone", "envelope", env);
	text = dump(body);
	free(pts);
	json_decref(pt);
	json_decref(body);
	return text;
}

static int
call_setup(struct call *k)
{
	char url[256], line[1024];
	struct sighdr h;

	snprintf(url, sizeof url, "%s%s", I.base,
	    k->kind == REPORT ? "/api/v1/reports" : "/api/v1/cases");
	if ((k->c = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(k->c, CURLOPT_URL, url);
	curl_easy_setopt(k->c, CURLOPT_INTERFACE, "host!" CLIENT_IP);
	curl_easy_setopt(k->c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(k->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->c, CURLOPT_POSTFIELDS, k->body);
	curl_easy_setopt(k->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(k->body));
	curl_easy_setopt(k->c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(k->c, CURLOPT_WRITEDATA, k);
	k->hl = curl_slist_append(k->hl, "Expect:");
	k->hl = curl_slist_append(k->hl, "Content-Type: application/json");
	if (k->kind != REPORT) {
		if (sign_req(&h, anna, "POST", "/api/v1/cases", k->body, strlen(k->body),
		        (long long)time(NULL)) != 0)
			return -1;
		snprintf(line, sizeof line, "Signature-Input: %s", h.input);
		k->hl = curl_slist_append(k->hl, line);
		snprintf(line, sizeof line, "Signature: %s", h.sig);
		k->hl = curl_slist_append(k->hl, line);
		snprintf(line, sizeof line, "Content-Digest: %s", h.digest);
		k->hl = curl_slist_append(k->hl, line);
	}
	curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hl);
	return 0;
}

/* Send every call at once, each on its own connection; 0 when all were answered. */
static int
send_all(struct call *calls, size_t n)
{
	CURLM *m = curl_multi_init();
	int running = 0, rc = 0;
	size_t i;

	if (m == NULL)
		return -1;
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	for (i = 0; i < n; i++)
		if (call_setup(&calls[i]) != 0 || curl_multi_add_handle(m, calls[i].c) != CURLM_OK)
			rc = -1;
	do {
		if (curl_multi_perform(m, &running) != CURLM_OK ||
		    curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			rc = -1;
	} while (rc == 0 && running > 0);
	for (i = 0; i < n; i++) {
		curl_easy_getinfo(calls[i].c, CURLINFO_RESPONSE_CODE, &calls[i].status);
		if (calls[i].out != NULL)
			calls[i].json = json_loadb(
			    calls[i].out, calls[i].len, JSON_REJECT_DUPLICATES, NULL);
		if (calls[i].status == 0)
			rc = -1;
		curl_multi_remove_handle(m, calls[i].c);
	}
	curl_multi_cleanup(m);
	return rc;
}

static void
call_free(struct call *k)
{
	curl_easy_cleanup(k->c);
	curl_slist_free_all(k->hl);
	free(k->body);
	free(k->out);
	json_decref(k->json);
	memset(k, 0, sizeof *k);
}

/* Every case, through Anna's list page by page; -1 when a page fails. */
static long
count_cases(void)
{
	char target[256];
	const char *next = NULL;
	struct resp r;
	json_t *cases;
	long n = 0;
	char cur[128] = "";

	for (;;) {
		if (cur[0] == '\0')
			snprintf(target, sizeof target, "/api/v1/cases?limit=500");
		else
			snprintf(target, sizeof target, "/api/v1/cases?limit=500&after=%s", cur);
		if (signed_req(&r, anna, "GET", target, NULL) != 0 || r.status != 200 ||
		    !json_is_array(cases = json_object_get(r.json, "cases"))) {
			diag_resp(&r);
			resp_free(&r);
			return -1;
		}
		n += (long)json_array_size(cases);
		next = jstr(r.json, "next");
		if (next == NULL || strlen(next) >= sizeof cur) {
			resp_free(&r);
			return n;
		}
		snprintf(cur, sizeof cur, "%s", next);
		resp_free(&r);
	}
}

/* The log's size from its checkpoint, which must verify; root too.  0 or -1. */
static int
checkpoint_now(uint64_t *size, uint8_t root[32])
{
	struct resp r;
	int rc = -1;

	if (http_get(&r, "/api/v1/log/checkpoint") == 0 && r.status == 200 &&
	    mp_checkpoint_open(r.body, r.len, &V, size, root, NULL, 0) == 0)
		rc = 0;
	resp_free(&r);
	return rc;
}

static int
b64u_32(uint8_t out[32], const char *s)
{
	return s != NULL && mp_b64u_decode_exact(out, 32, s, strlen(s)) == 0 ? 0 : -1;
}

/*
 * A 201's receipt: its created event's proof verifies against the signed
 * checkpoint it carries.  The case id from the event into case_id.  1 or 0.
 */
static int
receipt_ok(const json_t *log, char case_id[64])
{
	uint8_t salt[32], ev[4096], c[32], leaf[32], root[32], proof[MP_PROOF_MAX][32];
	const char *cp = jstr(log, "checkpoint");
	const json_t *p = json_object_get(log, "proof"), *v;
	uint64_t size, idx;
	size_t evlen = 0, i;
	json_t *e;
	int good;

	if (!json_is_integer(json_object_get(log, "index")) || cp == NULL || !json_is_array(p) ||
	    json_array_size(p) > MP_PROOF_MAX || b64u_32(salt, jstr(log, "salt")) != 0 ||
	    jstr(log, "event") == NULL ||
	    mp_b64u_decode(
	        ev, sizeof ev - 1, &evlen, jstr(log, "event"), strlen(jstr(log, "event"))) != 0 ||
	    mp_checkpoint_open(cp, strlen(cp), &V, &size, root, NULL, 0) != 0)
		return 0;
	json_array_foreach(p, i, v)
		if (b64u_32(proof[i], json_string_value(v)) != 0)
			return 0;
	idx = (uint64_t)json_integer_value(json_object_get(log, "index"));
	mp_log_commit(c, salt, ev, evlen);
	mp_merkle_leaf(leaf, c, sizeof c);
	good = idx < size &&
	    mp_merkle_verify_inclusion(
	        idx, size, leaf, (const uint8_t(*)[32])proof, json_array_size(p), root) == 0;
	e = json_loadb((const char *)ev, evlen, 0, NULL);
	good = good && jstr(e, "type") && strcmp(jstr(e, "type"), "created") == 0 &&
	    jstr(e, "case") && strlen(jstr(e, "case")) < 64;
	if (good)
		snprintf(case_id, 64, "%s", jstr(e, "case"));
	json_decref(e);
	return good;
}

/* The created events among the log's entries [start, end), by case id; -1 on failure. */
static int
created_events(uint64_t start, uint64_t end, json_t *by_case, size_t *others)
{
	char target[128];
	uint8_t ev[4096];
	size_t evlen, i;
	struct resp r;
	json_t *a, *v, *e;

	*others = 0;
	while (start < end) {
		snprintf(target, sizeof target, "/api/v1/audit/events?start=%llu&end=%llu",
		    (unsigned long long)start, (unsigned long long)end);
		if (signed_req(&r, carla, "GET", target, NULL) != 0 || r.status != 200 ||
		    !json_is_array(a = json_object_get(r.json, "events")) ||
		    json_array_size(a) == 0) {
			diag_resp(&r);
			resp_free(&r);
			return -1;
		}
		json_array_foreach(a, i, v) {
			evlen = 0;
			if (jstr(v, "event") == NULL ||
			    mp_b64u_decode(ev, sizeof ev - 1, &evlen, jstr(v, "event"),
			        strlen(jstr(v, "event"))) != 0 ||
			    (e = json_loadb((const char *)ev, evlen, 0, NULL)) == NULL) {
				resp_free(&r);
				return -1;
			}
			if (jstr(e, "type") && strcmp(jstr(e, "type"), "created") == 0 &&
			    jstr(e, "case")) {
				json_t *cnt = json_object_get(by_case, jstr(e, "case"));

				json_object_set_new(by_case, jstr(e, "case"),
				    json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
			} else {
				(*others)++;
			}
			json_decref(e);
		}
		start += json_array_size(a);
		resp_free(&r);
	}
	return 0;
}

/* The consistency proof between two checkpoints verifies. */
static int
consistent(uint64_t m, const uint8_t rm[32], uint64_t n, const uint8_t rn[32])
{
	uint8_t h[MP_PROOF_MAX][32];
	char target[128];
	struct resp r;
	json_t *a, *v;
	size_t i;
	int good;

	if (m == n)
		return memcmp(rm, rn, 32) == 0;
	snprintf(target, sizeof target, "/api/v1/log/consistency?from=%llu&to=%llu",
	    (unsigned long long)m, (unsigned long long)n);
	good = http_get(&r, target) == 0 && r.status == 200 &&
	    json_is_array(a = json_object_get(r.json, "hashes")) &&
	    json_array_size(a) <= MP_PROOF_MAX;
	if (good)
		json_array_foreach(a, i, v)
			if (b64u_32(h[i], json_string_value(v)) != 0)
				good = 0;
	good = good &&
	    mp_merkle_verify_consistency(
	        m, n, rm, rn, (const uint8_t(*)[32])h, json_array_size(a)) == 0;
	resp_free(&r);
	return good;
}

/* The figures meldpuntd writes when it stops: changes and commits.  0 or -1. */
static int
stop_figures(unsigned long long *changes, unsigned long long *commits)
{
	char line[512];
	FILE *f;
	int rc = -1;

	if ((f = fopen(I.log, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "meldpuntd: %llu changes stored in %llu commits", changes,
		        commits) == 2)
			rc = 0;
	fclose(f);
	return rc;
}

/* One round: every call at once; checks what each answer promised. */
static void
round_check(int round, const char *dup_id, unsigned *stored)
{
	struct call calls[NCALLS];
	char desc[128], case_id[64];
	uint64_t size0, size1;
	uint8_t root0[32], root1[32];
	json_t *by_case = json_object(), *want = json_object();
	long cases0, cases1;
	size_t i, others = 0;
	unsigned created = 0, receipts = 0, followed = 0, refused = 0, bad = 0, once = 0;
	struct resp r;

	memset(calls, 0, sizeof calls);
	cases0 = count_cases();
	if (!ok(cases0 >= 0 && checkpoint_now(&size0, root0) == 0,
	        "round %d: the case list and the signed checkpoint before it", round))
		goto out;
	/* Refused intakes among the reports, so that batches hold both. */
	for (i = 0; i < NCALLS; i++) {
		struct call *k = &calls[i];

		k->kind = i % (NCALLS / NDUPS) == 3 && refused < NDUPS ? DUP
		    : i % (NCALLS / NINTAKES) == 5                     ? INTAKE
		                                                       : REPORT;
		if (k->kind == DUP) {
			refused++;
			snprintf(k->id, sizeof k->id, "%s", dup_id);
			k->body = intake_body(
			    k->id, "concurrency: an intake with a case id in use");
		} else if (k->kind == INTAKE) {
			new_case_id(k->id);
			k->body = intake_body(k->id, "concurrency: an intake with a new case id");
		} else {
			json_t *o;

			snprintf(desc, sizeof desc, "concurrency: report %d.%zu, all sent at once",
			    round, i);
			o = json_pack("{s:s, s:s}", "language", "nl", "description", desc);
			k->body = dump(o);
			json_decref(o);
		}
	}
	refused = 0;
	if (!ok(send_all(calls, NCALLS) == 0, "round %d: %d requests sent at once are all answered",
	        round, NCALLS))
		goto out;
	for (i = 0; i < NCALLS; i++) {
		struct call *k = &calls[i];

		if (k->kind == DUP) {
			if (k->status == 409 && jstr(json_object_get(k->json, "error"), "code") &&
			    strcmp(jstr(json_object_get(k->json, "error"), "code"), "conflict") ==
			        0)
				refused++;
			else
				diag("intake with a used id: %ld %.200s", k->status,
				    k->out ? k->out : "");
			continue;
		}
		if (k->status != 201) {
			bad++;
			diag("%s: %ld %.200s", k->kind == REPORT ? "report" : "intake", k->status,
			    k->out ? k->out : "");
			continue;
		}
		created++;
		if (k->kind == INTAKE) {
			json_object_set_new(want, k->id, json_true());
			continue;
		}
		if (receipt_ok(json_object_get(k->json, "log"), case_id)) {
			receipts++;
			json_object_set_new(want, case_id, json_true());
		} else {
			diag("receipt: %.300s", k->out);
		}
		if (cw_followup(&r, jstr(k->json, "token")) == 0 && jstr(r.json, "status") &&
		    strcmp(jstr(r.json, "status"), "received") == 0)
			followed++;
		resp_free(&r);
	}
	ok(bad == 0 && created == NREPORTS + NINTAKES,
	    "round %d: every report and every intake with a new id -> 201", round);
	ok(refused == NDUPS,
	    "round %d: every intake with a case id in use, sent among them -> "
	    "409 conflict",
	    round);
	ok(receipts == NREPORTS,
	    "round %d: every 201's receipt proves its created event in the "
	    "signed checkpoint it carries",
	    round);
	ok(followed == NREPORTS, "round %d: every 201's token follows up (status received)", round);

	cases1 = count_cases();
	if (!ok(cases1 - cases0 == (long)created,
	        "round %d: the cases grew by the number of 201s "
	        "(%u)",
	        round, created))
		diag("before %ld, after %ld", cases0, cases1);
	if (!ok(checkpoint_now(&size1, root1) == 0 && size1 - size0 == created &&
	            consistent(size0, root0, size1, root1),
	        "round %d: the log grew by one leaf a 201, "
	        "its new checkpoint verifies and is consistent with the one before",
	        round)) {
		diag("size %llu -> %llu", (unsigned long long)size0, (unsigned long long)size1);
		goto out;
	}
	if (created_events(size0, size1, by_case, &others) == 0) {
		const char *key;
		json_t *v;

		json_object_foreach(want, key, v)
			if (json_integer_value(json_object_get(by_case, key)) == 1)
				once++;
	}
	if (!ok(others == 0 && once == created && json_object_size(by_case) == created &&
	            json_object_get(by_case, dup_id) == NULL,
	        "round %d: the new leaves are exactly one "
	        "created event per 201 and none for a refused intake",
	        round))
		diag("%u of %u once, %zu case ids, %zu other events", once, created,
		    json_object_size(by_case), others);
	*stored += created;
out:
	for (i = 0; i < NCALLS; i++)
		call_free(&calls[i]);
	json_decref(by_case);
	json_decref(want);
}

/* --- the store itself: one batch made on purpose ---------------------------------------- */

struct writer {
	struct mp_store *st;
	char id[64], item[64], ref[24];
	int rc;
};

static void
case_new(struct mp_case_new *c, struct writer *w)
{
	memset(c, 0, sizeof *c);
	c->id = w->id;
	c->day = "2026-01-05";
	c->channel = "web";
	c->language = "nl";
	c->anonymous = 1;
	c->item_id = w->item;
	c->envelope = "{}";
}

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	struct mp_case_new c;

	case_new(&c, w);
	w->rc = mp_store_case_create(w->st, &c, w->ref);
	return NULL;
}

/* A new database of its own under a random key, open; NULL (and a failed check) if not. */
static struct mp_store *
scratch_store(const char *name)
{
	uint8_t key[32];
	char path[PATHLEN + 16];
	struct mp_store *st = NULL;

	snprintf(path, sizeof path, "%s/%s", I.dir, name);
	randombytes_buf(key, sizeof key);
	if (!ok(mp_store_create(path, key) == 0 && mp_store_open(&st, path, key) == 0,
	        "store: a scratch database opens (%s)", name))
		return NULL;
	return st;
}

static int
count_case(void *arg, const struct mp_case *c)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

/*
 * While one change is under way, three others arrive: two good, one with
 * the id of an existing case.  All four are in one batch (one COMMIT): the
 * refused one leaves nothing, the others are stored, each in the log once.
 */
static void
store_batch(void)
{
	struct mp_store *st;
	struct writer first, w[3];
	struct mp_case_new c;
	struct mp_case got;
	pthread_t t[3];
	uint64_t commits0, changes0, commits1, changes1, n0 = 0, n1 = 0, idx;
	struct mp_case_filter all = { NULL, NULL, NULL, NULL, 0, 0 };
	int i, cases = 0, more = 0, logged = 0, r;

	if ((st = scratch_store("batch.db")) == NULL)
		return;
	memset(&first, 0, sizeof first);
	first.st = st;
	new_case_id(first.id);
	new_case_id(first.item);
	memset(w, 0, sizeof w);
	for (i = 0; i < 3; i++) {
		w[i].st = st;
		new_case_id(w[i].item);
		if (i == 1)
			snprintf(w[i].id, sizeof w[i].id, "%s", first.id); /* in use by then */
		else
			new_case_id(w[i].id);
	}
	mp_store_figures(st, &commits0, &changes0);
	mp_store_log_size(st, &n0);
	/* The first change stays open while the others begin theirs. */
	r = mp_store_begin(st);
	case_new(&c, &first);
	r = r == 0 ? mp_store_case_create(st, &c, first.ref) : r;
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, writer_run, &w[i]);
	usleep(300 * 1000);
	r = mp_store_end(st, r == 0) == 0 ? r : -1;
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	mp_store_figures(st, &commits1, &changes1);
	ok(r == 0 && w[0].rc == 0 && w[2].rc == 0,
	    "store: the first change and the two good ones "
	    "that arrived during it are stored");
	ok(w[1].rc == MP_STORE_CONFLICT,
	    "store: the change with a case id in use is refused "
	    "(conflict)");
	if (!ok(commits1 - commits0 == 1 && changes1 - changes0 == 3,
	        "store: the three stored "
	        "changes share one COMMIT (the refused one counts for nothing)"))
		diag("%llu commits, %llu changes", (unsigned long long)(commits1 - commits0),
		    (unsigned long long)(changes1 - changes0));
	mp_store_cases(st, &all, 500, NULL, count_case, &cases, &more);
	mp_store_log_size(st, &n1);
	for (i = 0; i < 3; i++)
		if (i != 1 && mp_store_log_created(st, w[i].id, &idx) == 0)
			logged++;
	logged += mp_store_log_created(st, first.id, &idx) == 0;
	ok(cases == 3 && n1 - n0 == 3 && logged == 3,
	    "store: three cases, three created events "
	    "in the log, one for each");
	ok(mp_store_case_get(st, first.id, &got) == 0 && strcmp(got.ref, first.ref) == 0,
	    "store: the case whose id was reused is the first change's own");
	mp_case_clear(&got);
	mp_store_close(st);
}

/*
 * Reports and messages take no savepoint of their own in a batch: a change
 * that fails after it wrote (here a report whose item id is taken, so its
 * case row is written first) undoes the whole batch.  The change already in
 * it is answered with an error, not stored; nothing of either is left, not
 * in the cases and not in the log; and the next change is stored as usual.
 */
static void
store_batch_lost(void)
{
	struct mp_store *st;
	struct writer first, bad, next;
	struct mp_case_new c;
	struct mp_case_filter all = { NULL, NULL, NULL, NULL, 0, 0 };
	uint64_t commits0, changes0, commits1, changes1, n0 = 0, n1 = 0, idx;
	pthread_t t;
	int r, end, cases = 0, more = 0;

	if ((st = scratch_store("lost.db")) == NULL)
		return;
	memset(&first, 0, sizeof first);
	memset(&bad, 0, sizeof bad);
	memset(&next, 0, sizeof next);
	first.st = bad.st = next.st = st;
	new_case_id(first.id);
	new_case_id(first.item);
	new_case_id(bad.id);
	snprintf(bad.item, sizeof bad.item, "%s", first.item); /* written by then */
	new_case_id(next.id);
	new_case_id(next.item);
	mp_store_figures(st, &commits0, &changes0);
	mp_store_log_size(st, &n0);
	r = mp_store_begin(st);
	case_new(&c, &first);
	r = r == 0 ? mp_store_case_create(st, &c, first.ref) : r;
	pthread_create(&t, NULL, writer_run, &bad);
	usleep(300 * 1000);
	end = mp_store_end(st, r == 0);
	pthread_join(t, NULL);
	mp_store_figures(st, &commits1, &changes1);
	mp_store_log_size(st, &n1);
	mp_store_cases(st, &all, 500, NULL, count_case, &cases, &more);
	ok(r == 0 && end != 0,
	    "store: a report already in the batch is answered with an error when "
	    "a later one fails after writing");
	ok(bad.rc != 0, "store: the report that failed after writing is refused");
	if (!ok(cases == 0 && n1 == n0 && commits1 == commits0 && changes1 == changes0,
	        "store: nothing of either is stored: no case, no log entry, no commit"))
		diag("%d cases, %llu new log entries, %llu commits", cases,
		    (unsigned long long)(n1 - n0), (unsigned long long)(commits1 - commits0));
	writer_run(&next);
	ok(next.rc == 0 && mp_store_log_created(st, next.id, &idx) == 0 &&
	        mp_store_log_created(st, first.id, &idx) != 0,
	    "store: the next report is stored and logged as usual");
	mp_store_close(st);
}

static int
count_item(void *arg, const struct mp_item *it)
{
	(void)it;
	(*(int *)arg)++;
	return 0;
}

/* A keyed call of the test's own: counts that it ran. */
static int
user_call(void *arg, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out)
{
	(void)code;
	(void)in;
	(void)out;
	(*(int *)arg)++;
	return 0;
}

/* A scratch store (name) holding one case, w's; NULL when it cannot be made. */
static struct mp_store *
scratch_case(const char *name, struct writer *w)
{
	struct mp_store *st;
	struct mp_case_new c;

	if ((st = scratch_store(name)) == NULL)
		return NULL;
	memset(w, 0, sizeof *w);
	w->st = st;
	new_case_id(w->id);
	new_case_id(w->item);
	case_new(&c, w);
	if (!ok(mp_store_case_create(st, &c, w->ref) == 0, "store: a case in %s", name)) {
		mp_store_close(st);
		return NULL;
	}
	return st;
}

/* One call through the store's serving side; its answer's code. */
static int
answer_code(
    struct mp_store *st, uint32_t op, const uint32_t *fields, size_t n, int *depth, int *ran)
{
	struct mp_wbuf q, a;
	struct mp_rbuf r;
	int code;

	mp_wire_init(&q);
	mp_put_u32(&q, op);
	for (size_t i = 0; i < n; i++)
		mp_put_u32(&q, fields[i]);
	mp_store_answer(st, q.p, q.len, &a, depth, user_call, ran);
	mp_wire_reader(&r, a.p, a.len);
	code = (int)mp_get_u32(&r);
	mp_wire_free(&q);
	mp_wire_free(&a);
	return code;
}

/*
 * What the store refuses whoever asks: an item for a case the retention
 * purge emptied (a purge may come between a caller's look and its change);
 * a keyed call (a signature, a proof) on a channel with a change open,
 * whose reads would see rows that may never be committed; and an event not
 * of the form the statistics read, which the log would keep for good.
 */
static void
store_guards(void)
{
	struct mp_store *st;
	struct mp_instance *in = NULL;
	struct mp_case_new c;
	struct writer w, v;
	const char *grounds[1];
	char err[256];
	uint64_t n0 = 0, n1 = 0;
	uint32_t yes = 1;
	int items = 0, purged = 0, ran = 0, depth = 0, r1, r2;
	char item[64];

	if ((st = scratch_case("guards.db", &w)) == NULL)
		return;
	memset(&v, 0, sizeof v);
	v.st = st;
	new_case_id(item);
	ok(mp_store_item_add(st, w.id, item, "message", "reporter", "2026-01-06", "{}", 0) == 0,
	    "store: a message is added to it");
	ok(mp_store_purge(st, "2026-01-07", "2026-01-07", "2026-01-07", &purged) == 0 &&
	        purged == 1,
	    "store: the retention purge empties it");
	new_case_id(item);
	ok(mp_store_item_add(st, w.id, item, "message", "reporter", "2026-01-08", "{}", 0) ==
	        MP_STORE_CONFLICT,
	    "store: a message for the purged case is refused (conflict)");
	mp_store_items(st, w.id, count_item, &items);
	ok(items == 0, "store: the purged case holds no item");

	r1 = answer_code(st, 1 /* OP_BEGIN */, NULL, 0, &depth, &ran);
	r2 = answer_code(st, MP_REMOTE_USER, NULL, 0, &depth, &ran);
	ok(r1 == 0 && depth == 1 && r2 == -1 && ran == 0,
	    "store: a keyed call on a channel with a change open is refused, not run");
	answer_code(st, 2 /* OP_END */, &yes, 1, &depth, &ran);
	r2 = answer_code(st, MP_REMOTE_USER, NULL, 0, &depth, &ran);
	ok(depth == 0 && r2 == 0 && ran == 1, "store: once the change ended, it runs");

	mp_store_log_size(st, &n0);
	ok(mp_store_case_move(st, w.id, "received", "closed\",\"case\":\"x\",\"type\":\"created",
	       NULL, "2026-01-09") != 0,
	    "store: a status that is not a code, which would put other fields in its event, "
	    "is refused");
	ok(mp_store_case_classify(st, w.id, "{\"reporter\":\"Jan Jansen, Dorpsstraat 1\"}", NULL, 0,
	       "2026-01-09") != 0,
	    "store: a classification of free text is refused");
	mp_store_log_size(st, &n1);
	ok(n1 == n0, "store: neither left an event in the log");

	/* Codes of the right form that the policy does not have, once the store knows it. */
	if (mp_instance_load(&in, I.inst, err, sizeof err) != 0 ||
	    !ok(mp_store_check_codes(st, in->policy) == 0 &&
	            mp_store_check_codes(st, in->policy) != 0,
	        "store: told the policy's codes (once)"))
		goto out;
	new_case_id(v.id);
	new_case_id(v.item);
	case_new(&c, &v);
	c.channel = "carrier-pigeon";
	ok(mp_store_case_create(st, &c, v.ref) != 0,
	    "store: a case whose channel is not the policy's is refused");
	c.channel = "web";
	ok(mp_store_case_create(st, &c, v.ref) == 0,
	    "store: with the policy's channel it is stored");
	mp_store_log_size(st, &n0);
	ok(mp_store_case_move(st, v.id, "received", "limbo", NULL, "2026-01-09") != 0,
	    "store: a move to a status the policy does not have is refused");
	grounds[0] = "moon-phase";
	ok(mp_store_case_classify(
	       st, v.id, "{\"grounds\":[\"moon-phase\"]}", grounds, 1, "2026-01-09") != 0,
	    "store: a classification with a ground the policy does not have is refused");
	ok(mp_store_case_move(st, v.id, "received", "intake", NULL, "2026-01-09") == 0,
	    "store: a move to one of its statuses is stored");
	mp_store_log_size(st, &n1);
	ok(n1 == n0 + 1, "store: of the three, only the policy's move left an event");
out:
	mp_instance_free(in);
	mp_store_close(st);
}

/* A key for the scratch store: its box key pair's public half in pk, added as kid. */
static int
scratch_key(struct mp_store *st, struct mp_box_pk *pk, char kid[64])
{
	struct mp_key k;
	uint8_t sk[32];

	memset(&k, 0, sizeof k);
	crypto_box_keypair(pk->pk, sk);
	sodium_memzero(sk, sizeof sk);
	snprintf(kid, 64, "%s", kid_of(pk->pk));
	snprintf(k.kid, sizeof k.kid, "%.22s", kid);
	snprintf(k.name, sizeof k.name, "scratch");
	snprintf(k.role, sizeof k.role, "caseworker");
	memcpy(k.box_pk, pk->pk, 32);
	k.active = 1;
	snprintf(k.added, sizeof k.added, "2026-01-05");
	return mp_store_key_add(st, &k);
}

/* env with a recipient {kid, sealed} added at its end (sealed: 80 random bytes). */
static char *
env_plus(const char *env, const char *kid)
{
	uint8_t b[80];
	char sealed[MP_B64U_LEN(80)], *text = NULL;
	json_t *o = json_loads(env, 0, NULL);

	randombytes_buf(b, sizeof b);
	b64u(sealed, sizeof sealed, b, sizeof b);
	if (o != NULL &&
	    json_array_append_new(json_object_get(o, "recipients"),
	        json_pack("{s:s, s:s}", "kid", kid, "sealed", sealed)) == 0)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

/* The item's envelope is still exactly env. */
static int
item_is(struct mp_store *st, const char *item, const char *env)
{
	char kase[64], *now = NULL;
	int same;

	same = mp_store_item_get(st, item, kase, &now) == 0 && now && strcmp(now, env) == 0;
	free(now);
	return same;
}

/*
 * Sharing an item may only add recipients to it (docs/PRIVSEP.md): the
 * store refuses a new envelope that changes anything else, kids that are
 * not active keys, another case's item and a share made on an envelope
 * another share has changed since, and each refusal leaves the item and
 * the log as they were.
 */
static void
store_share_guards(void)
{
	static const char text[] = "{\"description\":\"share guards\"}";
	struct mp_store *st;
	struct writer w, v;
	struct mp_case_new c;
	struct mp_box_pk pk[4];
	char kid[4][64], *env = NULL, *grown = NULL, *forged = NULL, *other = NULL, *twice = NULL;
	const char *one[1], *two[2];
	uint64_t n0 = 0, n1 = 0;
	int i, keys = 0;

	if ((st = scratch_store("share.db")) == NULL)
		return;
	for (i = 0; i < 4; i++)
		keys += scratch_key(st, &pk[i], kid[i]) == 0;
	ok(keys == 4 && mp_store_key_revoke(st, kid[3], "2026-01-05") == 0,
	    "store: four keys for the shares, the fourth revoked");
	memset(&w, 0, sizeof w);
	memset(&v, 0, sizeof v);
	w.st = v.st = st;
	new_case_id(w.id);
	new_case_id(w.item);
	new_case_id(v.id);
	new_case_id(v.item);
	env = mp_envelope_seal_text("report", w.id, (const uint8_t *)text, strlen(text), pk, 2);
	case_new(&c, &w);
	c.envelope = env;
	if (!ok(env && mp_store_case_create(st, &c, w.ref) == 0,
	        "store: a case sealed to two keys"))
		goto out;
	case_new(&c, &v);
	if (!ok(mp_store_case_create(st, &c, v.ref) == 0, "store: and another case"))
		goto out;
	grown = env_plus(env, kid[2]);
	other = env_plus(env, kid[3]);
	forged = mp_envelope_seal_text("report", w.id, (const uint8_t *)text, strlen(text), pk, 3);
	mp_store_log_size(st, &n0);
	one[0] = kid[2];
	ok(mp_store_item_share(st, w.item, w.id, forged, one, 1, "2026-01-06") ==
	            MP_STORE_CONFLICT &&
	        item_is(st, w.item, env),
	    "store: a share whose envelope has another ct and nonce is refused; the item is as it "
	    "was");
	ok(mp_store_item_share(st, w.item, w.id, grown, NULL, 0, "2026-01-06") != 0 &&
	        item_is(st, w.item, env),
	    "store: a share that names no kid for the recipient it adds is refused");
	two[0] = kid[2];
	two[1] = kid[1];
	ok(mp_store_item_share(st, w.item, w.id, grown, two, 2, "2026-01-06") != 0 &&
	        item_is(st, w.item, env),
	    "store: a share that names a kid it does not add is refused");
	one[0] = kid[3];
	ok(mp_store_item_share(st, w.item, w.id, other, one, 1, "2026-01-06") ==
	            MP_STORE_NOTFOUND &&
	        item_is(st, w.item, env),
	    "store: a share with a revoked key is refused");
	one[0] = kid[2];
	ok(mp_store_item_share(st, w.item, v.id, grown, one, 1, "2026-01-06") ==
	            MP_STORE_NOTFOUND &&
	        item_is(st, w.item, env),
	    "store: a share of an item through another case is refused");
	mp_store_log_size(st, &n1);
	ok(n1 == n0, "store: none of the refused shares left an event in the log");
	ok(mp_store_item_share(st, w.item, w.id, grown, one, 1, "2026-01-06") == 0 &&
	        item_is(st, w.item, grown),
	    "store: a share that adds a recipient at the end, and nothing else, is stored");
	twice = env_plus(env, kid[2]);
	ok(mp_store_item_share(st, w.item, w.id, twice, one, 1, "2026-01-06") ==
	            MP_STORE_CONFLICT &&
	        item_is(st, w.item, grown),
	    "store: a share made on the envelope as it was before that one is refused (conflict)");
out:
	free(env);
	free(grown);
	free(forged);
	free(other);
	free(twice);
	mp_store_close(st);
}

struct served {
	struct mp_store *st;
	int fd, rc;
};

static void *
serve_channel(void *arg)
{
	struct served *sv = arg;

	sv->rc = mp_store_serve(sv->st, sv->fd, 300, NULL, NULL);
	return NULL;
}

/*
 * A channel that holds a change open and then says nothing would stop every
 * other change (they share its batch) and the purge: the store undoes that
 * change once the channel has been silent past the limit (300 ms here), and
 * says so (meldpuntd then stops, to be started again).  Silence without a
 * change open is no matter.
 */
static void
store_change_idle(void)
{
	struct mp_store *st, *rst = NULL;
	struct served sv;
	struct writer w;
	struct mp_case got;
	pthread_t t;
	char item[64], mine[64], today[11], before[11];
	int fds[2], items = 0, rc;

	if ((st = scratch_case("idle.db", &w)) == NULL)
		return;
	if (!ok(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0 &&
	            mp_store_remote(&rst, &fds[0], 1) == 0,
	        "store: a channel to the store"))
		goto out;
	sv.st = st;
	sv.fd = fds[1];
	sv.rc = -1;
	if (!ok(pthread_create(&t, NULL, serve_channel, &sv) == 0, "store: the channel is served"))
		goto out;
	usleep(600 * 1000);
	memset(&got, 0, sizeof got);
	ok(mp_store_case_get(rst, w.id, &got) == 0 && strcmp(got.id, w.id) == 0,
	    "store: a call after 600 ms of silence with no change open is answered");
	mp_case_clear(&got);
	mp_today(today);
	mp_day_add(before, today, -3);
	new_case_id(item);
	ok(mp_store_item_add(rst, w.id, item, "note", "caseworker", before, "{}", 0) != 0,
	    "store: over the channel, a change dated three days ago is refused");
	ok(mp_store_item_add(rst, w.id, item, "note", "caseworker", today, "{}", 0) == 0,
	    "store: one dated today is stored");
	new_case_id(item);
	new_case_id(mine);
	rc = mp_store_begin(rst);
	ok(rc == 0 &&
	        mp_store_item_add(rst, w.id, item, "message", "reporter", today, "{}", 0) == 0,
	    "store: over the channel, a change begins and adds a message, then nothing more");
	/* Joins the open change's batch: it can commit only once that change is ended or undone. */
	ok(mp_store_item_add(st, w.id, mine, "note", "caseworker", today, "{}", 0) == 0,
	    "store: another change meanwhile is stored once the silent one is undone");
	pthread_join(t, NULL);
	ok(sv.rc == 1, "store: the serving side says the change was left open past the limit");
	mp_store_items(st, w.id, count_item, &items);
	ok(items == 3,
	    "store: the case holds its report and the two notes, not the silent change's "
	    "message (%d items)",
	    items);
	close(fds[1]); /* as the store's channel thread does */
	ok(mp_store_end(rst, 1) != 0, "store: the silent side's end then fails");
out:
	if (rst != NULL)
		mp_store_close(rst);
	mp_store_close(st);
}

void
test_concurrency(void)
{
	unsigned long long changes = 0, commits = 0;
	char dup_id[64], *body;
	unsigned made = 0;
	struct resp r, g;
	json_t *h, *pt;
	int i, rc, events = 0;

	store_batch();
	store_batch_lost();
	store_guards();
	store_share_guards();
	store_change_idle();
	if (!ok(mp_note_verifier_parse(&V, I.verifier) == 0,
	        "concurrency: the verifier key parses"))
		return;
	/* The case whose id the refused intakes take; a fresh server counts the commits. */
	new_case_id(dup_id);
	body = intake_body(dup_id, "concurrency: the first case with this id");
	signed_req(&r, anna, "POST", "/api/v1/cases", body);
	free(body);
	ok(r.status == 201, "concurrency: an intake makes the case whose id the next ones reuse");
	resp_free(&r);
	rc = server_stop(5);
	if (!ok(rc == 0 && server_start() == 0, "concurrency: the server restarts (exit 0)"))
		return;

	for (i = 1; i <= ROUNDS; i++)
		round_check(i, dup_id, &made);

	/* Nothing of a refused intake: the first case still has its one report and history. */
	cw_get(&g, dup_id);
	h = json_object_get(g.json, "history");
	events = (int)json_array_size(h);
	pt = open_env(json_object_get(g.json, "report"), dup_id, anna->box_pk, anna->box_sk);
	ok(g.status == 200 && events == 1 && pt && jstr(pt, "description") &&
	        strcmp(jstr(pt, "description"), "concurrency: the first case with this id") == 0,
	    "the case whose id was reused keeps its own report and one history event");
	json_decref(pt);
	resp_free(&g);

	rc = server_stop(5);
	/* Besides the rounds' changes, only the start's own (log backfill, retention purge). */
	if (!ok(rc == 0 && stop_figures(&changes, &commits) == 0 && changes >= made &&
	            changes <= made + 4,
	        "concurrency: the server stops (exit 0) and counts the %u "
	        "changes stored",
	        made))
		diag("exit %d; %llu changes in %llu commits (see %s)", rc, changes, commits, I.log);
	/* How many shared a commit depends on timing; store_batch shows the sharing for sure. */
	diag("%llu changes in %llu commits", changes, commits);
	if (!ok(server_start() == 0, "concurrency: the server starts again"))
		printf("Bail out! the server does not restart; see %s\n", I.log);
}
