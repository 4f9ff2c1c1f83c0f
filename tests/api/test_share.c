/*
 * Sharing with a colleague who joined later, revoking a key, and the
 * recovery key (docs/CASEWORK.md, "Sharing with a colleague, and revoking").
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework.h"
#include "mp_b64.h"

static struct mp_identity *dora, *eve, *rec;

/* Every item of every case, as {"case", "kind", "nonce"}; walks Anna's list and each case. */
static json_t *
all_items(void)
{
	json_t *items = json_array(), *c, *m;
	char target[256], *cur = NULL;
	struct resp r, g;
	size_t i, j;

	for (int page = 0; page < 100; page++) {
		if (cur)
			snprintf(target, sizeof target, "/api/v1/cases?limit=500&after=%s", cur);
		else
			snprintf(target, sizeof target, "/api/v1/cases?limit=500");
		if (signed_req(&r, anna, "GET", target, NULL) != 0 || r.status != 200) {
			resp_free(&r);
			break;
		}
		json_array_foreach(json_object_get(r.json, "cases"), i, c) {
			const char *id = jstr(c, "id");
			const json_t *rep;

			if (id == NULL || cw_get(&g, id) != 0) {
				resp_free(&g);
				continue;
			}
			rep = json_object_get(g.json, "report");
			if (json_is_object(rep))
				json_array_append_new(items,
				    json_pack("{s:s, s:s, s:O}", "case", id, "kind", "report",
				        "env", rep));
			json_array_foreach(json_object_get(g.json, "messages"), j, m)
				json_array_append_new(items,
				    json_pack("{s:s, s:s, s:O?, s:O}", "case", id, "kind",
				        "message", "item", json_object_get(m, "id"), "env",
				        json_object_get(m, "envelope")));
			resp_free(&g);
		}
		free(cur);
		cur = jstr(r.json, "next") ? strdup(jstr(r.json, "next")) : NULL;
		resp_free(&r);
		if (cur == NULL)
			break;
	}
	free(cur);
	return items;
}

/* GET /api/v1/recipients?missing=kid, every page (limit per page); the items, or NULL. */
static json_t *
missing_for(const char *kid, int limit, int *pages)
{
	json_t *items = json_array(), *it;
	char target[256], *cur = NULL;
	struct resp r;
	size_t i;
	int n = 0;

	for (n = 0; n < 1000; n++) {
		if (cur)
			snprintf(target, sizeof target,
			    "/api/v1/recipients?missing=%s&limit=%d&after=%s", kid, limit, cur);
		else
			snprintf(target, sizeof target, "/api/v1/recipients?missing=%s&limit=%d",
			    kid, limit);
		if (signed_req(&r, anna, "GET", target, NULL) != 0 || r.status != 200 ||
		    !json_is_array(json_object_get(r.json, "items"))) {
			diag_resp(&r);
			resp_free(&r);
			json_decref(items);
			free(cur);
			return NULL;
		}
		json_array_foreach(json_object_get(r.json, "items"), i, it)
			json_array_append(items, it);
		free(cur);
		cur = jstr(r.json, "next") ? strdup(jstr(r.json, "next")) : NULL;
		resp_free(&r);
		if (cur == NULL)
			break;
	}
	free(cur);
	if (pages)
		*pages = n + 1;
	return items;
}

/* Anna's item key re-sealed to pk, as b64u into out; 0 or -1. */
static int
reseal(char out[MP_B64U_LEN(80)], const json_t *item_or_env, const uint8_t pk[32])
{
	uint8_t K[32], sealed[80];

	if (mp_envelope_item_key(K, item_or_env, anna->box_pk, anna->box_sk) != 0)
		return -1;
	crypto_box_seal(sealed, K, 32, pk);
	sodium_memzero(K, sizeof K);
	b64u(out, MP_B64U_LEN(80), sealed, sizeof sealed);
	return 0;
}

static json_t *
add_entry(const char *kid, const char *sealed)
{
	return json_pack("[{s:s, s:s}]", "kid", kid, "sealed", sealed);
}

