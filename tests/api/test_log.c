/*
 * The transparency log's routes: checkpoints, leaves, inclusion and
 * consistency proofs, opened events for auditors, and the rule that every
 * change appends its event in the same transaction.  Runs after the case
 * work tests, so every event type is in the log.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mp_b64.h"
#include "mp_merkle.h"
#include "mp_note.h"
#include "mp_stats.h"

struct cp {
	uint64_t size;
	uint8_t root[32];
	char *text;
};

static struct mp_verifier V;

static int
get_checkpoint(struct cp *c)
{
	struct resp r;
	int rc = -1;

	memset(c, 0, sizeof *c);
	if (http_get(&r, "/api/v1/log/checkpoint") == 0 && r.status == 200 &&
	    mp_checkpoint_open(r.body, r.len, &V, &c->size, c->root, NULL, 0) == 0 &&
	    (c->text = strdup(r.body)) != NULL)
		rc = 0;
	resp_free(&r);
	return rc;
}

static int
b64u32(uint8_t out[32], const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && mp_b64u_decode_exact(out, 32, s, strlen(s)) == 0 ? 0 : -1;
}

/* Every leaf of the tree of size n, fetched in pages; malloc'ed, or NULL. */
static uint8_t (*all_leaves(uint64_t n))[32]
{
	uint8_t(*leaves)[32] = calloc(n ? n : 1, 32);
	char target[128];
	uint64_t at = 0;
	struct resp r;
	json_t *a, *v;
	size_t i;

	while (leaves != NULL && at < n) {
		snprintf(target, sizeof target, "/api/v1/log/leaves?start=%llu&end=%llu",
		    (unsigned long long)at, (unsigned long long)n);
		if (http_get(&r, target) != 0 || r.status != 200 ||
		    !json_is_array(a = json_object_get(r.json, "leaves")) ||
		    json_array_size(a) == 0 || json_array_size(a) > 1000 ||
		    json_integer_value(json_object_get(r.json, "start")) != (json_int_t)at) {
			resp_free(&r);
			free(leaves);
			return NULL;
		}
		json_array_foreach(a, i, v)
			if (at + i >= n || b64u32(leaves[at + i], v) != 0) {
				resp_free(&r);
				free(leaves);
				return NULL;
			}
		at += json_array_size(a);
		resp_free(&r);
	}
	return leaves;
}

static int
proof_hashes(const json_t *a, uint8_t h[MP_PROOF_MAX][32], size_t *n)
{
	size_t i;
	const json_t *v;

	if (!json_is_array(a) || json_array_size(a) > MP_PROOF_MAX)
		return -1;
	json_array_foreach(a, i, v)
		if (b64u32(h[i], v) != 0)
			return -1;
	*n = json_array_size(a);
	return 0;
}

static int
inclusion_ok(uint64_t index, const struct cp *c, const uint8_t leaf[32])
{
	uint8_t h[MP_PROOF_MAX][32], lh[32], got[32];
	char target[128];
	struct resp r;
	size_t n = 0;
	int good;

	snprintf(target, sizeof target, "/api/v1/log/inclusion?index=%llu&size=%llu",
	    (unsigned long long)index, (unsigned long long)c->size);
	good = http_get(&r, target) == 0 && r.status == 200 &&
	    json_integer_value(json_object_get(r.json, "index")) == (json_int_t)index &&
	    json_integer_value(json_object_get(r.json, "size")) == (json_int_t)c->size &&
	    b64u32(got, json_object_get(r.json, "leaf")) == 0 && memcmp(got, leaf, 32) == 0 &&
	    proof_hashes(json_object_get(r.json, "hashes"), h, &n) == 0;
	if (good) {
		mp_merkle_leaf(lh, leaf, 32);
		good = mp_merkle_verify_inclusion(
		           index, c->size, lh, (const uint8_t(*)[32])h, n, c->root) == 0;
	}
	if (!good)
		diag_resp(&r);
	resp_free(&r);
	return good;
}

