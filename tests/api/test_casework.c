/*
 * Case work (docs/CASEWORK.md): every status move of the policy, closures,
 * the reporter's status labels, case summaries and list filters, overdue
 * cases, classification, intake by phone/e-mail/post/desk, internal notes.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "casework.h"
#include "mp_b64.h"

static const char *const VALID_CLASS =
    "{\"grounds\":[\"origin\",\"religion\"],\"domain\":\"housing\",\"manifestation\":\"refusal\","
    "\"incident_municipality\":\"leiden\",\"residence_municipality\":\"elsewhere\"}";

static void
diag_json(const char *label, const json_t *j)
{
	char *t = j ? dump(j) : NULL;

	diag("%s: %.400s", label, t ? t : "(none)");
	free(t);
}

/* --- status moves ------------------------------------------------------------------------- */

/* A new case walked to status s; 0 or -1. */
static int
case_in(struct cw *c, const char *s, const char *lang)
{
	char desc[128];

	snprintf(desc, sizeof desc, "casework: a case to be put in status %s", s);
	if (cw_report(c, lang, desc) != 0)
		return -1;
	return strcmp(s, "received") == 0 ? 0 : cw_walk_to(c->id, s);
}

static void
test_transitions(void)
{
	char today[11], why[256];
	int built = 1;

	amsterdam_day(today, 0);
	for (int s = 0; s < POL.nst; s++) {
		int allowed[POL_MAX], na = 0, ncases;

		for (int t = 0; t < POL.nst; t++)
			if (POL.allow[s][t])
				allowed[na++] = t;
		ncases = na > 0 ? na : 1;
		for (int k = 0; k < ncases; k++) {
			struct cw c;
			struct resp r;

			if (case_in(&c, POL.st[s], k % 2 ? "en" : "nl") != 0 ||
			    strcmp(cw_status(c.id), POL.st[s]) != 0) {
				if (built)
					diag("cannot build a case in status %s", POL.st[s]);
				built = 0;
				continue;
			}
			if (k == 0) {
				/* Every move the policy does not list is refused; the status stays. */
				for (int t = 0; t < POL.nst; t++) {
					const char *to = POL.st[t];
					json_t *o;
					char *b;

					if (POL.allow[s][t])
						continue;
					o = strcmp(to, "closed") == 0
					    ? json_pack("{s:s, s:s}", "status", to, "closure",
					          "withdrawn")
					    : json_pack("{s:s}", "status", to);
					b = dump(o);
					cw_post(&r, c.id, "status", b);
					expect_error(&r, 409, "conflict", "status",
					    "status %s -> %s (not a move of the policy)", POL.st[s],
					    to);
					resp_free(&r);
					free(b);
					json_decref(o);
				}
				if (!ok(strcmp(cw_status(c.id), POL.st[s]) == 0,
				        "the refused moves from %s left the case in %s", POL.st[s],
				        POL.st[s]))
					diag("status now %s", cw_status(c.id));
			}
			if (k < na) {
				const char *to = POL.st[allowed[k]];
				int closing = strcmp(to, "closed") == 0;
				json_t *o = closing
				    ? json_pack("{s:s, s:s}", "status", to, "closure", "mediation")
				    : json_pack("{s:s}", "status", to);
				char *b = dump(o);
				const json_t *cl;

				cw_post(&r, c.id, "status", b);
				cl = json_object_get(r.json, "closure");
				if (!ok(r.status == 200 && jstr(r.json, "status") &&
				            strcmp(jstr(r.json, "status"), to) == 0 &&
				            (closing ? jstr(r.json, "closure") &&
				                        strcmp(jstr(r.json, "closure"),
				                            "mediation") == 0
				                     : json_is_null(cl)),
				        "status %s -> %s (a move of the policy) -> 200, the summary shows %s%s",
				        POL.st[s], to, to,
				        closing ? " with its closure" : " and closure null"))
					diag_resp(&r);
				if (r.status == 200 &&
				    !ok(summary_ok(r.json, why, sizeof why) &&
				            strcmp(jstr(r.json, "updated"), today) == 0,
				        "the answer to %s -> %s is a full case summary, updated today",
				        POL.st[s], to))
					diag("%s; %.300s", why, r.body);
				resp_free(&r);
				free(b);
				json_decref(o);
			}
		}
	}
	ok(built, "a case can be walked into every status of the policy");
}

static void
test_closures(void)
{
	struct cw c;
	struct resp r;

	if (!ok(case_in(&c, "registration_only", "nl") == 0, "a case in registration_only"))
		return;
	cw_post(&r, c.id, "status", "{\"status\":\"closed\"}");
	expect_error(&r, 400, "missing_field", "closure", "closing without a closure");
	resp_free(&r);
	cw_post(&r, c.id, "status", "{\"status\":\"closed\",\"closure\":null}");
	expect_error(&r, 400, "missing_field", "closure", "closing with closure null");
	resp_free(&r);
	cw_post(&r, c.id, "status", "{\"status\":\"closed\",\"closure\":\"mediated_well\"}");
	expect_error(&r, 400, "invalid_field", "closure", "closing with an unknown closure code");
	resp_free(&r);
	ok(strcmp(cw_status(c.id), "registration_only") == 0,
	    "the refused closings left the case in registration_only");

	if (!ok(case_in(&c, "intake", "nl") == 0, "a case in intake"))
		return;
	cw_post(&r, c.id, "status", "{\"status\":\"in_progress\",\"closure\":\"mediation\"}");
	expect_error(&r, 400, "invalid_field", "closure",
	    "intake -> in_progress with a closure (only closing takes one)");
	resp_free(&r);
	cw_post(&r, c.id, "status", "{\"status\":\"intake\",\"closure\":\"mediation\"}");
	ok(r.status == 400 || r.status == 409, "intake -> intake with a closure -> 400 or 409");
	resp_free(&r);
	ok(strcmp(cw_status(c.id), "intake") == 0, "the case is still in intake");
}