static long
share_one(struct resp *r, const char *case_id, const char *item, json_t *add)
{
	json_t *o = json_pack("{s:o, s:s}", "add", add, "item", item);
	char *b = dump(o);

	cw_post(r, case_id, "recipients", b);
	free(b);
	json_decref(o);
	return r->status;
}

/* The item of case_id in a missing list whose recipients equal the report envelope's. */
static const json_t *
report_item(const json_t *items, const char *case_id, const json_t *report_env)
{
	const json_t *it;
	size_t i;

	json_array_foreach(items, i, it)
		if (jstr(it, "case") && !strcmp(jstr(it, "case"), case_id) &&
		    json_equal(json_object_get(it, "recipients"),
		        json_object_get(report_env, "recipients")))
			return it;
	return NULL;
}

static void
test_dora(void)
{
	struct cw c;
	struct resp r;
	json_t *before, *items, *it, *bulk, *hist, *m, *ev;
	const json_t *rep_item;
	char dkid[MP_KID_TEXT_LEN + 1], sealed[MP_B64U_LEN(80)], *b, other_item[64] = "";
	size_t i, n_before, n_shared = 0, opened = 0, reports = 0, cant = 0;
	int listed_all = 1, anna_in_all = 1, pages = 0, shared_events = 0;

	/* A case with a report, the reporter's message, an answer and a note, before Dora. */
	if (!ok(cw_report(&c, "nl", "share: a case from before Dora joined") == 0,
	        "a report before Dora joins"))
		return;
	{
		json_t *o = json_pack(
		    "{s:s, s:s}", "token", c.token, "text", "share: the reporter adds something");

		b = dump(o);
		http_json(&r, "POST", "/api/v1/followup/messages", b);
		ok(r.status == 201, "the reporter adds a message -> 201");
		resp_free(&r);
		free(b);
		json_decref(o);
	}
	b = envelope_body(seal_item("message", c.id, "share: an answer", c.rpk));
	cw_post(&r, c.id, "messages", b);
	resp_free(&r);
	free(b);
	b = envelope_body(seal_item("note", c.id, "share: a note", NULL));
	cw_post(&r, c.id, "messages", b);
	resp_free(&r);
	free(b);

	before = all_items();
	n_before = json_array_size(before);
	diag("%zu items in %s before Dora joins", n_before, "the instance");

	/* Dora joins while the server runs (keys take effect on the next request). */
	if (!ok(key_add(dora) == 0,
	        "meldpunt key add registers caseworker Dora while the server "
	        "runs")) {
		json_decref(before);
		return;
	}
	mp_kid(dkid, dora->box_pk);
	cw_get_as(&r, dora, c.id);
	{
		json_t *o = open_env(
		    json_object_get(r.json, "report"), c.id, dora->box_pk, dora->box_sk);

		if (!ok(r.status == 200 && json_is_object(json_object_get(r.json, "report")) &&
		            o == NULL,
		        "Dora may read the case list and the case, but cannot open a report "
		        "sealed before she joined"))
			diag_resp(&r);
		json_decref(o);
	}
	resp_free(&r);

	/* What Dora lacks: every item that existed before. */
	items = missing_for(dkid, 7, &pages);
	if (!ok(items != NULL,
	        "GET /api/v1/recipients?missing=<Dora's kid> -> 200 {items, next}")) {
		json_decref(before);
		return;
	}
	json_array_foreach(items, i, it) {
		if (!jstr(it, "item") || !jstr(it, "case") ||
		    !mp_envelope_has_kid(it, kid_of(anna->box_pk)))
			anna_in_all = 0;
		if (mp_envelope_has_kid(it, dkid))
			listed_all = 0;
	}
	if (!ok(json_array_size(items) == n_before && listed_all,
	        "the list (paged by 7, %d pages) "
	        "holds every item of every case from before Dora (%zu), none sealed to her",
	        pages, n_before))
		diag("listed %zu, items %zu", json_array_size(items), n_before);
	ok(anna_in_all, "each listed item has item, case and recipients, Anna among them");
	{
		json_t *one = missing_for(dkid, 1000, NULL);

		ok(one && json_equal(one, items),
		    "the same list in one page of 1000 as in pages of 7 "
		    "(oldest first, the cursor loses nothing)");
		json_decref(one);
	}
	{
		char target[128];

		snprintf(target, sizeof target, "/api/v1/recipients?missing=%s&limit=0", dkid);
		signed_req(&r, anna, "GET", target, NULL);
		expect_error(&r, 400, "invalid_field", "limit", "GET /api/v1/recipients?limit=0");
	}
	resp_free(&r);
	{
		char target[128];

		snprintf(target, sizeof target, "/api/v1/recipients?missing=%s&limit=1001", dkid);
		signed_req(&r, anna, "GET", target, NULL);
		expect_error(
		    &r, 400, "invalid_field", "limit", "GET /api/v1/recipients?limit=1001");
		resp_free(&r);
	}

	/* One item: the case's report. */
	cw_get(&r, c.id);
	rep_item = report_item(items, c.id, json_object_get(r.json, "report"));
	json_array_foreach(json_object_get(r.json, "messages"), i, m)
		if (i == 0 && jstr(m, "id"))
			snprintf(other_item, sizeof other_item, "%s", jstr(m, "id"));
	resp_free(&r);
	if (!ok(rep_item != NULL && reseal(sealed, rep_item, dora->box_pk) == 0,
	        "the case's report is in the list and Anna re-seals its item key to Dora")) {
		json_decref(items);
		json_decref(before);
		return;
	}
	{
		char ckid[MP_KID_TEXT_LEN + 1], rnd[MP_B64U_LEN(16)], other_case[64] = "";
		uint8_t rb[16];
		const json_t *x;

		mp_kid(ckid, carla->box_pk);
		share_one(&r, c.id, jstr(rep_item, "item"), add_entry(ckid, sealed));
		expect_error(&r, 400, "invalid_field", NULL, "sharing with an auditor's kid");
		resp_free(&r);
		randombytes_buf(rb, sizeof rb);
		b64u(rnd, sizeof rnd, rb, sizeof rb);
		share_one(&r, c.id, jstr(rep_item, "item"), add_entry(rnd, sealed));
		expect_error(&r, 400, "invalid_field", NULL, "sharing with a kid of no key");
		resp_free(&r);
		share_one(&r, c.id, jstr(rep_item, "item"), add_entry(dkid, "c2hvcnQ"));
		expect_error(&r, 400, "invalid_field", NULL,
		    "sharing a sealed key that is not 80 "
		    "bytes");
		resp_free(&r);
		json_array_foreach(items, i, x)
			if (jstr(x, "case") && strcmp(jstr(x, "case"), c.id) != 0)
				snprintf(other_case, sizeof other_case, "%s", jstr(x, "case"));
		share_one(&r, other_case, jstr(rep_item, "item"), add_entry(dkid, sealed));
		expect_error(
		    &r, 404, "not_found", NULL, "sharing an item under another case's path");
		resp_free(&r);
		share_one(&r, c.id, rnd, add_entry(dkid, sealed));
		expect_error(&r, 404, "not_found", NULL, "sharing an unknown item");
		resp_free(&r);
		share_one(&r, rnd, jstr(rep_item, "item"), add_entry(dkid, sealed));
		expect_error(&r, 404, "not_found", NULL, "sharing on an unknown case");
		resp_free(&r);
	}
	cw_get_as(&r, dora, c.id);
	ok(open_env(json_object_get(r.json, "report"), c.id, dora->box_pk, dora->box_sk) == NULL,
	    "the refused shares gave Dora nothing");
	resp_free(&r);
	share_one(&r, c.id, jstr(rep_item, "item"), add_entry(dkid, sealed));
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "added")) == 1,
	        "POST /api/v1/cases/{id}/recipients {add: [Dora], item: the report} -> 200 {added: 1}"))
		diag_resp(&r);
	resp_free(&r);
	cw_get_as(&r, dora, c.id);
	{
		json_t *o = open_env(
		    json_object_get(r.json, "report"), c.id, dora->box_pk, dora->box_sk);

		if (!ok(o && jstr(o, "description") &&
		            !strcmp(
		                jstr(o, "description"), "share: a case from before Dora joined"),
		        "Dora now opens the old report"))
			diag_resp(&r);
		json_decref(o);
	}
	resp_free(&r);
	share_one(&r, c.id, jstr(rep_item, "item"), add_entry(dkid, sealed));
	if (!ok(r.status == 200 && json_integer_value(json_object_get(r.json, "added")) == 0,
	        "sharing the same item with Dora again -> 200 {added: 0} (a kid it has is skipped)"))
		diag_resp(&r);
	resp_free(&r);

	/* Everything else at once; first a bulk with one bad entry changes nothing. */
	bulk = json_array();
	json_array_foreach(items, i, it) {
		if (it == rep_item)
			continue;
		if (reseal(sealed, it, dora->box_pk) != 0) {
			cant++;
			continue;
		}
		json_array_append_new(bulk,
		    json_pack(
		        "{s:s, s:o}", "item", jstr(it, "item"), "add", add_entry(dkid, sealed)));
	}
	ok(cant == 0, "Anna opens the item key of every listed item (%zu could not)", cant);
	if (json_array_size(bulk) > 0) {
		json_t *bad = json_deep_copy(bulk), *o;
		char ckid[MP_KID_TEXT_LEN + 1];

		mp_kid(ckid, carla->box_pk);
		json_object_set_new(
		    json_array_get(
		        json_object_get(json_array_get(bad, json_array_size(bad) - 1), "add"), 0),
		    "kid", json_string(ckid));
		o = json_pack("{s:o}", "items", bad);
		b = dump(o);
		signed_req(&r, anna, "POST", "/api/v1/recipients", b);
		expect_error(&r, 400, "invalid_field", NULL,
		    "POST /api/v1/recipients whose last entry names an auditor's kid");
		resp_free(&r);
		free(b);
		json_decref(o);
		it = missing_for(dkid, 1000, NULL);
		ok(it && json_array_size(it) == json_array_size(items) - 1,
		    "the refused bulk share added nothing (all in one transaction)");
		json_decref(it);
	}
	{
		json_t *o = json_pack("{s:O}", "items", bulk);

		b = dump(o);
		json_decref(o);
	}
	signed_req(&r, anna, "POST", "/api/v1/recipients", b);
	free(b);
	if (!ok(r.status == 200 &&
	            (size_t)json_integer_value(json_object_get(r.json, "added")) ==
	                json_array_size(bulk),
	        "POST /api/v1/recipients with the other %zu items -> 200 "
	        "{added: %zu}",
	        json_array_size(bulk), json_array_size(bulk)))
		diag_resp(&r);
	resp_free(&r);
	json_decref(bulk);
	it = missing_for(dkid, 500, NULL);
	if (!ok(it && json_array_size(it) == 0, "the list for Dora is then empty"))
		diag("%zu items left", it ? json_array_size(it) : 0);
	json_decref(it);

	/* Dora opens every old report and every message of the case. */
	json_array_foreach(before, i, it) {
		const char *cid = jstr(it, "case");

		if (strcmp(jstr(it, "kind"), "report") == 0) {
			json_t *o;

			reports++;
			cw_get_as(&r, dora, cid);
			o = open_env(
			    json_object_get(r.json, "report"), cid, dora->box_pk, dora->box_sk);
			opened += o != NULL;
			json_decref(o);
			resp_free(&r);
		}
	}
	ok(reports > 0 && opened == reports,
	    "Dora now opens every report from before she joined "
	    "(%zu of %zu)",
	    opened, reports);
	cw_get_as(&r, dora, c.id);
	n_shared = 0;
	json_array_foreach(json_object_get(r.json, "messages"), i, m) {
		json_t *o = open_env(
		    json_object_get(m, "envelope"), c.id, dora->box_pk, dora->box_sk);

		n_shared += o != NULL;
		json_decref(o);
	}
	ok(n_shared == 3 && json_array_size(json_object_get(r.json, "messages")) == 3,
	    "Dora opens the case's old messages and note (%zu of 3)", n_shared);
	hist = json_object_get(r.json, "history");
	json_array_foreach(hist, i, ev)
		shared_events += jstr(ev, "type") && !strcmp(jstr(ev, "type"), "shared") &&
		    jstr(ev, "kid") && !strcmp(jstr(ev, "kid"), dkid);
	if (!ok(shared_events == 4,
	        "the case's history has a shared event {kid: Dora} per item "
	        "(report, 2 messages, note: 4)"))
		diag("%d shared events for Dora; history %.400s", shared_events, r.body);
	{
		char why[256];

		if (!ok(history_codes_only(hist, why, sizeof why),
		        "that history holds only codes, "
		        "ids and days"))
			diag("%s", why);
	}
	resp_free(&r);
	(void)other_item;

	/* Reports from now on are sealed to Dora. */
	if (cw_report(&c, "en", "share: a report after Dora joined") == 0) {
		json_t *o;

		cw_get_as(&r, dora, c.id);
		o = open_env(json_object_get(r.json, "report"), c.id, dora->box_pk, dora->box_sk);
		ok(o != NULL, "a report made after Dora joined is sealed to her");
		json_decref(o);
		resp_free(&r);
	}
	json_decref(items);
	json_decref(before);
}