static int
consistency_ok(const struct cp *a, const struct cp *b)
{
	uint8_t h[MP_PROOF_MAX][32];
	char target[128];
	struct resp r;
	size_t n = 0;
	int good;

	snprintf(target, sizeof target, "/api/v1/log/consistency?from=%llu&to=%llu",
	    (unsigned long long)a->size, (unsigned long long)b->size);
	good = http_get(&r, target) == 0 && r.status == 200 &&
	    proof_hashes(json_object_get(r.json, "hashes"), h, &n) == 0 &&
	    mp_merkle_verify_consistency(
	        a->size, b->size, a->root, b->root, (const uint8_t(*)[32])h, n) == 0;
	if (!good)
		diag_resp(&r);
	resp_free(&r);
	return good;
}

static void
expect_get_error(const char *target, long status, const char *code, const char *field)
{
	struct resp r;

	http_get(&r, target);
	expect_error(&r, status, code, field, "GET %s: %ld %s", target, status, code);
	resp_free(&r);
}

/* What the opened events must look like; counts per type. */
struct events_seen {
	unsigned types[5];
	unsigned bad_shape, bad_commit, bad_order, bad_seq;
	char first_bad[300];
};

static const char *const TYPES[5] = { "created", "classified", "status", "collective", "purged" };

static int
event_shape_ok(json_t *ev)
{
	static const char *const base[] = { "v", "case", "seq", "type", "month" };
	static const char *const extra[5][6] = {
		{ "channel", "anonymous", NULL },
		{ "grounds", "domain", "manifestation", "incident_municipality",
		    "residence_municipality", NULL },
		{ "status", "closure", NULL },
		{ "collective", NULL },
		{ NULL },
	};
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *month = json_string_value(json_object_get(ev, "month"));
	const char *k;
	json_t *v;
	size_t i, t;
	int known;

	if (json_integer_value(json_object_get(ev, "v")) != 1 || type == NULL || month == NULL ||
	    strlen(month) != 7 || month[4] != '-' || !json_is_string(json_object_get(ev, "case")) ||
	    json_integer_value(json_object_get(ev, "seq")) < 1)
		return -1;
	for (t = 0; t < 5 && strcmp(TYPES[t], type) != 0; t++)
		;
	if (t == 5)
		return -1;
	json_object_foreach(ev, k, v) {
		known = 0;
		for (i = 0; i < 5; i++)
			known |= strcmp(k, base[i]) == 0;
		for (i = 0; extra[t][i] != NULL; i++)
			known |= strcmp(k, extra[t][i]) == 0;
		if (!known)
			return -1;
	}
	return (int)t;
}

static void
check_events(const uint8_t (*leaves)[32], uint64_t n, struct events_seen *s)
{
	char target[128], last_case[64] = "";
	uint64_t at = 0;
	json_t *a, *e, *ev;
	struct resp r;
	size_t i;

	memset(s, 0, sizeof *s);
	/* seq per case: remember the last seq of every case in a small JSON object. */
	json_t *seqs = json_object();
	while (at < n) {
		snprintf(target, sizeof target, "/api/v1/audit/events?start=%llu",
		    (unsigned long long)at);
		if (signed_req(&r, carla, "GET", target, NULL) != 0 || r.status != 200 ||
		    !json_is_array(a = json_object_get(r.json, "events")) ||
		    json_array_size(a) == 0) {
			s->bad_order++;
			diag_resp(&r);
			resp_free(&r);
			break;
		}
		json_array_foreach(a, i, e) {
			uint8_t salt[32], c[32], buf[4096];
			const char *et = json_string_value(json_object_get(e, "event"));
			size_t len = 0;
			int t;

			if (json_integer_value(json_object_get(e, "index")) !=
			    (json_int_t)(at + i)) {
				s->bad_order++;
				continue;
			}
			if (b64u32(salt, json_object_get(e, "salt")) != 0 || et == NULL ||
			    mp_b64u_decode(buf, sizeof buf - 1, &len, et, strlen(et)) != 0) {
				s->bad_shape++;
				continue;
			}
			mp_log_commit(c, salt, buf, len);
			if (memcmp(c, leaves[at + i], 32) != 0)
				s->bad_commit++;
			buf[len] = '\0';
			ev = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
			if (ev == NULL || (t = event_shape_ok(ev)) < 0) {
				if (s->bad_shape++ == 0)
					snprintf(s->first_bad, sizeof s->first_bad, "%.200s", buf);
				json_decref(ev);
				continue;
			}
			s->types[t]++;
			{
				const char *cs = json_string_value(json_object_get(ev, "case"));
				json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
				json_int_t prev = json_integer_value(json_object_get(seqs, cs));

				if (seq != prev + 1)
					s->bad_seq++;
				json_object_set_new(seqs, cs, json_integer(seq));
				snprintf(last_case, sizeof last_case, "%s", cs);
			}
			json_decref(ev);
		}
		at += json_array_size(a);
		resp_free(&r);
	}
	json_decref(seqs);
}