/* created, then one status event per move, the last with its closure; codes only. */
static void
history_of_moves(const struct cw *c, const char *const *path, size_t n)
{
	json_t *h = cw_history(c->id), *ev;
	char today[11], why[256];
	int good = json_array_size(h) == n + 1;

	amsterdam_day(today, 0);
	ev = json_array_get(h, 0);
	good = good && jstr(ev, "type") && !strcmp(jstr(ev, "type"), "created");
	for (size_t i = 0; good && i < n; i++) {
		ev = json_array_get(h, i + 1);
		good = jstr(ev, "type") && !strcmp(jstr(ev, "type"), "status") &&
		    jstr(ev, "status") && !strcmp(jstr(ev, "status"), path[i]) &&
		    jstr(ev, "date") && !strcmp(jstr(ev, "date"), today);
		if (good && strcmp(path[i], "closed") == 0)
			good = jstr(ev, "closure") && !strcmp(jstr(ev, "closure"), "withdrawn");
	}
	if (!ok(good,
	        "the history (%s): created, then a status event {date, status} per move, "
	        "the closing one with its closure",
	        c->lang))
		diag_json("history", h);
	if (!ok(history_codes_only(h, why, sizeof why),
	        "the history holds only codes, ids and "
	        "days (%s)",
	        c->lang))
		diag("%s", why);
	json_decref(h);
}

/* The reporter's follow-up shows each status's label in the report's language. */
static void
test_labels(void)
{
	static const char *const path1[] = { "intake", "in_progress", "referred", "closed" };
	static const char *const path2[] = { "intake", "registration_only" };
	static const char *const langs[] = { "nl", "en" };

	for (int l = 0; l < 2; l++) {
		for (int p = 0; p < 2; p++) {
			const char *const *path = p == 0 ? path1 : path2;
			size_t n = p == 0 ? 4 : 2;
			struct cw c;
			struct resp r;
			char desc[96];

			snprintf(desc, sizeof desc, "casework: labels in %s, path %d", langs[l], p);
			if (!ok(cw_report(&c, langs[l], desc) == 0, "a report in %s", langs[l]))
				continue;
			for (size_t i = 0; i <= n; i++) {
				const char *st = i == 0 ? "received" : path[i - 1];
				const char *want = pol_label(st, langs[l]);

				if (i > 0 &&
				    cw_move(c.id, st,
				        strcmp(st, "closed") == 0 ? "withdrawn" : NULL) != 200) {
					ok(0, "move to %s for the label check", st);
					break;
				}
				if (i == 0 && p == 1)
					continue;
				cw_followup(&r, c.token);
				if (!ok(r.status == 200 && jstr(r.json, "status") && want &&
				            strcmp(jstr(r.json, "status"), st) == 0 &&
				            jstr(r.json, "status_label") &&
				            strcmp(jstr(r.json, "status_label"), want) == 0,
				        "follow-up of a report in %s in status %s: the policy's %s label",
				        langs[l], st, langs[l])) {
					diag("want %s", want ? want : "(policy has none)");
					diag_resp(&r);
				}
				resp_free(&r);
			}
			if (p == 0)
				history_of_moves(&c, path, n);
		}
	}
}

/* --- summaries, lists, filters --------------------------------------------------------------- */

