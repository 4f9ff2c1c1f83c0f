/*
 * Retention (docs/CASEWORK.md): `meldpunt purge --dir DIR --today DAY`
 * removes the envelopes of cases closed 24 months before DAY and of open
 * cases untouched for 60 months, keeps the case rows, and a purged case's
 * token still answers.  (tests/api/test_purge_canary.sh looks inside the
 * database file itself.)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework.h"

static const char
    *const CLASS = "{\"grounds\":[\"sexual_orientation\"],\"domain\":\"hospitality\","
                   "\"manifestation\":\"hostile_treatment\",\"incident_municipality\":\"katwijk\","
                   "\"residence_municipality\":\"noordwijk\"}";

static int
purge_at(const char *day)
{
	char bin[PATHLEN + 16], *out = NULL, *err = NULL;
	int rc, digit = 0;

	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	{
		const char *argv[] = { bin, "purge", "--dir", I.inst, day ? "--today" : NULL, day,
			NULL };

		rc = run_cmd(&out, &err, argv);
	}
	for (const char *p = out ? out : ""; *p; p++)
		digit |= isdigit((unsigned char)*p);
	if (!ok(rc == 0 && digit,
	        "meldpunt purge --dir DIR%s%s exits 0 and prints how many "
	        "cases it purged",
	        day ? " --today " : "", day ? day : ""))
		diag("exit %d; stdout %.200s; stderr %.200s", rc, out ? out : "", err ? err : "");
	else
		diag("purge %s: %.150s", day ? day : "(today)", out);
	free(out);
	free(err);
	return rc;
}

/*
 * meldpunt purge --dry-run --today DAY: 0 when it exits 0, changes nothing
 * the caseworkers see and lists ref exactly when listed is 1.
 */
static void
dry_run_at(const char *day, const char *ref, int listed, const char *case_id)
{
	char bin[PATHLEN + 16], *out = NULL, *err = NULL;
	json_t *before = cw_list_find("", case_id), *after;
	int rc, has;

	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	{
		const char *argv[] = { bin, "purge", "--dir", I.inst, "--today", day, "--dry-run",
			NULL };

		rc = run_cmd(&out, &err, argv);
	}
	if (ref == NULL)
		ref = "(no reference)";
	has = out != NULL && strstr(out, ref) != NULL;
	if (!ok(rc == 0 && out != NULL && strstr(out, "would purge") != NULL && has == listed,
	        "meldpunt purge --dry-run --today %s exits 0 and %s %s", day,
	        listed ? "lists" : "does not list", ref))
		diag("exit %d; stdout %.300s; stderr %.200s", rc, out ? out : "", err ? err : "");
	after = cw_list_find("", case_id);
	ok(before && after && json_equal(before, after) &&
	        json_is_false(json_object_get(after, "purged")),
	    "after the dry run %s is as it was, not purged", ref);
	json_decref(before);
	json_decref(after);
	free(out);
	free(err);
}

static int
restart_around(const char *day)
{
	int rc;

	if (!ok(server_stop(5) == 0, "the server stops for the purge"))
		return -1;
	rc = purge_at(day);
	if (!ok(server_start() == 0, "the server starts again after the purge")) {
		printf("Bail out! the server does not restart after the purge; see %s\n", I.log);
		exit(1);
	}
	return rc;
}

static void
reporter_says(const char *token, const char *text, long *status)
{
	json_t *o = json_pack("{s:s, s:s}", "token", token, "text", text);
	char *b = dump(o);
	struct resp r;

	http_json(&r, "POST", "/api/v1/followup/messages", b);
	if (status)
		*status = r.status;
	if (status == NULL && r.status != 201)
		diag_resp(&r);
	resp_free(&r);
	free(b);
	json_decref(o);
}

/* The checks on a purged case; summary fields kept as in before. */
static void
purged_case(const struct cw *c, const json_t *before, const char *what)
{
	const char *lang = c->lang, *want = POL.purged[strcmp(lang, "en") == 0 ? 1 : 0];
	json_t *s = cw_list_find("", c->id), *h, *ev;
	struct resp r;
	long st = 0;
	int kept = 1;

	static const char *const keep[] = { "id", "ref", "received", "status", "closure", "channel",
		"anonymous", "classification", "collective", "due" };
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (!json_equal(json_object_get(s, keep[i]), json_object_get(before, keep[i]))) {
			diag("%s: %s changed", what, keep[i]);
			kept = 0;
		}
	if (!ok(s && json_is_true(json_object_get(s, "purged")), "%s: the summary says purged true",
	        what))
		diag("summary %s", s ? json_dumps(s, JSON_COMPACT) : "(not in the list)");
	ok(s && kept,
	    "%s: the row keeps id, ref, received, status, closure, channel, anonymous, "
	    "classification, collective, due",
	    what);
	json_decref(s);

	cw_get(&r, c->id);
	if (!ok(r.status == 200 && json_is_null(json_object_get(r.json, "report")) &&
	            json_is_array(json_object_get(r.json, "messages")) &&
	            json_array_size(json_object_get(r.json, "messages")) == 0,
	        "%s: GET the case -> report null, messages []", what))
		diag_resp(&r);
	ok(json_is_null(json_object_get(r.json, "reporter_box")),
	    "%s: no reporter key kept (reporter_box null)", what);
	h = json_object_get(r.json, "history");
	ev = json_array_get(h, json_array_size(h) - 1);
	if (!ok(ev && jstr(ev, "type") && !strcmp(jstr(ev, "type"), "purged"),
	        "%s: its history ends with a purged event", what))
		diag_resp(&r);
	{
		char why[256];

		if (!ok(history_codes_only(h, why, sizeof why),
		        "%s: its history holds only codes, "
		        "ids and days",
		        what))
			diag("%s", why);
	}
	resp_free(&r);

	cw_followup(&r, c->token);
	if (!ok(r.status == 200 && jstr(r.json, "status") &&
	            !strcmp(jstr(r.json, "status"), "closed") && jstr(r.json, "status_label") &&
	            *jstr(r.json, "status_label") &&
	            json_is_array(json_object_get(r.json, "messages")) &&
	            json_array_size(json_object_get(r.json, "messages")) == 0,
	        "%s: the token still answers: status closed, a status_label, no messages", what))
		diag_resp(&r);
	if (!ok(want[0] && jstr(r.json, "status_label") &&
	            !strcmp(jstr(r.json, "status_label"), want),
	        "%s: the status_label is the policy's purged notice in the report's language "
	        "(%s)",
	        what, lang))
		diag("want %s; got %s",
		    want[0] ? want : "(the policy file has no [notices] purged)",
		    jstr(r.json, "status_label") ? jstr(r.json, "status_label") : "-");
	resp_free(&r);
	reporter_says(c->token, "purge: a message on a purged case", &st);
	ok(st == 409, "%s: a follow-up message -> 409 conflict (got %ld)", what, st);
}