static void
test_revoke(void)
{
	char ekid[MP_KID_TEXT_LEN + 1], sealed[MP_B64U_LEN(80)], item[64], *b;
	struct cw c;
	struct resp r;
	json_t *rep, *it, *o, *env;
	size_t i;
	int listed = 0;

	if (!ok(key_add(eve) == 0, "meldpunt key add registers caseworker Eve"))
		return;
	mp_kid(ekid, eve->box_pk);
	signed_req(&r, eve, "GET", "/api/v1/cases?limit=1", NULL);
	ok(r.status == 200, "Eve's signed request -> 200 while her key is active");
	resp_free(&r);
	if (!ok(key_revoke(ekid) == 0, "meldpunt key revoke --dir --kid <Eve> exits 0"))
		return;
	signed_req(&r, eve, "GET", "/api/v1/cases?limit=1", NULL);
	expect_error(&r, 401, "unauthorized", NULL, "a request signed by the revoked key");
	resp_free(&r);
	signed_req(&r, anna, "GET", "/api/v1/keys", NULL);
	{
		char box[MP_B64U_LEN(32)];

		b64u(box, sizeof box, eve->box_pk, 32);
		json_array_foreach(json_object_get(r.json, "keys"), i, it)
			listed |= jstr(it, "box") && !strcmp(jstr(it, "box"), box);
	}
	ok(r.status == 200 && !listed, "GET /api/v1/keys no longer lists the revoked key");
	resp_free(&r);

	if (!ok(cw_report(&c, "nl", "share: a report after Eve was revoked") == 0,
	        "a report after the revocation"))
		return;
	/* The reporter's message after the revocation: not sealed to Eve either. */
	o = json_pack("{s:s, s:s}", "token", c.token, "text", "share: after the revocation");
	b = dump(o);
	http_json(&r, "POST", "/api/v1/followup/messages", b);
	resp_free(&r);
	free(b);
	json_decref(o);
	cw_get(&r, c.id);
	rep = json_object_get(r.json, "report");
	ok(rep && !mp_envelope_has_kid(rep, ekid) && mp_envelope_has_kid(rep, kid_of(dora->box_pk)),
	    "a new report is not sealed to the revoked key (but to Dora)");
	it = json_array_get(json_object_get(r.json, "messages"), 0);
	env = json_object_get(it, "envelope");
	ok(env && !mp_envelope_has_kid(env, ekid) && mp_envelope_has_kid(env, kid_of(anna->box_pk)),
	    "a reporter's message after the revocation is not sealed to the revoked key");
	snprintf(item, sizeof item, "%s", jstr(it, "id") ? jstr(it, "id") : "");
	if (env && item[0] && reseal(sealed, env, eve->box_pk) == 0) {
		struct resp s;

		share_one(&s, c.id, item, add_entry(ekid, sealed));
		expect_error(&s, 400, "invalid_field", NULL,
		    "adding the revoked key as a recipient "
		    "(single item)");
		resp_free(&s);
		o = json_pack(
		    "{s:[{s:s, s:o}]}", "items", "item", item, "add", add_entry(ekid, sealed));
		b = dump(o);
		signed_req(&s, anna, "POST", "/api/v1/recipients", b);
		expect_error(&s, 400, "invalid_field", NULL,
		    "adding the revoked key as a recipient "
		    "(bulk)");
		resp_free(&s);
		free(b);
		json_decref(o);
	} else {
		ok(0, "the reporter's message has an id and Anna opens its item key");
	}
	resp_free(&r);
	cw_get(&r, c.id);
	env = json_object_get(json_array_get(json_object_get(r.json, "messages"), 0), "envelope");
	ok(env && !mp_envelope_has_kid(env, ekid),
	    "the refused shares did not add the revoked key");
	resp_free(&r);
}