static void
test_summaries(void)
{
	char today[11], why[256], target[256], *esc;
	struct cw a, b;
	struct resp r;
	json_t *c, *h, *e0;
	size_t i, n = 0;
	int bad = 0, bad_due = 0, odd = 0, found = 0, only = 1;

	amsterdam_day(today, 0);
	if (!ok(cw_report(&a, "nl", "casework: summary A") == 0 &&
	            cw_report(&b, "en", "casework: summary B") == 0,
	        "two more web reports"))
		return;
	signed_req(&r, anna, "GET", "/api/v1/cases?limit=500", NULL);
	json_array_foreach(json_object_get(r.json, "cases"), i, c) {
		char due[11];

		n++;
		if (!summary_ok(c, why, sizeof why)) {
			if (bad++ == 0) {
				diag("%s", why);
				diag_json("case", c);
			}
			continue;
		}
		day_add(due, jstr(c, "received"), POL.handling_days);
		if (strcmp(due, jstr(c, "due")) != 0 && bad_due++ == 0)
			diag("received %s, due %s, want %s", jstr(c, "received"), jstr(c, "due"),
			    due);
		if ((json_is_true(json_object_get(c, "overdue")) ||
		        json_is_true(json_object_get(c, "purged"))) &&
		    odd++ == 0)
			diag_json("overdue or purged today", c);
		if (strcmp(jstr(c, "id"), a.id) == 0)
			found = strcmp(jstr(c, "channel"), "web") == 0 &&
			    strcmp(jstr(c, "received"), today) == 0 &&
			    strcmp(jstr(c, "updated"), today) == 0 &&
			    json_is_null(json_object_get(c, "classification")) &&
			    json_is_null(json_object_get(c, "collective")) &&
			    strcmp(jstr(c, "status"), "received") == 0;
	}
	if (!ok(r.status == 200 && n > 0 && bad == 0,
	        "every case in the list has the summary "
	        "fields id, ref, received, updated, status, closure, channel, anonymous, "
	        "classification, collective, due, overdue, purged"))
		diag_resp(&r);
	ok(n > 0 && bad_due == 0, "due = received + handling_days (%d) for every case",
	    POL.handling_days);
	ok(n > 0 && odd == 0, "no case received today is overdue or purged");
	ok(found,
	    "a new web report: channel web, received and updated today, classification "
	    "and collective null, status received");
	resp_free(&r);

	cw_get(&r, a.id);
	h = json_object_get(r.json, "history");
	e0 = json_array_get(h, 0);
	if (!ok(r.status == 200 && summary_ok(r.json, why, sizeof why) &&
	            jstr(r.json, "due") != NULL,
	        "GET /api/v1/cases/{id} has the summary fields"))
		diag("%s %.300s", why, r.body);
	if (!ok(json_array_size(h) == 1 && jstr(e0, "type") &&
	            !strcmp(jstr(e0, "type"), "created") && jstr(e0, "channel") &&
	            !strcmp(jstr(e0, "channel"), "web") && jstr(e0, "date") &&
	            !strcmp(jstr(e0, "date"), today),
	        "a new case's history is one created event "
	        "{date today, channel web}"))
		diag_json("history", h);
	resp_free(&r);

	/* ref= */
	esc = url_escape(b.ref);
	snprintf(target, sizeof target, "/api/v1/cases?ref=%s", esc);
	free(esc);
	signed_req(&r, anna, "GET", target, NULL);
	c = json_array_get(json_object_get(r.json, "cases"), 0);
	if (!ok(r.status == 200 && json_array_size(json_object_get(r.json, "cases")) == 1 &&
	            jstr(c, "id") && strcmp(jstr(c, "id"), b.id) == 0,
	        "GET /api/v1/cases?ref=<ref> -> exactly the case with that reference"))
		diag_resp(&r);
	resp_free(&r);
	signed_req(&r, anna, "GET", "/api/v1/cases?ref=not-a-ref", NULL);
	expect_error(&r, 400, "invalid_field", "ref", "GET /api/v1/cases?ref=not-a-ref");
	resp_free(&r);
	signed_req(&r, anna, "GET", "/api/v1/cases?ground=not_a_ground", NULL);
	expect_error(&r, 400, "invalid_field", "ground", "GET /api/v1/cases?ground=not_a_ground");
	resp_free(&r);
	signed_req(&r, anna, "GET", "/api/v1/cases?collective=AAAAAAAAAAAAAAAAAAAAAA", NULL);
	expect_error(
	    &r, 400, "invalid_field", "collective", "GET /api/v1/cases?collective=<unknown id>");
	resp_free(&r);

	/* status= */
	signed_req(&r, anna, "GET", "/api/v1/cases?status=closed&limit=500", NULL);
	n = 0;
	json_array_foreach(json_object_get(r.json, "cases"), i, c) {
		n++;
		if (!jstr(c, "status") || strcmp(jstr(c, "status"), "closed"))
			only = 0;
	}
	ok(r.status == 200 && n > 0 && only,
	    "GET /api/v1/cases?status=closed lists only closed "
	    "cases (%zu)",
	    n);
	resp_free(&r);

	/* overdue=1: nothing received today is overdue. */
	signed_req(&r, anna, "GET", "/api/v1/cases?overdue=1&limit=500", NULL);
	if (!ok(r.status == 200 && json_is_array(json_object_get(r.json, "cases")) &&
	            json_array_size(json_object_get(r.json, "cases")) == 0,
	        "GET /api/v1/cases?overdue=1 -> no cases while every case was received today"))
		diag_resp(&r);
	resp_free(&r);
}

/* --- overdue, with a case's received day moved back in the stopped server's database ------ */

static void
test_overdue(void)
{
	char old[11], due[11], sql[512], *out;
	struct cw o;
	struct resp r;
	json_t *s, *c;
	size_t i;
	int only = 1, listed = 0, has_due_col;

	if (!ok(cw_report(&o, "nl", "casework: a case that will be overdue") == 0,
	        "a report for "
	        "the overdue check"))
		return;
	amsterdam_day(old, -(POL.handling_days + 12));
	day_add(due, old, POL.handling_days);
	if (!ok(server_stop(5) == 0, "the server stops (to edit its database)"))
		return;
	out = sqlcipher("PRAGMA table_info(cases);");
	has_due_col = out && strstr(out, "|due|") != NULL;
	free(out);
	if (has_due_col)
		snprintf(sql, sizeof sql,
		    "UPDATE cases SET received = '%s', due = '%s' WHERE id = "
		    "'%s'; SELECT changes();",
		    old, due, o.id);
	else
		snprintf(sql, sizeof sql,
		    "UPDATE cases SET received = '%s' WHERE id = '%s'; "
		    "SELECT changes();",
		    old, o.id);
	out = sqlcipher(sql);
	if (!ok(out && strstr(out, "1") != NULL,
	        "sqlcipher moves the case's received day back to "
	        "%s (in the stopped server's database)",
	        old))
		diag("sqlcipher printed %s", out ? out : "(nothing)");
	free(out);
	if (!ok(server_start() == 0, "the server starts again")) {
		printf("Bail out! the server does not restart; see %s\n", I.log);
		exit(1);
	}
	s = cw_list_find("", o.id);
	if (!ok(s && jstr(s, "received") && !strcmp(jstr(s, "received"), old) && jstr(s, "due") &&
	            !strcmp(jstr(s, "due"), due) && json_is_true(json_object_get(s, "overdue")),
	        "a case received %s and not closed: due %s, overdue true", old, due))
		diag_json("summary", s);
	json_decref(s);
	signed_req(&r, anna, "GET", "/api/v1/cases?overdue=1&limit=500", NULL);
	json_array_foreach(json_object_get(r.json, "cases"), i, c) {
		if (jstr(c, "id") && !strcmp(jstr(c, "id"), o.id))
			listed = 1;
		if (!json_is_true(json_object_get(c, "overdue")))
			only = 0;
	}
	if (!ok(r.status == 200 && listed && only,
	        "GET /api/v1/cases?overdue=1 lists it, and only "
	        "overdue cases"))
		diag_resp(&r);
	resp_free(&r);
	if (!ok(cw_walk_to(o.id, "closed") == 0, "the overdue case is closed"))
		return;
	s = cw_list_find("", o.id);
	if (!ok(s && json_is_false(json_object_get(s, "overdue")),
	        "a closed case is not overdue, however old"))
		diag_json("summary", s);
	json_decref(s);
	s = cw_list_find("overdue=1", o.id);
	ok(s == NULL, "GET /api/v1/cases?overdue=1 no longer lists it");
	json_decref(s);
}