struct refold {
	struct mp_stats *stats;
	int bad;
};

/* The statistics of this year: signed by the log key, and what the opened events add up to. */
static void
check_stats(const uint8_t (*leaves)[32], uint64_t n)
{
	char target[160], year[5], day[11];
	struct resp doc, sig, all;
	struct mp_stats_layout *l = NULL;
	struct mp_stats *st = NULL;
	struct mp_merkle_acc acc;
	uint8_t sigb[64], root[32], lh[32], droot[32];
	json_t *d;
	uint64_t size, i;
	char *mine = NULL;
	int good;

	amsterdam_day(day, 0);
	snprintf(year, sizeof year, "%.4s", day);
	snprintf(target, sizeof target, "/api/v1/stats/%s", year);
	http_get(&doc, target);
	d = doc.json;
	size = (uint64_t)json_integer_value(json_object_get(d, "tree_size"));
	snprintf(target, sizeof target, "/api/v1/stats/%s.sig?size=%llu", year,
	    (unsigned long long)size);
	http_get(&sig, target);
	good = doc.status == 200 && sig.status == 200 && sig.len > 1 &&
	    sig.body[sig.len - 1] == '\n' &&
	    mp_b64_decode_exact(sigb, 64, sig.body, sig.len - 1) == 0 &&
	    crypto_sign_verify_detached(sigb, (const uint8_t *)doc.body, doc.len, V.pk) == 0;
	ok(good,
	    "GET /api/v1/stats/%s and .sig: the document's exact bytes are signed by the log key",
	    year);
	good = size > 0 && size <= n && json_is_true(json_object_get(d, "provisional"));
	ok(good && json_integer_value(json_object_get(d, "year")) == atoi(year),
	    "this year's document is provisional and names its year and a tree size the log has");
	{
		struct resp last;

		snprintf(target, sizeof target, "/api/v1/stats/%d", atoi(year) - 1);
		http_get(&last, target);
		ok(last.status == 200 && json_is_false(json_object_get(last.json, "provisional")) &&
		        json_integer_value(json_object_get(last.json, "year")) == atoi(year) - 1,
		    "last year's document is final (provisional false): the signer decides by its "
		    "own clock");
		resp_free(&last);
	}
	mp_merkle_acc_init(&acc);
	for (i = 0; i < size && size <= n; i++) {
		mp_merkle_leaf(lh, leaves[i], 32);
		mp_merkle_acc_add(&acc, lh);
	}
	mp_merkle_acc_root(&acc, root);
	{
		const char *rt = json_string_value(json_object_get(d, "root"));

		good = rt != NULL && mp_b64u_decode_exact(droot, 32, rt, strlen(rt)) == 0 &&
		    memcmp(root, droot, 32) == 0;
	}
	ok(good, "the document's root is the root of its first tree_size leaves");

	/* Recomputed from the opened events, it is the same document. */
	if (doc.status == 200 && (l = mp_stats_layout_doc(doc.body, doc.len)) != NULL &&
	    (st = mp_stats_new(l, atoi(year),
	         (int)json_integer_value(json_object_get(d, "threshold")))) != NULL) {
		uint64_t at = 0;
		int bad = 0;

		while (at < size && !bad) {
			json_t *e;
			size_t k;

			snprintf(target, sizeof target, "/api/v1/audit/events?start=%llu&end=%llu",
			    (unsigned long long)at, (unsigned long long)size);
			if (signed_req(&all, carla, "GET", target, NULL) != 0 ||
			    all.status != 200) {
				bad = 1;
				resp_free(&all);
				break;
			}
			json_array_foreach(json_object_get(all.json, "events"), k, e) {
				const char *et = json_string_value(json_object_get(e, "event"));
				uint8_t buf[4096];
				char err[200];
				size_t len = 0;

				if (et == NULL ||
				    mp_b64u_decode(buf, sizeof buf, &len, et, strlen(et)) != 0 ||
				    mp_stats_add(st, buf, len, err, sizeof err) != 0) {
					bad = 1;
					break;
				}
			}
			at += json_array_size(json_object_get(all.json, "events"));
			resp_free(&all);
		}
		if (!bad)
			mine = mp_stats_document(st, ORIGIN, size, droot, 1);
	}
	ok(mine != NULL && strcmp(mine, doc.body) == 0,
	    "folding the opened events gives the published document byte for byte");
	free(mine);
	mp_stats_free(st);
	mp_stats_layout_free(l);
	resp_free(&doc);
	resp_free(&sig);

	snprintf(target, sizeof target, "/api/v1/stats/%d", atoi(year) + 1);
	expect_get_error(target, 404, "not_found", NULL);
	expect_get_error("/api/v1/stats/20x6", 404, "not_found", NULL);
	expect_get_error("/api/v1/stats/1969", 404, "not_found", NULL);
	snprintf(
	    target, sizeof target, "/api/v1/stats/%s?size=%llu", year, (unsigned long long)n + 5);
	expect_get_error(target, 400, "invalid_field", "size");
}

