/*
 * Input validation of POST /api/v1/reports: every rejection has its status,
 * code and field, and stores nothing (the caseworker's case count stays).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int count; /* the cases Anna sees, as the tests expect it */
static unsigned serial;

/* Send a report body as is, with the content type. */
static void
send_raw(struct resp *r, const char *ctype, const char *body, size_t len)
{
	struct req q = { "POST", "/api/v1/reports", ctype, body, len, NULL };

	http(r, &q);
}

/* The count did not move. */
static void
nothing_stored(const char *name)
{
	int now = case_count();

	if (!ok(count >= 0 && now == count, "%s: nothing stored", name))
		diag("case count %d before, %d after", count, now);
	if (now >= 0)
		count = now;
}

/* One rejected body: the error, and nothing stored. */
static void
reject(const char *name, const char *ctype, const char *body, size_t len, long status,
    const char *code, const char *field)
{
	struct resp r;

	send_raw(&r, ctype, body, len);
	expect_error(&r, status, code, field, "report %s", name);
	resp_free(&r);
	nothing_stored(name);
}

static void
reject_json(const char *name, const char *body, long status, const char *code, const char *field)
{
	reject(name, "application/json", body, strlen(body), status, code, field);
}

/* A report whose description is unique, with one more member (a JSON text) or none. */
static char *
with(const char *member)
{
	char *s;

	if (asprintf(&s, "{\"description\":\"CANARY-DESCRIPTION-7f3a validation %u\"%s%s}",
	        ++serial, member ? "," : "", member ? member : "") < 0)
		abort();
	return s;
}

static void
reject_with(const char *name, const char *member, const char *code, const char *field)
{
	char *b = with(member);

	reject_json(name, b, 400, code, field);
	free(b);
}

/* An accepted body: 201 and one more case. */
static int
accept_obj(const char *name, json_t *o)
{
	struct resp r;
	int idx = submit_report(&r, o), now;

	if (!ok(r.status == 201 && idx >= 0, "report %s -> 201", name))
		diag_resp(&r);
	resp_free(&r);
	now = case_count();
	if (idx >= 0 && !ok(count >= 0 && now == count + 1, "report %s: stored once", name))
		diag("case count %d before, %d after", count, now);
	if (now >= 0)
		count = now;
	return idx;
}

/* An accepted raw application/json body: 201 and one more case. */
static void
accept_raw(const char *name, const char *body, size_t len)
{
	struct resp r;
	int now, accepted;

	send_raw(&r, "application/json", body, len);
	accepted = r.status == 201;
	if (!ok(accepted, "report %s -> 201", name))
		diag_resp(&r);
	resp_free(&r);
	now = case_count();
	if (accepted && !ok(count >= 0 && now == count + 1, "report %s: stored once", name))
		diag("case count %d before, %d after", count, now);
	if (now >= 0)
		count = now;
}

static void
accept_ctype(const char *ctype)
{
	struct resp r;
	char *b = with(NULL);
	int now;

	send_raw(&r, ctype, b, strlen(b));
	if (!ok(r.status == 201, "report with Content-Type \"%s\" -> 201", ctype))
		diag_resp(&r);
	resp_free(&r);
	free(b);
	now = case_count();
	if (now >= 0)
		count = now;
}