/* --- classification ------------------------------------------------------------------------- */

static json_t *
class_with(const char *field, json_t *value)
{
	json_t *o = json_loads(VALID_CLASS, 0, NULL);

	if (value == NULL)
		json_object_del(o, field);
	else
		json_object_set_new(o, field, value);
	return o;
}

static void
classify_expect(
    const char *id, json_t *o, long status, const char *code, const char *field, const char *what)
{
	char *b = dump(o);
	struct resp r;

	cw_post(&r, id, "classification", b);
	if (field == NULL) {
		expect_error(&r, status, code, NULL, "classification: %s", what);
	} else if (!ok(r.status == status && jstr(json_object_get(r.json, "error"), "code") &&
	                   !strcmp(jstr(json_object_get(r.json, "error"), "code"), code) &&
	                   field_is(&r, field),
	               "classification: %s -> %ld %s (field %s)", what, status, code, field)) {
		diag_resp(&r);
	}
	resp_free(&r);
	free(b);
	json_decref(o);
}

static int
has_ground(const json_t *c, const char *g)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(c, "classification"), "grounds"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), g))
			return 1;
	return 0;
}

/* GET ?ground=g: whether id is listed, and whether every listed case has g. */
static void
ground_filter(const char *g, const char *id, int *listed, int *only)
{
	char target[128];
	struct resp r;
	json_t *c;
	size_t i;

	*listed = 0;
	*only = 1;
	snprintf(target, sizeof target, "/api/v1/cases?limit=500&ground=%s", g);
	signed_req(&r, anna, "GET", target, NULL);
	if (r.status != 200) {
		diag_resp(&r);
		*only = 0;
	}
	json_array_foreach(json_object_get(r.json, "cases"), i, c) {
		if (jstr(c, "id") && !strcmp(jstr(c, "id"), id))
			*listed = 1;
		if (!has_ground(c, g))
			*only = 0;
	}
	resp_free(&r);
}

