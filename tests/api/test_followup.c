/* The reporter's follow-up: status, label in the report's language, messages. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mp_b64.h"

#define REPORTER_MSG "CANARY-REPORTER-MESSAGE-2e6b: did you read my report?"

static void
post_message(struct resp *r, const char *token, const char *text)
{
	json_t *o = json_pack("{s:s, s:s}", "token", token, "text", text);
	char *b = dump(o);

	http_json(r, "POST", "/api/v1/followup/messages", b);
	free(b);
	json_decref(o);
}

/* The status label the follow-up answer gives for a token, or NULL (caller frees). */
static char *
label_of(const char *token)
{
	struct resp r;
	char *l = NULL;

	if (followup(&r, token) == 0 && r.status == 200 && jstr(r.json, "status_label"))
		l = strdup(jstr(r.json, "status_label"));
	resp_free(&r);
	return l;
}

void
test_followup(void)
{
	char today[11], typed[64], bad[MP_TOKEN_TEXT_LEN + 1], unknown[MP_TOKEN_TEXT_LEN + 1];
	uint8_t t[MP_TOKEN_BYTES];
	const json_t *msgs, *m;
	char *s, *b, *l_en, *l_nl;
	struct resp r;
	json_t *o;
	size_t i, j, n;
	int idx, good;

	if (NSUBS < 2) {
		ok(0, "follow-up tests need the two reports of test_reports");
		return;
	}
	amsterdam_day(today, 0);

	followup(&r, SUBS[0].token);
	msgs = json_object_get(r.json, "messages");
	good = r.status == 200 && jstr(r.json, "status") &&
	    !strcmp(jstr(r.json, "status"), "received") && jstr(r.json, "status_label") &&
	    strlen(jstr(r.json, "status_label")) > 0 && json_is_array(msgs) &&
	    json_array_size(msgs) == 0;
	if (!ok(good, "follow-up {\"token\"} -> 200 status received, a status_label, messages []"))
		diag_resp(&r);
	if (!ok(jstr(r.json, "updated") && strcmp(jstr(r.json, "updated"), today) == 0,
	        "follow-up updated is today in Europe/Amsterdam"))
		diag("want %s; got %.200s", today, r.body);
	resp_free(&r);

	/* As a person types it: lower case, spaces for dashes, O for 0 and l for 1. */
	for (i = j = 0; SUBS[0].token[i] && j + 1 < sizeof typed; i++) {
		char c = SUBS[0].token[i];

		typed[j++] = c == '-' ? ' '
		    : c == '0'        ? 'o'
		    : c == '1'        ? 'l'
		                      : (char)tolower((unsigned char)c);
	}
	typed[j] = '\0';
	followup(&r, typed);
	if (!ok(r.status == 200 && jstr(r.json, "status") &&
	            !strcmp(jstr(r.json, "status"), "received"),
	        "follow-up with the token typed in lower case, spaces, o for 0, l for 1 "
	        "-> 200"))
		diag("sent \"%s\"; got %ld %.200s", typed, r.status, r.body);
	resp_free(&r);

	followup(&r, "ABCD-EFGH-JKMN");
	expect_error(&r, 400, "token_malformed", NULL, "follow-up with a short token");
	resp_free(&r);
	snprintf(bad, sizeof bad, "%s", SUBS[0].token);
	bad[MP_TOKEN_TEXT_LEN - 1] = bad[MP_TOKEN_TEXT_LEN - 1] == 'Z' ? 'Y' : 'Z';
	followup(&r, bad);
	expect_error(&r, 400, "token_malformed", NULL, "follow-up with a wrong check symbol");
	resp_free(&r);
	snprintf(bad, sizeof bad, "%s", SUBS[0].token);
	bad[0] = 'U';
	followup(&r, bad);
	expect_error(&r, 400, "token_malformed", NULL, "follow-up with a U (not Crockford)");
	resp_free(&r);
	mp_token_new(t);
	mp_token_format(unknown, t);
	followup(&r, unknown);
	expect_error(&r, 404, "token_unknown", NULL, "follow-up with a well-formed unknown token");
	resp_free(&r);
	http_json(&r, "POST", "/api/v1/followup", "{}");
	expect_error(&r, 400, "missing_field", "token", "follow-up without token");
	resp_free(&r);
	if (asprintf(&b, "{\"token\":\"%s\",\"case\":\"x\"}", SUBS[0].token) < 0)
		abort();
	http_json(&r, "POST", "/api/v1/followup", b);
	expect_error(&r, 400, "unknown_field", "case", "follow-up with an unknown field");
	resp_free(&r);
	free(b);

	/* The reporter writes. */
	canary_add(CANARY_TEXT, "CANARY-REPORTER-MESSAGE-2e6b");
	post_message(&r, SUBS[1].token, REPORTER_MSG);
	if (!ok(r.status == 201 && json_is_object(r.json) && json_object_size(r.json) == 0,
	        "follow-up message {\"token\",\"text\"} -> 201 {}"))
		diag_resp(&r);
	resp_free(&r);
	followup(&r, SUBS[1].token);
	msgs = json_object_get(r.json, "messages");
	m = json_array_get(msgs, 0);
	if (!ok(r.status == 200 && json_array_size(msgs) == 1 && jstr(m, "from") &&
	            !strcmp(jstr(m, "from"), "reporter") && jstr(m, "text") &&
	            !strcmp(jstr(m, "text"), REPORTER_MSG) && jstr(m, "date") &&
	            !strcmp(jstr(m, "date"), today),
	        "follow-up shows the reporter's own message (from reporter, date, text)"))
		diag_resp(&r);
	resp_free(&r);

	post_message(&r, SUBS[0].token, "");
	expect_error(&r, 400, "invalid_field", "text", "follow-up message with empty text");
	resp_free(&r);
	s = repeat("m", 10001);
	post_message(&r, SUBS[0].token, s);
	expect_error(&r, 400, "invalid_field", "text", "follow-up message of 10001 chars");
	resp_free(&r);
	free(s);
	/* jansson refuses to build invalid UTF-8, so this body is written by hand. */
	if (asprintf(&b, "{\"token\":\"%s\",\"text\":\"invalid \xff UTF-8\"}", SUBS[0].token) < 0)
		abort();
	http_json(&r, "POST", "/api/v1/followup/messages", b);
	free(b);
	expect_error(&r, 400, "invalid_field", "text", "follow-up message with invalid UTF-8");
	resp_free(&r);
	post_message(&r, unknown, "CANARY-REPORTER-MESSAGE-2e6b to nobody");
	expect_error(&r, 404, "token_unknown", NULL, "follow-up message with an unknown token");
	resp_free(&r);
	post_message(&r, "not a token", "CANARY-REPORTER-MESSAGE-2e6b to nobody");
	expect_error(&r, 400, "token_malformed", NULL, "follow-up message with a malformed token");
	resp_free(&r);
	n = 128 * 1024 + 1;
	s = malloc(n + 1);
	memset(s, 'm', n);
	j = (size_t)snprintf(s, n, "{\"token\":\"%s\",\"text\":\"", SUBS[0].token);
	s[j] = 'm';
	memcpy(s + n - 2, "\"}", 2);
	s[n] = '\0';
	http_json(&r, "POST", "/api/v1/followup/messages", s);
	expect_error(&r, 413, "too_large", NULL, "follow-up message body of 128 KiB + 1");
	resp_free(&r);
	free(s);
	followup(&r, SUBS[0].token);
	if (!ok(r.status == 200 && json_array_size(json_object_get(r.json, "messages")) == 0,
	        "rejected follow-up messages stored nothing"))
		diag_resp(&r);
	resp_free(&r);
	s = repeat("\xc3\xa9", 10000);
	post_message(&r, SUBS[0].token, s);
	if (!ok(r.status == 201, "follow-up message of 10000 code points (20000 bytes) -> 201"))
		diag_resp(&r);
	resp_free(&r);
	free(s);

	/* The label comes back in the report's language. */
	o = json_pack(
	    "{s:s, s:s}", "language", "nl", "description", "CANARY-DESCRIPTION-7f3a in Dutch");
	idx = submit_report(&r, o);
	json_decref(o);
	resp_free(&r);
	if (!ok(idx >= 0, "report with language nl -> 201"))
		return;
	l_en = label_of(SUBS[1].token);
	l_nl = label_of(SUBS[idx].token);
	if (!ok(l_en && l_nl && strcmp(l_en, l_nl) != 0,
	        "status label of \"received\" differs between an en and an nl report"))
		diag("en: %s, nl: %s", l_en ? l_en : "(none)", l_nl ? l_nl : "(none)");
	free(l_en);
	free(l_nl);
}