void
test_purge(void)
{
	char d25[11], d61[11], *b;
	struct cw p1, p2;
	struct resp r;
	json_t *before1 = NULL, *before2 = NULL, *o, *want = json_loads(CLASS, 0, NULL);

	if (!ok(cw_report(&p1, "nl", "purge: a case that will be closed and purged") == 0 &&
	            cw_report(&p2, "en", "purge: a case that stays open") == 0,
	        "two reports for the purge"))
		goto out;
	reporter_says(p1.token, "purge: the reporter of the closed case writes", NULL);
	reporter_says(p2.token, "purge: the reporter of the open case writes", NULL);
	b = envelope_body(seal_item("message", p1.id, "purge: an answer", p1.rpk));
	cw_post(&r, p1.id, "messages", b);
	resp_free(&r);
	free(b);
	b = envelope_body(seal_item("note", p1.id, "purge: a note", NULL));
	cw_post(&r, p1.id, "messages", b);
	resp_free(&r);
	free(b);
	cw_post(&r, p1.id, "classification", CLASS);
	ok(r.status == 200, "the case to be purged is classified");
	resp_free(&r);
	if (!ok(cw_walk_to(p1.id, "registration_only") == 0 &&
	            cw_move(p1.id, "closed", "withdrawn") == 200,
	        "the case is closed (withdrawn)"))
		goto out;
	ok(cw_get(&r, p1.id) == 0 && json_array_size(json_object_get(r.json, "messages")) == 3,
	    "before the purge it holds the reporter's message, an answer and a note");
	resp_free(&r);
	before1 = cw_list_find("", p1.id);
	before2 = cw_list_find("", p2.id);

	/* By hand, today, while the server runs: nothing is due yet, the server goes on. */
	purge_at(NULL);
	{
		json_t *s1 = cw_list_find("", p1.id), *s2 = cw_list_find("", p2.id);

		ok(s1 && s2 && json_is_false(json_object_get(s1, "purged")) &&
		        json_is_false(json_object_get(s2, "purged")) && server_alive(),
		    "a purge as of today while the server runs purges neither case, and the server "
		    "goes on serving");
		json_decref(s1);
		json_decref(s2);
	}

	/* 25 months on: the closed case is purged, the open one not. */
	months_ahead(d25, 25);
	months_ahead(d61, 61);
	dry_run_at(d25, jstr(before1, "ref"), 1, p1.id);
	dry_run_at(d25, jstr(before2, "ref"), 0, p2.id);
	dry_run_at(d61, jstr(before2, "ref"), 1, p2.id);
	restart_around(d25);
	purged_case(&p1, before1, "closed case, purge 25 months on");
	{
		json_t *s = cw_list_find("status=closed", p1.id);

		ok(s != NULL, "the purged case is still listed under status=closed");
		json_decref(s);
	}
	cw_post(&r, p1.id, "classification", CLASS);
	o = json_object_get(r.json, "classification");
	ok(r.status == 200 && json_equal(o, want) &&
	        json_is_true(json_object_get(r.json, "purged")),
	    "a purged case can still be classified -> 200 (still purged)");
	resp_free(&r);

	{
		json_t *s = cw_list_find("", p2.id), *pt;

		ok(s && json_is_false(json_object_get(s, "purged")) &&
		        json_equal(
		            json_object_get(s, "status"), json_object_get(before2, "status")),
		    "the open case is not purged 25 months on");
		json_decref(s);
		cw_get(&r, p2.id);
		pt = open_env(json_object_get(r.json, "report"), p2.id, anna->box_pk, anna->box_sk);
		ok(pt && json_array_size(json_object_get(r.json, "messages")) == 1,
		    "its report still opens and its message is there");
		json_decref(pt);
		resp_free(&r);
		cw_followup(&r, p2.token);
		ok(r.status == 200 && json_array_size(json_object_get(r.json, "messages")) == 1 &&
		        jstr(r.json, "status") && !strcmp(jstr(r.json, "status"), "received"),
		    "its reporter still reads the message, status received");
		resp_free(&r);
	}

	/* 61 months on: the open case too. */
	restart_around(d61);
	purged_case(&p2, before2, "open case, purge 61 months on");
	{
		json_t *s = cw_list_find("", p2.id);

		ok(s && jstr(s, "status") && !strcmp(jstr(s, "status"), "received"),
		    "the purged open case keeps its status received in the list");
		json_decref(s);
	}
out:
	json_decref(before1);
	json_decref(before2);
	json_decref(want);
}