static void
test_classification(void)
{
	static const char *const fields[] = { "grounds", "domain", "manifestation",
		"incident_municipality", "residence_municipality" };
	json_t *want = json_loads(VALID_CLASS, 0, NULL), *h, *ev, *s;
	char today[11], why[256], target[128], unknown[MP_B64U_LEN(16)];
	struct cw k;
	struct resp r;
	uint8_t rb[16];
	size_t i, nclass = 0;
	int listed, only, evok = 0;

	amsterdam_day(today, 0);
	if (!ok(cw_report(&k, "nl", "casework: a case to classify") == 0, "a report to classify")) {
		json_decref(want);
		return;
	}
	cw_post(&r, k.id, "classification", VALID_CLASS);
	if (!ok(r.status == 200 && summary_ok(r.json, why, sizeof why) && jstr(r.json, "id") &&
	            !strcmp(jstr(r.json, "id"), k.id) &&
	            json_equal(json_object_get(r.json, "classification"), want),
	        "POST .../classification (valid) -> 200, the summary with the classification"))
		diag("%s %.300s", why, r.body);
	resp_free(&r);
	s = cw_list_find("", k.id);
	if (!ok(s && json_equal(json_object_get(s, "classification"), want),
	        "the case list shows the classification"))
		diag_json("summary", s);
	json_decref(s);
	h = cw_history(k.id);
	ev = json_array_get(h, json_array_size(h) - 1);
	if (ev && jstr(ev, "type") && !strcmp(jstr(ev, "type"), "classified") && jstr(ev, "date") &&
	    !strcmp(jstr(ev, "date"), today) &&
	    json_equal(json_object_get(ev, "grounds"), json_object_get(want, "grounds"))) {
		evok = 1;
		for (i = 1; i < 5; i++)
			if (!jstr(ev, fields[i]) ||
			    strcmp(jstr(ev, fields[i]), jstr(want, fields[i])))
				evok = 0;
	}
	if (!ok(evok,
	        "the history ends with a classified event {date, grounds, domain, "
	        "manifestation, incident_municipality, residence_municipality}"))
		diag_json("history", h);
	json_decref(h);
	ground_filter("religion", k.id, &listed, &only);
	ok(listed && only,
	    "GET /api/v1/cases?ground=religion lists the case, and only cases with "
	    "that ground");
	ground_filter("age", k.id, &listed, &only);
	ok(!listed && only, "GET /api/v1/cases?ground=age does not list it");

	for (i = 0; i < 5; i++) {
		char what[96];

		snprintf(what, sizeof what, "without %s", fields[i]);
		classify_expect(
		    k.id, class_with(fields[i], NULL), 400, "missing_field", fields[i], what);
	}
	classify_expect(
	    k.id, class_with("domain", json_null()), 400, "missing_field", "domain", "domain null");
	classify_expect(k.id, class_with("grounds", json_pack("[s]", "not_a_ground")), 400,
	    "invalid_field", "grounds", "an unknown ground");
	classify_expect(k.id, class_with("domain", json_string("not_a_domain")), 400,
	    "invalid_field", "domain", "an unknown domain");
	classify_expect(k.id, class_with("domain", json_string("origin")), 400, "invalid_field",
	    "domain", "a ground's code as the domain");
	classify_expect(k.id, class_with("manifestation", json_string("not_a_manifestation")), 400,
	    "invalid_field", "manifestation", "an unknown manifestation");
	classify_expect(k.id, class_with("incident_municipality", json_string("amsterdam")), 400,
	    "invalid_field", "incident_municipality", "an unknown incident_municipality");
	classify_expect(k.id, class_with("residence_municipality", json_string("rotterdam")), 400,
	    "invalid_field", "residence_municipality", "an unknown residence_municipality");
	classify_expect(k.id, class_with("grounds", json_array()), 400, "invalid_field", "grounds",
	    "an empty grounds list");
	classify_expect(k.id, class_with("grounds", json_pack("[s,s]", "origin", "origin")), 400,
	    "invalid_field", "grounds", "a ground twice");
	classify_expect(k.id, class_with("grounds", json_string("origin")), 400, "invalid_field",
	    "grounds", "grounds as a string, not a list");
	classify_expect(k.id, class_with("grounds", json_pack("[i]", 3)), 400, "invalid_field",
	    "grounds", "a number in grounds");
	classify_expect(k.id, class_with("domain", json_integer(1)), 400, "invalid_field", "domain",
	    "a number as the domain");
	classify_expect(k.id, class_with("remarks", json_string("x")), 400, "unknown_field",
	    "remarks", "an unknown field");
	randombytes_buf(rb, sizeof rb);
	b64u(unknown, sizeof unknown, rb, sizeof rb);
	classify_expect(
	    unknown, json_loads(VALID_CLASS, 0, NULL), 404, "not_found", NULL, "an unknown case");
	s = cw_list_find("", k.id);
	h = cw_history(k.id);
	json_array_foreach(h, i, ev)
		nclass += jstr(ev, "type") && !strcmp(jstr(ev, "type"), "classified");
	ok(s && json_equal(json_object_get(s, "classification"), want) && nclass == 1,
	    "the refused classifications changed nothing (classification, one classified event)");
	json_decref(s);
	json_decref(h);

	/* A changed classification: a second event, the filter follows. */
	json_decref(want);
	want = class_with("grounds", json_pack("[s]", "age"));
	json_object_set_new(want, "domain", json_string("labour_market"));
	{
		char *b = dump(want);

		snprintf(target, sizeof target, "/api/v1/cases/%s/classification", k.id);
		signed_req(&r, anna, "POST", target, b);
		free(b);
	}
	ok(r.status == 200 && json_equal(json_object_get(r.json, "classification"), want),
	    "a classification may be changed -> 200 with the new one");
	resp_free(&r);
	h = cw_history(k.id);
	nclass = 0;
	json_array_foreach(h, i, ev)
		nclass += jstr(ev, "type") && !strcmp(jstr(ev, "type"), "classified");
	ev = json_array_get(h, json_array_size(h) - 1);
	if (!ok(nclass == 2 && jstr(ev, "domain") && !strcmp(jstr(ev, "domain"), "labour_market"),
	        "each change is a classified event (two now, the last with the new codes)"))
		diag_json("history", h);
	json_decref(h);
	ground_filter("age", k.id, &listed, &only);
	ok(listed && only, "GET ?ground=age now lists the case");
	ground_filter("religion", k.id, &listed, &only);
	ok(!listed, "GET ?ground=religion no longer lists it");
	json_decref(want);
}

/* --- intake -------------------------------------------------------------------------------- */

static void
new_id(char out[MP_B64U_LEN(16)])
{
	uint8_t b[16];

	randombytes_buf(b, sizeof b);
	b64u(out, MP_B64U_LEN(16), b, sizeof b);
}

/* The report plaintext and its envelope (kind) for case id, sealed to the active keys. */
static json_t *
intake_envelope(const char *kind, const char *id, const char *desc, json_t **pt_out)
{
	struct mp_box_pk rc[64];
	size_t n = active_keys(rc, 64);
	char today[11], *pts;
	json_t *pt, *env;

	amsterdam_day(today, 0);
	pt = json_pack("{s:s, s:s, s:s}", "language", "nl", "description", desc, "received", today);
	pts = dump(pt);
	env = mp_envelope_seal(kind, id, (const uint8_t *)pts, strlen(pts), rc, n);
	free(pts);
	if (pt_out)
		*pt_out = pt;
	else
		json_decref(pt);
	return env;
}

static long
post_intake(struct resp *r, json_t *body)
{
	char *b = dump(body);

	signed_req(r, anna, "POST", "/api/v1/cases", b);
	free(b);
	return r->status;
}

static int
case_exists(const char *id)
{
	struct resp r;
	int e = cw_get(&r, id) == 0;

	resp_free(&r);
	return e;
}