static void
test_recovery(void)
{
	char rkid[MP_KID_TEXT_LEN + 1], box[MP_B64U_LEN(32)], *b;
	struct cw c;
	struct resp r;
	json_t *it, *o, *env, *items;
	size_t i;
	int listed = 0;

	if (!ok(key_add_recovery(rec) == 0,
	        "meldpunt key add --role recovery --name R --box B64U "
	        "(no --sign) exits 0"))
		return;
	mp_kid(rkid, rec->box_pk);
	b64u(box, sizeof box, rec->box_pk, 32);
	signed_req(&r, anna, "GET", "/api/v1/keys", NULL);
	json_array_foreach(json_object_get(r.json, "keys"), i, it)
		listed |= jstr(it, "box") && !strcmp(jstr(it, "box"), box) && jstr(it, "role") &&
		    !strcmp(jstr(it, "role"), "recovery") && json_object_get(it, "sign") == NULL;
	if (!ok(listed, "GET /api/v1/keys lists the recovery key {role recovery, box, no sign}"))
		diag_resp(&r);
	resp_free(&r);

	if (!ok(cw_report(&c, "nl", "share: a report after the recovery key") == 0,
	        "a report after the recovery key was added"))
		return;
	o = json_pack("{s:s, s:s}", "token", c.token, "text", "share: for the recovery key too");
	b = dump(o);
	http_json(&r, "POST", "/api/v1/followup/messages", b);
	resp_free(&r);
	free(b);
	json_decref(o);
	cw_get(&r, c.id);
	o = open_env(json_object_get(r.json, "report"), c.id, rec->box_pk, rec->box_sk);
	ok(o && jstr(o, "description") &&
	        !strcmp(jstr(o, "description"), "share: a report after the recovery key"),
	    "the recovery key opens a new report (it is a recipient of every report)");
	json_decref(o);
	env = json_object_get(json_array_get(json_object_get(r.json, "messages"), 0), "envelope");
	o = open_env(env, c.id, rec->box_pk, rec->box_sk);
	ok(o && jstr(o, "text") && !strcmp(jstr(o, "text"), "share: for the recovery key too"),
	    "the recovery key opens a reporter's message");
	json_decref(o);
	resp_free(&r);

	/* Old items can be shared with the recovery key. */
	items = missing_for(rkid, 1000, NULL);
	ok(items && json_array_size(items) > 0,
	    "GET /api/v1/recipients?missing=<recovery kid> "
	    "lists the items from before it");
	it = json_array_get(items, 0);
	if (it) {
		char sealed[MP_B64U_LEN(80)];

		if (reseal(sealed, it, rec->box_pk) == 0) {
			share_one(&r, jstr(it, "case"), jstr(it, "item"), add_entry(rkid, sealed));
			if (!ok(r.status == 200 &&
			            json_integer_value(json_object_get(r.json, "added")) == 1,
			        "an old item shared with the recovery key -> 200 {added: 1}"))
				diag_resp(&r);
			resp_free(&r);
		}
	}
	json_decref(items);
}

void
test_share(void)
{
	dora = mp_identity_new("Dora", "caseworker");
	eve = mp_identity_new("Eve", "caseworker");
	rec = mp_identity_new("R", "recovery");
	if (dora == NULL || eve == NULL || rec == NULL) {
		ok(0, "identities for Dora, Eve and the recovery key");
		return;
	}
	test_dora();
	test_revoke();
	test_recovery();
}

void
test_share_done(void)
{
	mp_identity_free(dora);
	mp_identity_free(eve);
	mp_identity_free(rec);
}