void
test_log(void)
{
	struct cp c1, c2, c3;
	uint8_t(*leaves)[32] = NULL, root[32], lh[32];
	struct mp_merkle_acc acc;
	struct events_seen s;
	struct resp r;
	json_t *rep;
	uint64_t i, n, samples[8];
	int good, si;

	if (!ok(mp_note_verifier_parse(&V, I.verifier) == 0,
	        "the verifier key init printed parses"))
		return;
	good = get_checkpoint(&c1) == 0 && get_checkpoint(&c2) == 0;
	if (!ok(good, "GET /api/v1/log/checkpoint: a checkpoint signed by the instance's log key"))
		return;
	ok(c1.size > 0 && strcmp(c1.text, c2.text) == 0,
	    "two checkpoints of an unchanged log are the same bytes (size %llu)",
	    (unsigned long long)c1.size);
	ok(strncmp(c1.text, ORIGIN "\n", strlen(ORIGIN) + 1) == 0,
	    "the checkpoint's first line is the origin");

	n = c1.size;
	leaves = all_leaves(n);
	if (!ok(leaves != NULL,
	        "GET /api/v1/log/leaves pages through all %llu leaves, at most 1000 "
	        "each",
	        (unsigned long long)n))
		goto out;
	mp_merkle_acc_init(&acc);
	for (i = 0; i < n; i++) {
		mp_merkle_leaf(lh, leaves[i], 32);
		mp_merkle_acc_add(&acc, lh);
	}
	mp_merkle_acc_root(&acc, root);
	ok(memcmp(root, c1.root, 32) == 0, "the leaves hash to the checkpoint's root");

	samples[0] = 0;
	samples[1] = n - 1;
	samples[2] = n / 2;
	for (si = 3; si < 8; si++)
		samples[si] = randombytes_uniform((uint32_t)(n > UINT32_MAX ? UINT32_MAX : n));
	good = 1;
	for (si = 0; si < 8; si++)
		good &= inclusion_ok(samples[si], &c1, leaves[samples[si]]);
	ok(good, "inclusion proofs of the first, last, middle and random leaves verify (RFC 9162)");

	/* Opened events: auditors only. */
	http_get(&r, "/api/v1/audit/events?start=0");
	expect_error(&r, 401, "unauthorized", NULL, "opened events without a signature: 401");
	resp_free(&r);
	signed_req(&r, anna, "GET", "/api/v1/audit/events?start=0", NULL);
	expect_error(&r, 403, "forbidden", NULL, "opened events for a caseworker: 403");
	resp_free(&r);
	check_events((const uint8_t(*)[32])leaves, n, &s);
	if (!ok(s.bad_order == 0 && s.bad_shape == 0,
	        "the auditor gets every event in order, each "
	        "{v,case,seq,type,month} and its type's codes only"))
		diag("order %u, shape %u: %s", s.bad_order, s.bad_shape, s.first_bad);
	ok(s.bad_commit == 0, "every event's BLAKE2b(salt, event) is its leaf");
	ok(s.bad_seq == 0, "each case's events count 1, 2, 3, ... in log order");
	check_stats((const uint8_t(*)[32])leaves, n);
	ok(s.types[0] > 0 && s.types[1] > 0 && s.types[2] > 0 && s.types[3] > 0 && s.types[4] > 0,
	    "the log holds created, classified, status, collective and purged events "
	    "(%u, %u, %u, %u, %u)",
	    s.types[0], s.types[1], s.types[2], s.types[3], s.types[4]);

	/* Hostile or impossible parameters. */
	expect_get_error("/api/v1/log/leaves", 400, "missing_field", "start");
	expect_get_error("/api/v1/log/leaves?start=abc", 400, "invalid_field", "start");
	expect_get_error("/api/v1/log/leaves?start=01", 400, "invalid_field", "start");
	expect_get_error("/api/v1/log/leaves?start=-1", 400, "invalid_field", "start");
	expect_get_error(
	    "/api/v1/log/leaves?start=99999999999999999999", 400, "invalid_field", "start");
	{
		char t[128];

		snprintf(t, sizeof t, "/api/v1/log/leaves?start=%llu", (unsigned long long)n);
		expect_get_error(t, 400, "invalid_field", "start");
		snprintf(t, sizeof t, "/api/v1/log/inclusion?index=%llu&size=%llu",
		    (unsigned long long)n, (unsigned long long)n);
		expect_get_error(t, 400, "invalid_field", "index");
		snprintf(t, sizeof t, "/api/v1/log/inclusion?index=0&size=%llu",
		    (unsigned long long)n + 1);
		expect_get_error(t, 400, "invalid_field", "size");
		snprintf(t, sizeof t, "/api/v1/log/consistency?from=%llu&to=%llu",
		    (unsigned long long)n, (unsigned long long)n - 1);
		expect_get_error(t, 400, "invalid_field", "from");
	}
	expect_get_error("/api/v1/log/leaves?start=1&end=1", 400, "invalid_field", "end");
	expect_get_error("/api/v1/log/consistency?from=0&to=1", 400, "invalid_field", "from");
	expect_get_error("/api/v1/log/inclusion?index=0", 400, "missing_field", "size");

	/* A new report: one more leaf, a consistent checkpoint, and its proof in the answer. */
	rep = json_pack("{s:s}", "description", "Een nieuwe melding voor het logboek.");
	good = (si = submit_report(&r, rep)) >= 0;
	json_decref(rep);
	if (!ok(good, "a new report is accepted"))
		goto out;
	{
		json_t *lg = json_object_get(r.json, "log");

		good = get_checkpoint(&c3) == 0 && c3.size == n + 1 &&
		    json_integer_value(json_object_get(lg, "index")) == (json_int_t)n;
		ok(good,
		    "the report's created event is leaf %llu, and the newest checkpoint counts it",
		    (unsigned long long)n);
	}
	resp_free(&r);
	if (c3.text != NULL) {
		ok(consistency_ok(&c1, &c3), "consistency proof from size %llu to %llu verifies",
		    (unsigned long long)c1.size, (unsigned long long)c3.size);
		ok(consistency_ok(&c3, &c3), "consistency proof of a size with itself verifies");
		{
			struct cp small = { 1, { 0 }, NULL };
			uint8_t(*l1)[32] = all_leaves(1);

			if (l1 != NULL) {
				mp_merkle_leaf(small.root, l1[0], 32);
				ok(consistency_ok(&small, &c3),
				    "consistency proof from size 1 verifies");
			}
			free(l1);
		}
	}

	/* A refused change appends nothing; an accepted one exactly its own event. */
	if (c3.text != NULL && case_of(&SUBS[si]) != NULL) {
		char target[160];
		struct cp c4, c5;
		const char
		    *bad = "{\"grounds\":[\"origin\"],\"domain\":\"no_such_domain\","
		           "\"manifestation\":\"remark\",\"incident_municipality\":\"leiden\","
		           "\"residence_municipality\":\"leiden\"}";
		const char
		    *good_cls = "{\"grounds\":[\"origin\"],\"domain\":\"housing\","
		                "\"manifestation\":\"remark\",\"incident_municipality\":\"leiden\","
		                "\"residence_municipality\":\"leiden\"}";

		snprintf(
		    target, sizeof target, "/api/v1/cases/%s/classification", SUBS[si].case_id);
		signed_req(&r, anna, "POST", target, bad);
		resp_free(&r);
		snprintf(target, sizeof target, "/api/v1/cases/%s/status", SUBS[si].case_id);
		signed_req(&r, anna, "POST", target, "{\"status\":\"closed\"}");
		resp_free(&r);
		good = get_checkpoint(&c4) == 0 && c4.size == c3.size;
		ok(good, "a refused classification and a refused move append no event");
		snprintf(
		    target, sizeof target, "/api/v1/cases/%s/classification", SUBS[si].case_id);
		signed_req(&r, anna, "POST", target, good_cls);
		good = r.status == 200 && get_checkpoint(&c5) == 0 && c5.size == c3.size + 1;
		resp_free(&r);
		if (good) {
			char t[160];

			snprintf(t, sizeof t, "/api/v1/audit/events?start=%llu",
			    (unsigned long long)c3.size);
			signed_req(&r, carla, "GET", t, NULL);
			{
				json_t *e = json_array_get(json_object_get(r.json, "events"), 0);
				const char *et = json_string_value(json_object_get(e, "event"));
				uint8_t buf[1024];
				size_t len = 0;

				good = et != NULL &&
				    mp_b64u_decode(buf, sizeof buf - 1, &len, et, strlen(et)) == 0;
				buf[good ? len : 0] = '\0';
				good = good &&
				    strstr((const char *)buf,
				        "\"seq\":2,\"type\":\"classified\"") != NULL &&
				    strstr((const char *)buf, SUBS[si].case_id) != NULL &&
				    strstr((const char *)buf, "\"domain\":\"housing\"") != NULL;
				if (!good)
					diag("event: %s", buf);
			}
			resp_free(&r);
		}
		ok(good,
		    "an accepted classification appends exactly one event: its case, seq 2, "
		    "classified, its codes");
		free(c4.text);
		free(c5.text);
	}

	/* A follow-up answer carries the proof of the case's created event too. */
	if (NSUBS > 0 && followup(&r, SUBS[0].token) == 0) {
		json_t *lg = json_object_get(r.json, "log");
		const char *cp = json_string_value(json_object_get(lg, "checkpoint"));
		uint64_t size;
		uint8_t croot[32];

		good = r.status == 200 && cp != NULL &&
		    mp_checkpoint_open(cp, strlen(cp), &V, &size, croot, NULL, 0) == 0 &&
		    json_is_integer(json_object_get(lg, "index")) &&
		    (uint64_t)json_integer_value(json_object_get(lg, "index")) < size;
		ok(good,
		    "the follow-up answer carries the created event's proof against a checkpoint");
		resp_free(&r);
	}
out:
	free(leaves);
	free(c1.text);
	free(c2.text);
	free(c3.text);
}