static void
test_intake(void)
{
	static const char *const channels[] = { "phone", "email", "post", "walk_in" };
	char id[MP_B64U_LEN(16)], today[11], year[5], why[256];
	json_t *body, *pt, *env, *want_class = json_loads(VALID_CLASS, 0, NULL), *h;
	struct resp r, g;
	size_t i;

	amsterdam_day(today, 0);
	memcpy(year, today, 4);
	year[4] = '\0';
	for (i = 0; i < 4; i++) {
		const char *key;
		json_t *v, *opened_a, *opened_b;
		int exact = 1;

		new_id(id);
		env = intake_envelope("report", id, "casework: intake by one of the channels", &pt);
		body = json_pack(
		    "{s:s, s:s, s:o}", "id", id, "channel", channels[i], "envelope", env);
		post_intake(&r, body);
		json_object_foreach(r.json, key, v)
			if (strcmp(key, "id") && strcmp(key, "ref") && strcmp(key, "token") &&
			    strcmp(key, "followup_url"))
				exact = 0;
		if (!ok(r.status == 201 && exact && json_object_size(r.json) == 4 &&
		            jstr(r.json, "id") && !strcmp(jstr(r.json, "id"), id) &&
		            jstr(r.json, "ref") && !strncmp(jstr(r.json, "ref"), year, 4) &&
		            json_is_null(json_object_get(r.json, "token")) &&
		            json_is_null(json_object_get(r.json, "followup_url")),
		        "POST /api/v1/cases channel %s -> 201 exactly {id (ours), ref, token null, "
		        "followup_url null}",
		        channels[i]))
			diag_resp(&r);
		resp_free(&r);
		cw_get(&g, id);
		opened_a = open_env(
		    json_object_get(g.json, "report"), id, anna->box_pk, anna->box_sk);
		opened_b = open_env(
		    json_object_get(g.json, "report"), id, bram->box_pk, bram->box_sk);
		h = json_object_get(g.json, "history");
		if (!ok(g.status == 200 && summary_ok(g.json, why, sizeof why) &&
		            !strcmp(jstr(g.json, "channel"), channels[i]) &&
		            !strcmp(jstr(g.json, "status"), "received") &&
		            json_is_true(json_object_get(g.json, "anonymous")) &&
		            json_is_null(json_object_get(g.json, "reporter_box")) &&
		            json_is_null(json_object_get(g.json, "classification")),
		        "the %s case: channel %s, status received, anonymous by default, no reporter_box, "
		        "no classification",
		        channels[i], channels[i]))
			diag("%s %.300s", why, g.body);
		ok(opened_a && json_equal(opened_a, pt) && opened_b && json_equal(opened_b, pt),
		    "Anna and Bram open the %s case's report (sealed by the client for its id)",
		    channels[i]);
		if (!ok(jstr(json_array_get(h, 0), "type") &&
		            !strcmp(jstr(json_array_get(h, 0), "type"), "created") &&
		            jstr(json_array_get(h, 0), "channel") &&
		            !strcmp(jstr(json_array_get(h, 0), "channel"), channels[i]),
		        "its history starts with created {channel %s}", channels[i]))
			diag_json("history", h);
		json_decref(opened_a);
		json_decref(opened_b);
		resp_free(&g);
		json_decref(pt);
		json_decref(body);
	}

	/* With a follow-up token, a classification, named, in English. */
	new_id(id);
	env = intake_envelope("report", id, "casework: intake with a follow-up token", NULL);
	body = json_pack("{s:s, s:s, s:o, s:s, s:b, s:b, s:O}", "id", id, "channel", "phone",
	    "envelope", env, "language", "en", "anonymous", 0, "followup", 1, "classification",
	    want_class);
	post_intake(&r, body);
	json_decref(body);
	{
		const char *tok = jstr(r.json, "token"), *url = jstr(r.json, "followup_url");
		char want_url[256], box[MP_B64U_LEN(32)], *msg;
		uint8_t t[MP_TOKEN_BYTES], rpk[32], rsk[32];
		int parsed = tok && mp_token_parse(t, tok, strlen(tok)) == 0;
		struct resp f;

		snprintf(want_url, sizeof want_url, "%s/f#%s", I.base, tok ? tok : "");
		if (!ok(r.status == 201 && parsed && url && !strcmp(url, want_url),
		        "intake with followup true -> 201 with a well-formed token and followup_url "
		        "<public URL>/f#<token>"))
			diag_resp(&r);
		if (!parsed) {
			resp_free(&r);
			json_decref(want_class);
			return;
		}
		if (mp_token_reporter_keypair(rpk, rsk, t) != 0)
			memset(rpk, 0, sizeof rpk);
		b64u(box, sizeof box, rpk, 32);
		cw_followup(&f, tok);
		if (!ok(f.status == 200 && jstr(f.json, "status") &&
		            !strcmp(jstr(f.json, "status"), "received") &&
		            jstr(f.json, "status_label") && pol_label("received", "en") &&
		            !strcmp(jstr(f.json, "status_label"), pol_label("received", "en")) &&
		            json_array_size(json_object_get(f.json, "messages")) == 0,
		        "the intake token works on POST /api/v1/followup: received, English label"))
			diag_resp(&f);
		resp_free(&f);
		cw_get(&g, id);
		if (!ok(g.status == 200 && json_is_false(json_object_get(g.json, "anonymous")) &&
		            jstr(g.json, "reporter_box") &&
		            !strcmp(jstr(g.json, "reporter_box"), box) &&
		            json_equal(json_object_get(g.json, "classification"), want_class) &&
		            jstr(g.json, "channel") && !strcmp(jstr(g.json, "channel"), "phone"),
		        "the case: anonymous false, reporter_box from the token, the classification given"))
			diag_resp(&g);
		resp_free(&g);
		msg = envelope_body(seal_item("message", id,
		    "casework: an answer to a phone "
		    "reporter",
		    rpk));
		cw_post(&g, id, "messages", msg);
		free(msg);
		ok(g.status == 201, "a message to the intake case's reporter -> 201");
		resp_free(&g);
		cw_followup(&f, tok);
		if (!ok(json_array_size(json_object_get(f.json, "messages")) == 1 &&
		            jstr(json_array_get(json_object_get(f.json, "messages"), 0), "text") &&
		            !strcmp(jstr(json_array_get(json_object_get(f.json, "messages"), 0),
		                        "text"),
		                "casework: an answer to a phone reporter"),
		        "the phone reporter reads it through the follow-up"))
			diag_resp(&f);
		resp_free(&f);
		sodium_memzero(rsk, sizeof rsk);
	}
	resp_free(&r);

	/* The same id again. */
	env = intake_envelope("report", id, "casework: intake, the id again", NULL);
	body = json_pack("{s:s, s:s, s:o}", "id", id, "channel", "post", "envelope", env);
	post_intake(&r, body);
	expect_error(&r, 409, "conflict", NULL, "intake with an id already in use");
	resp_free(&r);
	json_decref(body);
	cw_get(&g, id);
	ok(jstr(g.json, "channel") && !strcmp(jstr(g.json, "channel"), "phone"),
	    "the case with that id is unchanged (channel phone)");
	resp_free(&g);

	/* Without a language: the follow-up speaks Dutch. */
	new_id(id);
	env = intake_envelope("report", id, "casework: intake without a language", NULL);
	body = json_pack(
	    "{s:s, s:s, s:o, s:b}", "id", id, "channel", "walk_in", "envelope", env, "followup", 1);
	post_intake(&r, body);
	json_decref(body);
	if (r.status == 201 && jstr(r.json, "token")) {
		struct resp f;

		cw_followup(&f, jstr(r.json, "token"));
		if (!ok(f.status == 200 && jstr(f.json, "status_label") &&
		            pol_label("received", "nl") &&
		            !strcmp(jstr(f.json, "status_label"), pol_label("received", "nl")),
		        "intake without a language: the follow-up label is Dutch (language defaults to nl)"))
			diag_resp(&f);
		resp_free(&f);
	} else {
		ok(0, "intake with followup true and no language -> 201 with a token");
		diag_resp(&r);
	}
	resp_free(&r);

	/* Refusals: each stores nothing. */
	{
		struct {
			const char *what, *channel, *kind, *drop, *code, *field;
			json_t *extra;
			const char *extra_key;
		} bad[] = {
			{ "channel web", "web", "report", NULL, "invalid_field", "channel", NULL,
			    NULL },
			{ "an unknown channel", "fax", "report", NULL, "invalid_field", "channel",
			    NULL, NULL },
			{ "no channel", NULL, "report", NULL, "missing_field", "channel", NULL,
			    NULL },
			{ "no envelope", "phone", NULL, NULL, "missing_field", "envelope", NULL,
			    NULL },
			{ "no id", "phone", "report", "id", "missing_field", "id", NULL, NULL },
			{ "an envelope of kind message", "phone", "message", NULL, "invalid_field",
			    "envelope", NULL, NULL },
			{ "an envelope of kind note", "phone", "note", NULL, "invalid_field",
			    "envelope", NULL, NULL },
			{ "a malformed envelope (short nonce)", "phone", "bad-nonce", NULL,
			    "invalid_field", "envelope", NULL, NULL },
			{ "a malformed envelope (no recipients)", "phone", "no-recipients", NULL,
			    "invalid_field", "envelope", NULL, NULL },
			{ "an unknown language", "phone", "report", NULL, "invalid_field",
			    "language", json_string("xx"), "language" },
			{ "followup not a boolean", "phone", "report", NULL, "invalid_field",
			    "followup", json_string("yes"), "followup" },
			{ "an invalid classification", "phone", "report", NULL, "invalid_field",
			    "classification",
			    json_pack("{s:[s], s:s, s:s, s:s, s:s}", "grounds", "origin", "domain",
			        "nope", "manifestation", "refusal", "incident_municipality",
			        "leiden", "residence_municipality", "leiden"),
			    "classification" },
			{ "a plaintext field", "phone", "report", NULL, "unknown_field",
			    "description", json_string("CANARY-INTAKE-PLAINTEXT-4b1e"),
			    "description" },
		};

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			new_id(id);
			body = json_object();
			if (bad[i].drop == NULL)
				json_object_set_new(body, "id", json_string(id));
			if (bad[i].channel)
				json_object_set_new(body, "channel", json_string(bad[i].channel));
			if (bad[i].kind) {
				const char *k = bad[i].kind;
				int mangle = !strcmp(k, "bad-nonce") || !strcmp(k, "no-recipients");

				env = intake_envelope(
				    mangle ? "report" : k, id, "casework: refused intake", NULL);
				if (!strcmp(k, "bad-nonce"))
					json_object_set_new(env, "nonce", json_string("AAAA"));
				if (!strcmp(k, "no-recipients"))
					json_object_set_new(env, "recipients", json_array());
				json_object_set_new(body, "envelope", env);
			}
			if (bad[i].extra)
				json_object_set_new(body, bad[i].extra_key, bad[i].extra);
			post_intake(&r, body);
			if (!ok(r.status == 400 && jstr(json_object_get(r.json, "error"), "code") &&
			            !strcmp(jstr(json_object_get(r.json, "error"), "code"),
			                bad[i].code) &&
			            field_is(&r, bad[i].field),
			        "intake with %s -> 400 %s (field %s)", bad[i].what, bad[i].code,
			        bad[i].field))
				diag_resp(&r);
			resp_free(&r);
			json_decref(body);
			if (bad[i].drop == NULL)
				ok(!case_exists(id), "intake with %s stored no case", bad[i].what);
		}
	}
	json_decref(want_class);
}