void
test_validation(void)
{
	char day[11], *big, *s, *b;
	struct resp r;
	json_t *o;
	size_t n;

	count = case_count();
	if (!ok(count >= 2, "Anna's case list counts the reports so far"))
		return;

	/* description */
	reject_json(
	    "without description", "{\"language\":\"nl\"}", 400, "missing_field", "description");
	reject_json("{}", "{}", 400, "missing_field", "description");
	reject_json("with an empty description", "{\"description\":\"\"}", 400, "invalid_field",
	    "description");
	reject_json("with a numeric description", "{\"description\":42}", 400, "invalid_field",
	    "description");
	s = repeat("a", 10001);
	o = json_pack("{s:s}", "description", s);
	b = dump(o);
	reject_json(
	    "with a description of 10001 code points", b, 400, "invalid_field", "description");
	free(b);
	json_decref(o);
	free(s);
	s = repeat("\xc3\xa9", 10000);
	o = json_pack("{s:s}", "description", s);
	accept_obj("with a description of 10000 code points \"\xc3\xa9\" (20000 bytes)", o);
	json_decref(o);
	free(s);
	s = repeat("\xf0\x9f\x98\x80", 10000);
	o = json_pack("{s:s}", "description", s);
	accept_obj("with a description of 10000 four-byte code points (40000 bytes)", o);
	json_decref(o);
	free(s);

	/* 10000 astral code points as surrogate-pair escapes: 120 KiB of JSON, within the limit. */
	s = repeat("\\ud83d\\ude00", 10000);
	if (asprintf(&b, "{\"description\":\"%s\",\"location\":\"CANARY-LOCATION-91c2 escaped\"}",
	        s) < 0)
		abort();
	accept_raw("with a description of 10000 escaped surrogate pairs (120 KiB)", b, strlen(b));
	free(b);
	free(s);

	/* the JSON itself */
	reject_with("with an unknown field", "\"colour\":\"red\"", "unknown_field", "colour");
	reject_json("with a duplicate key",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a dup\",\"description\":\"b\"}", 400,
	    "invalid_json", NULL);
	reject_with("nested deeper than 8", "\"grounds\":[[[[[[[[[[\"origin\"]]]]]]]]]]",
	    "invalid_json", NULL);
	reject_json("that is an array", "[{\"description\":\"x\"}]", 400, "invalid_json", NULL);
	reject_json("that is a string", "\"description\"", 400, "invalid_json", NULL);
	reject_json("that is malformed JSON", "{\"description\": \"x\"", 400, "invalid_json", NULL);
	reject_json("that is empty", "", 400, "invalid_json", NULL);
	reject_json("with invalid UTF-8 bytes (ff fe) in a string",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a bad \xff\xfe bytes\"}", 400,
	    "invalid_field", "description");
	reject_json("with an overlong UTF-8 sequence (c0 af) in a string",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a overlong \xc0\xaf\"}", 400, "invalid_field",
	    "description");
	reject_json("with UTF-8-encoded surrogate bytes (ed a0 80) in a string",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a surrogate \xed\xa0\x80\"}", 400,
	    "invalid_field", "description");
	/* An invalid byte escaped by a backslash is malformed, not the text "\\u0000". */
	reject_json("with an invalid byte (ff) after a backslash in a string",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a escaped \\\xff\"}", 400, "invalid_json",
	    NULL);
	reject_json("with an invalid byte (ff) after an escaped backslash in a string",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a escaped \\\\\xff\"}", 400, "invalid_field",
	    "description");
	/* An unknown key is quoted in the answer, cut to fit: never inside a character. */
	reject_with("with an unknown key of 62 letters and two two-byte characters",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9\":1",
	    "unknown_field", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?");
	reject_json("with an invalid byte in a string under a long key of two-byte characters",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a\",\"contact\":{"
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\":\"bad \xff\"}}",
	    400, "invalid_field",
	    "contact.\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9?");
	reject_json("with \\u0000 in the description",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a nul \\u0000 here\"}", 400, "invalid_field",
	    "description");

	/* dates */
	amsterdam_day(day, 2);
	if (asprintf(&s, "\"occurred_on\":\"%s\"", day) < 0)
		abort();
	reject_with("with occurred_on the day after tomorrow", s, "invalid_field", "occurred_on");
	free(s);
	reject_with("with occurred_on 2026-02-30", "\"occurred_on\":\"2026-02-30\"",
	    "invalid_field", "occurred_on");
	reject_with("with occurred_on \"yesterday\"", "\"occurred_on\":\"yesterday\"",
	    "invalid_field", "occurred_on");

	/* codes from the policy */
	reject_with("with an unknown ground", "\"grounds\":[\"origin\",\"martian\"]",
	    "invalid_field", "grounds");
	reject_with(
	    "with grounds not an array", "\"grounds\":\"origin\"", "invalid_field", "grounds");
	reject_with("with an unknown domain", "\"domain\":\"the_moon\"", "invalid_field", "domain");
	reject_with("with an unknown manifestation", "\"manifestation\":\"telepathy\"",
	    "invalid_field", "manifestation");
	reject_with("with an unknown incident municipality",
	    "\"incident_municipality\":\"atlantis\"", "invalid_field", "incident_municipality");
	reject_with("with an unknown residence municipality",
	    "\"residence_municipality\":\"gotham\"", "invalid_field", "residence_municipality");
	reject_with("with role \"boss\"", "\"role\":\"boss\"", "invalid_field", "role");
	reject_with("with wish \"revenge\"", "\"wish\":\"revenge\"", "invalid_field", "wish");
	reject_with("with an unknown language", "\"language\":\"xx\"", "invalid_field", "language");

	/* lengths of the free-text fields */
	s = repeat("x", 201);
	if (asprintf(&b, "\"location\":\"%s\"", s) < 0)
		abort();
	reject_with("with a location of 201 chars", b, "invalid_field", "location");
	free(b);
	if (asprintf(&b, "\"counterparty\":\"%s\"", s) < 0)
		abort();
	reject_with("with a counterparty of 201 chars", b, "invalid_field", "counterparty");
	free(b);
	free(s);
	s = repeat("\xc3\xa9", 200);
	b = with(NULL);
	o = json_loads(b, 0, NULL);
	json_object_set_new(o, "location", json_string(s));
	accept_obj("with a location of 200 code points \"\xc3\xa9\"", o);
	json_decref(o);
	free(b);
	free(s);

	/* contact */
	reject_with("with contact.email \"not-an-email\"",
	    "\"contact\":{\"email\":\"not-an-email\"}", "invalid_field", "contact.email");
	reject_with("with contact.preferred phone and no phone",
	    "\"contact\":{\"email\":\"someone@example.org\",\"preferred\":\"phone\"}",
	    "invalid_field", "contact.preferred");
	reject_with("with contact.preferred \"pigeon\"",
	    "\"contact\":{\"email\":\"someone@example.org\",\"preferred\":\"pigeon\"}",
	    "invalid_field", "contact.preferred");
	reject_with("with an unknown field in contact",
	    "\"contact\":{\"name\":\"A\",\"fax\":\"1\"}", "unknown_field", "contact.fax");
	s = repeat("n", 101);
	if (asprintf(&b, "\"contact\":{\"name\":\"%s\"}", s) < 0)
		abort();
	reject_with("with a contact name of 101 chars", b, "invalid_field", "contact.name");
	free(b);
	free(s);
	reject_with("with a contact phone of 33 chars",
	    "\"contact\":{\"phone\":\"012345678901234567890123456789012\"}", "invalid_field",
	    "contact.phone");
	reject_with("with contact a string", "\"contact\":\"me\"", "invalid_field", "contact");

	/* content types */
	b = with(NULL);
	reject("with Content-Type text/plain", "text/plain", b, strlen(b), 415,
	    "unsupported_media_type", NULL);
	reject("with Content-Type application/json; charset=latin1",
	    "application/json; charset=latin1", b, strlen(b), 415, "unsupported_media_type", NULL);
	reject("with Content-Type application/x-www-form-urlencoded",
	    "application/x-www-form-urlencoded", b, strlen(b), 415, "unsupported_media_type", NULL);
	free(b);
	accept_ctype("application/json; charset=utf-8");
	accept_ctype("application/json;charset=UTF-8");
	accept_ctype("Application/JSON");

	/* size: 128 KiB is the report route's limit */
	n = 128 * 1024 + 1;
	big = malloc(n + 1);
	memset(big, 'a', n);
	memcpy(big, "{\"description\":\"", 16);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	reject("of 128 KiB + 1 byte", "application/json", big, n, 413, "too_large", NULL);
	/* Exactly 128 KiB (a small report and white space) is within the limit. */
	b = with(NULL);
	memset(big, ' ', n);
	memcpy(big, b, strlen(b));
	accept_raw("of exactly 128 KiB (padded with white space)", big, n - 1);
	free(b);
	free(big);

	/* method and path */
	http_get(&r, "/api/v1/reports");
	expect_error(&r, 405, "method_not_allowed", NULL, "GET /api/v1/reports");
	if (!ok(resp_header(&r, "Allow") != NULL,
	        "405 names the allowed methods in Allow "
	        "(RFC 9110 15.5.6)"))
		diag_resp(&r);
	resp_free(&r);
	{
		struct req q = { "DELETE", "/api/v1/followup", NULL, NULL, 0, NULL };

		http(&r, &q);
		expect_error(&r, 405, "method_not_allowed", NULL, "DELETE /api/v1/followup");
		resp_free(&r);
	}
	b = with(NULL);
	{
		struct req q = { "PUT", "/api/v1/reports", "application/json", b, strlen(b), NULL };

		http(&r, &q);
		expect_error(&r, 405, "method_not_allowed", NULL, "PUT /api/v1/reports");
		resp_free(&r);
	}
	nothing_stored("PUT /api/v1/reports");
	http_json(&r, "POST", "/api/v1/reports/extra", b);
	expect_error(&r, 404, "not_found", NULL, "POST /api/v1/reports/extra (unknown path)");
	resp_free(&r);
	free(b);
	nothing_stored("POST /api/v1/reports/extra");
	http_get(&r, "/api/v1/no-such-thing");
	expect_error(&r, 404, "not_found", NULL, "GET /api/v1/no-such-thing (unknown path)");
	resp_free(&r);

	/* anonymous: no contact, null or {} */
	o = json_loads(
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a contact null\",\"contact\":null}", 0, NULL);
	accept_obj("with \"contact\": null", o);
	json_decref(o);
	o = json_loads(
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a contact empty\",\"contact\":{}}", 0, NULL);
	accept_obj("with \"contact\": {}", o);
	json_decref(o);
}