/* --- notes ------------------------------------------------------------------------------------ */

static void
test_notes(void)
{
	const char *note = "casework: an internal note, CANARY-NOTE-CW-77a1";
	char today[11], *b;
	struct cw c;
	struct resp r;
	json_t *m, *e, *o;
	size_t i;
	int found = 0;

	amsterdam_day(today, 0);
	if (!ok(cw_report(&c, "nl", "casework: a case with a note") == 0, "a report for a note"))
		return;
	b = envelope_body(seal_item("note", c.id, note, NULL));
	cw_post(&r, c.id, "messages", b);
	free(b);
	if (!ok(r.status == 201 && jstr(r.json, "id"),
	        "a note sealed to the caseworkers (not the "
	        "reporter) -> 201 {id}"))
		diag_resp(&r);
	resp_free(&r);
	cw_get(&r, c.id);
	json_array_foreach(json_object_get(r.json, "messages"), i, m) {
		e = json_object_get(m, "envelope");
		if (!jstr(e, "kind") || strcmp(jstr(e, "kind"), "note"))
			continue;
		o = open_env(e, c.id, bram->box_pk, bram->box_sk);
		found = jstr(m, "from") && !strcmp(jstr(m, "from"), "caseworker") &&
		    jstr(m, "date") && !strcmp(jstr(m, "date"), today) && o && jstr(o, "text") &&
		    !strcmp(jstr(o, "text"), note);
		json_decref(o);
	}
	if (!ok(found,
	        "the case's messages hold the note: from caseworker, today, envelope kind "
	        "note, which Bram opens"))
		diag_resp(&r);
	resp_free(&r);
	cw_followup(&r, c.token);
	if (!ok(r.status == 200 && json_array_size(json_object_get(r.json, "messages")) == 0 &&
	            !strstr(r.body, "CANARY-NOTE-CW"),
	        "the reporter's follow-up never shows the note"))
		diag_resp(&r);
	resp_free(&r);
}

/* --- roles, signatures, body limits on the new routes --------------------------------------- */

static void
test_roles_and_limits(void)
{
	char t_class[160], t_recip[160], unknown[MP_B64U_LEN(16)], *big;
	struct cw c;
	struct resp r;
	uint8_t rb[16];
	const struct {
		const char *method, *target, *body;
	} routes[] = {
		{ "POST", t_class, NULL },
		{ "POST", "/api/v1/cases", "{\"id\":\"x\",\"channel\":\"phone\"}" },
		{ "GET", "/api/v1/collectives", NULL },
		{ "POST", "/api/v1/collectives", "{\"name\":\"from an auditor\"}" },
		{ "GET", t_recip, NULL },
		{ "POST", "/api/v1/recipients", "{\"items\":[]}" },
	};

	if (!ok(cw_report(&c, "nl", "casework: roles") == 0, "a report for the role checks"))
		return;
	snprintf(t_class, sizeof t_class, "/api/v1/cases/%s/classification", c.id);
	snprintf(t_recip, sizeof t_recip, "/api/v1/recipients?missing=%s", kid_of(anna->box_pk));
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *body = routes[i].body
		    ? routes[i].body
		    : (routes[i].method[0] == 'P' ? VALID_CLASS : NULL);

		signed_req(&r, carla, routes[i].method, routes[i].target, body);
		expect_error(&r, 403, "forbidden", NULL, "%s %.40s signed by the auditor",
		    routes[i].method, routes[i].target);
		resp_free(&r);
		signed_req(&r, mallory, routes[i].method, routes[i].target, body);
		expect_error(&r, 401, "unauthorized", NULL,
		    "%s %.40s signed by an unregistered key", routes[i].method, routes[i].target);
		resp_free(&r);
		if (body)
			http_json(&r, routes[i].method, routes[i].target, body);
		else
			http_get(&r, routes[i].target);
		expect_error(&r, 401, "unauthorized", NULL, "%s %.40s unsigned", routes[i].method,
		    routes[i].target);
		resp_free(&r);
	}
	{
		json_t *s = cw_list_find("", c.id);

		ok(s && json_is_null(json_object_get(s, "classification")),
		    "the refused classifications changed nothing");
		json_decref(s);
	}
	big = big_json("envelope", 128 * 1024 + 1);
	signed_req(&r, anna, "POST", "/api/v1/cases", big);
	expect_error(&r, 413, "too_large", NULL, "intake body of 128 KiB + 1");
	resp_free(&r);
	free(big);
	big = big_json("domain", 1024 * 1024 + 1);
	signed_req(&r, anna, "POST", t_class, big);
	expect_error(&r, 413, "too_large", NULL, "classification body of 1 MiB + 1");
	resp_free(&r);
	free(big);
	big = big_json("items", 16 * 1024 * 1024 + 1);
	signed_req(&r, anna, "POST", "/api/v1/recipients", big);
	expect_error(&r, 413, "too_large", NULL, "POST /api/v1/recipients body of 16 MiB + 1");
	resp_free(&r);
	free(big);
	randombytes_buf(rb, sizeof rb);
	b64u(unknown, sizeof unknown, rb, sizeof rb);
	{
		json_t *add = json_array(), *o;
		char *b;

		for (int i = 0; i < 20001; i++) {
			char id[MP_B64U_LEN(16)];

			randombytes_buf(rb, sizeof rb);
			b64u(id, sizeof id, rb, sizeof rb);
			json_array_append_new(add,
			    json_pack("{s:s, s:[{s:s, s:s}]}", "item", id, "add", "kid",
			        kid_of(bram->box_pk), "sealed",
			        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
		}
		o = json_pack("{s:o}", "items", add);
		b = dump(o);
		signed_req(&r, anna, "POST", "/api/v1/recipients", b);
		expect_error(&r, 400, "invalid_field", "items",
		    "POST /api/v1/recipients with 20,001 "
		    "items (at most 20,000)");
		resp_free(&r);
		free(b);
		json_decref(o);
	}
}

void
test_casework(void)
{
	if (!ok(pol_load() == 0,
	        "the instance's policy file is readable (statuses, transitions, "
	        "handling_days)"))
		return;
	test_transitions();
	test_closures();
	test_labels();
	test_summaries();
	test_overdue();
	test_classification();
	test_intake();
	test_notes();
	test_roles_and_limits();
}
