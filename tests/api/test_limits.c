/*
 * Rate limits and proofs of work (docs/ABUSE.md) over real HTTP, against an
 * instance of their own whose policy has small limits.  Clients are told
 * apart by X-Forwarded-For, which meldpuntd takes from loopback only; the
 * test's own requests without it (loopback) are exempt.  Afterwards no file
 * of the instance and no line of the server's output holds an address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

void test_limits(void);

#define FORM "application/x-www-form-urlencoded"
#define POW_BITS 10
#define LIMIT_DESC "CANARY-LIMIT-DESCRIPTION-4b9e what happened at the desk"

/* The policy's [limits] for this instance: small, so that a few requests reach them. */
static const char limits_conf[] = "\n[limits]\n"
                                  "report 3 3600\n"
                                  "followup 4 3600\n"
                                  "signed 3 3600\n"
                                  "public 100 3600\n"
                                  "all_report 1000 3600\n"
                                  "all_followup 1000 3600\n"
                                  "all_signed 1000 3600\n"
                                  "all_public 5 3600\n"
                                  "flood 6 3600\n"
                                  "unproven 2 3600\n"
                                  "pow_bits 10\n"
                                  "connections 32\n"
                                  "case_messages 3\n"
                                  "local exempt\n";

/* Every address a client here is given: none may be written anywhere. */
static char used[64][48];
static size_t nused;

/* A fresh address 198.51.100.N, recorded. */
static const char *
fresh(void)
{
	static int n = 10;

	snprintf(used[nused], sizeof used[0], "198.51.100.%d", n++);
	return used[nused++];
}

static const char *
named(const char *addr)
{
	snprintf(used[nused], sizeof used[0], "%s", addr);
	return used[nused++];
}

/*
 * One request from client (NULL: the test itself, on loopback) with the
 * proof (NULL: none) in the Meldpunt-Pow header.
 */
static int
req_from(struct resp *r, const char *client, const char *method, const char *target,
    const char *ctype, const char *body, const char *proof)
{
	char xff[96], pw[160];
	const char *hv[3] = { NULL, NULL, NULL };
	struct req q = { method, target, ctype, body, body ? strlen(body) : 0, hv };
	size_t n = 0;

	if (client != NULL) {
		snprintf(xff, sizeof xff, "X-Forwarded-For: 203.0.113.250, %s", client);
		hv[n++] = xff;
	}
	if (proof != NULL) {
		snprintf(pw, sizeof pw, "Meldpunt-Pow: %s", proof);
		hv[n++] = pw;
	}
	return http(r, &q);
}

static int
report_from(struct resp *r, const char *client, const char *proof)
{
	return req_from(r, client, "POST", "/api/v1/reports", "application/json",
	    "{\"description\":\"" LIMIT_DESC "\"}", proof);
}

/* Retry-After as a number of seconds, or -1. */
static long
retry_after(const struct resp *r)
{
	const char *v = resp_header(r, "Retry-After");
	char *end;
	long n;

	if (v == NULL || !isdigit((unsigned char)*v))
		return -1;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : -1;
}

/* 429 rate_limited in the contract's error form, nothing more in it, with a Retry-After. */
static int
is_limited(const struct resp *r)
{
	const json_t *e = json_object_get(r->json, "error");
	const char *code = jstr(e, "code");

	return r->status == 429 && code != NULL && strcmp(code, "rate_limited") == 0 &&
	    json_object_size(r->json) == 1 && json_object_size(e) == 2 &&
	    jstr(e, "message") != NULL && retry_after(r) >= 1;
}

static int
zero_bits(const uint8_t *h, int bits)
{
	for (int i = 0; bits > 0; i++, bits -= 8)
		if (bits >= 8 ? h[i] != 0 : h[i] >> (8 - bits) != 0)
			return 0;
	return 1;
}

/* "challenge.nonce" such that SHA-256(challenge || nonce) has bits zero bits; want 0 for a wrong one. */
static void
solve(char *out, size_t outlen, const char *challenge, int bits, int want, const char *prefix)
{
	uint8_t h[32];
	char text[160];

	for (unsigned long n = 0;; n++) {
		snprintf(text, sizeof text, "%s%s%lu", challenge, prefix, n);
		crypto_hash_sha256(h, (const uint8_t *)text, strlen(text));
		if (zero_bits(h, bits) == want) {
			snprintf(out, outlen, "%s.%s%lu", challenge, prefix, n);
			return;
		}
	}
}

/* --- the instance -------------------------------------------------------------------- */

static int
write_limits(void)
{
	char path[PATHLEN + 32];
	FILE *f;
	int rc;

	snprintf(path, sizeof path, "%s/policy.conf", I.inst);
	/* The policy init wrote ends in its own [limits]: these come later and replace them. */
	{
		char *text = NULL, *cut;
		long len;

		if ((f = fopen(path, "r")) == NULL)
			return -1;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		if (len < 0 || (text = calloc(1, (size_t)len + 1)) == NULL ||
		    fread(text, 1, (size_t)len, f) != (size_t)len) {
			fclose(f);
			free(text);
			return -1;
		}
		fclose(f);
		if ((cut = strstr(text, "\n[limits]")) != NULL)
			*cut = '\0';
		if ((f = fopen(path, "w")) == NULL) {
			free(text);
			return -1;
		}
		rc = fputs(text, f) < 0 || fputs(limits_conf, f) < 0;
		free(text);
	}
	return fclose(f) != 0 || rc ? -1 : 0;
}

static int
limits_instance(void)
{
	char bin[PATHLEN + 16], url[64], *err = NULL;
	int rc;

	snprintf(I.dir, sizeof I.dir, "/tmp/meldpunt-limits-XXXXXX");
	if (mkdtemp(I.dir) == NULL)
		return -1;
	snprintf(I.inst, sizeof I.inst, "%s/inst", I.dir);
	snprintf(I.log, sizeof I.log, "%s/server.log", I.dir);
	I.port = free_port();
	snprintf(I.base, sizeof I.base, "http://127.0.0.1:%d", I.port);
	I.pid = 0;
	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", I.port);
	{
		const char *argv[] = { bin, "init", "--dir", I.inst, "--origin", ORIGIN,
			"--public-url", url, NULL };

		rc = run_cmd(NULL, &err, argv);
	}
	if (rc != 0)
		diag("init: %s", err ? err : "");
	free(err);
	if (rc != 0 || key_add(anna) != 0 || write_limits() != 0)
		return -1;
	return server_start();
}

/* --- the checks ----------------------------------------------------------------------- */

/* Per client, per class: the limit answers 429 with the real wait; others go on. */
static void
per_client(void)
{
	const char *a = fresh(), *b = fresh(), *v6a = named("2001:db8:1:2::1"),
	           *v6b = named("2001:db8:1:2::99"), *v6c = named("2001:db8:1:3::1");
	struct resp r;
	char token[64] = "", body[128];
	int good = 1, i;
	long wait;

	for (i = 0; i < 3; i++) {
		report_from(&r, a, NULL);
		good &= r.status == 201 && resp_header(&r, "Meldpunt-Pow-Challenge") == NULL;
		if (r.status == 201 && jstr(r.json, "token") != NULL)
			snprintf(token, sizeof token, "%s", jstr(r.json, "token"));
		if (r.status != 201)
			diag_resp(&r);
		resp_free(&r);
	}
	ok(good, "below the limit a client's reports are taken (3 x 201), no proof asked");
	report_from(&r, a, NULL);
	wait = retry_after(&r);
	if (!ok(is_limited(&r),
	        "the 4th report within the hour from one address -> 429 "
	        "rate_limited with Retry-After"))
		diag_resp(&r);
	/* 3 an hour: the next one comes 1200 s after the bucket ran dry. */
	if (!ok(wait > 1100 && wait <= 1200,
	        "Retry-After is the real wait (%ld s, want "
	        "about 1200)",
	        wait))
		diag_resp(&r);
	ok(resp_header(&r, "Meldpunt-Pow-Challenge") == NULL,
	    "a client's own limit offers no proof of work (a proof would not help)");
	resp_free(&r);
	/* Other errors carry neither a challenge nor a wait: nothing from the stack leaks. */
	http_get(&r, "/api/v1/nothing-here");
	ok(r.status == 404 && resp_header(&r, "Meldpunt-Pow-Challenge") == NULL &&
	        resp_header(&r, "Meldpunt-Pow-Bits") == NULL &&
	        resp_header(&r, "Retry-After") == NULL,
	    "a 404 carries no proof-of-work header and no Retry-After");
	resp_free(&r);
	http_json(&r, "DELETE", "/api/v1/reports", "{}");
	ok(r.status == 405 && resp_header(&r, "Meldpunt-Pow-Challenge") == NULL &&
	        resp_header(&r, "Retry-After") == NULL,
	    "a 405 carries no proof-of-work header either");
	resp_free(&r);
	report_from(&r, b, NULL);
	if (!ok(r.status == 201, "another address is not affected (201)"))
		diag_resp(&r);
	resp_free(&r);

	/* Classes apart: the limited address still follows its report up. */
	snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
	req_from(&r, a, "POST", "/api/v1/followup", "application/json", body, NULL);
	if (!ok(r.status == 200, "a client over its report limit can still follow up (200)"))
		diag_resp(&r);
	resp_free(&r);

	/* An IPv6 /64 is one client; another /64 is another. */
	good = 1;
	for (i = 0; i < 4; i++) {
		req_from(&r, i < 2 ? v6a : v6b, "POST", "/api/v1/followup", "application/json",
		    body, NULL);
		good &= r.status == 200;
		resp_free(&r);
	}
	req_from(&r, v6b, "POST", "/api/v1/followup", "application/json", body, NULL);
	ok(good && is_limited(&r),
	    "two addresses of one IPv6 /64 share a limit "
	    "(4 follow-ups, the 5th -> 429)");
	resp_free(&r);
	req_from(&r, v6c, "POST", "/api/v1/followup", "application/json", body, NULL);
	if (!ok(r.status == 200, "another /64 is another client (200)"))
		diag_resp(&r);
	resp_free(&r);

	/* The follow-up page's message form over the limit: the message is not lost. */
	snprintf(body, sizeof body, "token=%s&lang=pl&text=CANARY-LIMIT-MESSAGE+kept", token);
	req_from(&r, v6b, "POST", "/f/message", FORM, body, NULL);
	ok(r.status == 429 && retry_after(&r) > 0 && r.body != NULL &&
	        strstr(r.body, "<html lang=\"pl\"") != NULL &&
	        strstr(r.body, ">\nCANARY-LIMIT-MESSAGE kept</textarea>") != NULL &&
	        strstr(r.body, token) != NULL,
	    "a message sent over the limit -> 429 page in its language, the text still in its box");
	resp_free(&r);
}

/* Signed routes: the limit comes before the signature is checked. */
static void
signed_limit(void)
{
	const char *s = fresh(), *t = fresh();
	char si[sizeof((struct sighdr *)0)->input + 32], sg[160], xff[96], target[64];
	const char *hv[4] = { si, sg, xff, NULL };
	struct req q = { "GET", target, NULL, NULL, 0, hv };
	struct sighdr h;
	struct resp r;
	int good = 1, i;

	for (i = 0; i < 5; i++) {
		/* Each request its own target, so that none is a replay of another. */
		snprintf(target, sizeof target, "/api/v1/cases?limit=%d", i + 1);
		if (sign_req(&h, anna, "GET", target, NULL, 0, (long long)time(NULL)) != 0)
			good = 0;
		snprintf(si, sizeof si, "Signature-Input: %s", h.input);
		snprintf(sg, sizeof sg, "Signature: %s", h.sig);
		snprintf(xff, sizeof xff, "X-Forwarded-For: %s", i < 4 ? s : t);
		http(&r, &q);
		if (i < 3)
			good &= r.status == 200;
		else if (i == 3 &&
		    !ok(good && is_limited(&r),
		        "signed routes: the 4th request from "
		        "one address -> 429 (3 x 200 before)"))
			diag_resp(&r);
		else if (i == 4 && !ok(r.status == 200, "signed routes: another address -> 200"))
			diag_resp(&r);
		resp_free(&r);
	}
}

/* All clients together: the global limit holds however many addresses there are. */
static void
global_limit(void)
{
	struct resp r;
	int good = 1, i;

	for (i = 0; i < 5; i++) {
		req_from(&r, fresh(), "GET", "/api/v1/log/checkpoint", NULL, NULL, NULL);
		good &= r.status != 429 && r.status != 0;
		resp_free(&r);
	}
	req_from(&r, fresh(), "GET", "/api/v1/log/checkpoint", NULL, NULL, NULL);
	if (!ok(good && is_limited(&r) && retry_after(&r) > 600,
	        "the 6th log read within the hour, each from a new address -> 429 (all_public 5) "
	        "with the global wait (%ld s)",
	        retry_after(&r)))
		diag_resp(&r);
	resp_free(&r);
	req_from(&r, NULL, "GET", "/api/v1/log/checkpoint", NULL, NULL, NULL);
	ok(r.status != 429, "a local client (loopback, no X-Forwarded-For) is exempt (%ld)",
	    r.status);
	resp_free(&r);
}

/* The report form as sent without JavaScript, from client. */
static int
form_from(struct resp *r, const char *client, const char *lang, const char *pow)
{
	char body[512];

	snprintf(body, sizeof body, "lang=%s&description=%s+%s&pow=%s", lang, "CANARY-LIMIT-FORM",
	    "kept", pow ? pow : "");
	return req_from(r, client, "POST", "/report", FORM, body, NULL);
}

/* The challenge a page carries (data-challenge="..."), or "". */
static void
page_challenge(const struct resp *r, char *out, size_t outlen)
{
	const char *p = r->body ? strstr(r->body, "data-challenge=\"") : NULL;
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += 16;
	n = strcspn(p, "\"");
	if (n < outlen) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

/* Past the flood threshold: a proof, or one of the few reports taken without. */
static void
flood(void)
{
	char ch[64], proof[160], other[160];
	struct resp r;
	long wait;
	int i;

	/* Reports so far: 4 of the 6 the flood allows (a refused one does not count). */
	req_from(&r, fresh(), "GET", "/?lang=en", NULL, NULL, NULL);
	page_challenge(&r, ch, sizeof ch);
	ok(r.status == 200 && ch[0] == '\0' && strstr(r.body, "name=\"pow\"") == NULL,
	    "before the flood the form carries no challenge");
	resp_free(&r);
	report_from(&r, fresh(), NULL);
	if (!ok(r.status == 201, "the 5th report in the hour is taken as usual"))
		diag_resp(&r);
	resp_free(&r);
	/* The 6th empties the flood bucket: from here a proof is asked, or the unproven budget used. */
	report_from(&r, fresh(), NULL);
	if (!ok(r.status == 201,
	        "the 6th report starts the flood and goes in without a proof "
	        "(1 of the 2 unproven)"))
		diag_resp(&r);
	resp_free(&r);

	req_from(&r, fresh(), "GET", "/?lang=en", NULL, NULL, NULL);
	page_challenge(&r, ch, sizeof ch);
	ok(r.status == 200 && strlen(ch) == 28 && strstr(r.body, "data-bits=\"10\"") != NULL &&
	        strstr(r.body, "id=\"pow-status\"") != NULL,
	    "during the flood the form carries a challenge, its bits and a status line");
	resp_free(&r);
	req_from(&r, NULL, "GET", "/?lang=en", NULL, NULL, NULL);
	ok(r.status == 200 && strstr(r.body, "data-challenge") == NULL,
	    "a local client's form carries none (it is exempt)");
	resp_free(&r);

	/* Without JavaScript: the form goes without a proof, within the lower budget. */
	form_from(&r, fresh(), "en", NULL);
	if (!ok(r.status == 200 && strstr(r.body, "id=\"token\"") != NULL,
	        "the no-JS form during the flood is taken (2 of the 2 unproven): the receipt"))
		diag_resp(&r);
	resp_free(&r);
	form_from(&r, fresh(), "en", NULL);
	wait = retry_after(&r);
	page_challenge(&r, ch, sizeof ch);
	ok(r.status == 429 && wait > 1700 && wait <= 1800,
	    "the next no-JS form -> 429 with the real wait of the unproven budget (%ld s)", wait);
	ok(r.body != NULL && strstr(r.body, "<html lang=\"en\"") != NULL &&
	        strstr(r.body, "Please wait about") != NULL &&
	        strstr(r.body, ">30</bdi> min.") != NULL,
	    "its page is in the reader's language and says how long to wait");
	ok(r.body != NULL && strstr(r.body, "CANARY-LIMIT-FORM kept") != NULL &&
	        strstr(r.body, "id=\"report-form\"") != NULL && strlen(ch) == 28,
	    "it keeps what was typed in the form, with a fresh challenge");
	resp_free(&r);
	/* And a local client is never held back. */
	report_from(&r, NULL, NULL);
	ok(r.status == 201, "a local client's report during the flood is taken without a proof");
	resp_free(&r);

	/* The API: 429 with the challenge in headers; the proof in Meldpunt-Pow. */
	report_from(&r, fresh(), NULL);
	snprintf(ch, sizeof ch, "%s",
	    resp_header(&r, "Meldpunt-Pow-Challenge") ? resp_header(&r, "Meldpunt-Pow-Challenge")
	                                              : "");
	if (!ok(is_limited(&r) && strlen(ch) == 28 && resp_header(&r, "Meldpunt-Pow-Bits") &&
	            strcmp(resp_header(&r, "Meldpunt-Pow-Bits"), "10") == 0,
	        "an API report without a proof -> 429 rate_limited with Meldpunt-Pow-Challenge "
	        "and Meldpunt-Pow-Bits: 10"))
		diag_resp(&r);
	resp_free(&r);
	if (ch[0] == '\0')
		return;
	solve(proof, sizeof proof, ch, POW_BITS, 1, "t");
	report_from(&r, fresh(), proof);
	if (!ok(r.status == 201, "with a valid proof the report is taken (201)"))
		diag_resp(&r);
	resp_free(&r);
	report_from(&r, fresh(), proof);
	if (!ok(is_limited(&r) && resp_header(&r, "Meldpunt-Pow-Challenge") != NULL,
	        "the same proof again (another address) -> 429 with a new challenge"))
		diag_resp(&r);
	resp_free(&r);
	solve(other, sizeof other, ch, POW_BITS, 0, "w");
	report_from(&r, fresh(), other);
	ok(is_limited(&r), "a nonce whose hash lacks the zero bits -> 429");
	resp_free(&r);
	/* A challenge not made by this server: one letter of its MAC changed. */
	solve(other, sizeof other, ch, POW_BITS, 1, "m");
	other[20] = other[20] == 'A' ? 'B' : 'A';
	for (i = 0; i < 2; i++) {
		report_from(&r, fresh(), i == 0 ? other : "not a proof");
		ok(is_limited(&r), "%s -> 429",
		    i == 0 ? "a forged challenge" : "a malformed proof");
		resp_free(&r);
	}

	/* The form with the proof app.js would have made. */
	solve(proof, sizeof proof, ch, POW_BITS, 1, "f");
	form_from(&r, fresh(), "nl", proof);
	if (!ok(r.status == 200 && strstr(r.body, "id=\"token\"") != NULL,
	        "the form with a valid proof in its pow field is taken: the receipt"))
		diag_resp(&r);
	resp_free(&r);
	form_from(&r, fresh(), "nl", proof);
	ok(r.status == 429, "the same proof in the form again -> 429");
	resp_free(&r);
}

/* --- messages one case takes in a day ------------------------------------------------------ */

static int
message_from(struct resp *r, const char *token, const char *text)
{
	json_t *o = json_pack("{s:s, s:s}", "token", token, "text", text);
	char *b = json_dumps(o, JSON_COMPACT);
	int rc;

	rc = req_from(r, NULL, "POST", "/api/v1/followup/messages", "application/json", b, NULL);
	free(b);
	json_decref(o);
	return rc;
}

/* A report from the test itself (no client limit): its token into out, or "". */
static void
local_token(char *out, size_t outlen)
{
	struct resp r;

	out[0] = '\0';
	report_from(&r, NULL, NULL);
	if (r.status == 201 && jstr(r.json, "token") != NULL)
		snprintf(out, outlen, "%s", jstr(r.json, "token"));
	else
		diag_resp(&r);
	resp_free(&r);
}

/*
 * case_messages 3: a case takes three messages from its reporter a day,
 * whoever sends them (the test's own requests are exempt from every
 * client limit), then 429 until the next day; other cases are not held.
 */
static void
case_messages(void)
{
	char token[64], other[64], body[256], text[32];
	const json_t *msgs;
	struct resp r;
	int good = 1, i;
	long wait;

	local_token(token, sizeof token);
	local_token(other, sizeof other);
	if (!ok(token[0] != '\0' && other[0] != '\0', "two reports for the message cap"))
		return;
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof text, "message %d", i + 1);
		message_from(&r, token, text);
		good &= r.status == 201;
		if (r.status != 201)
			diag_resp(&r);
		resp_free(&r);
	}
	ok(good, "a case takes its reporter's messages up to case_messages (3 x 201)");
	message_from(&r, token, "CANARY-DAY-CAP message 4");
	wait = retry_after(&r);
	if (!ok(is_limited(&r), "the 4th message of the day to one case -> 429 rate_limited"))
		diag_resp(&r);
	/* Until midnight in the instance's zone: at most a day, 25 hours when summer time ends. */
	ok(wait >= 1 && wait <= 25 * 3600, "its Retry-After is the wait until tomorrow (%ld s)",
	    wait);
	resp_free(&r);
	snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
	req_from(&r, NULL, "POST", "/api/v1/followup", "application/json", body, NULL);
	msgs = json_object_get(r.json, "messages");
	if (!ok(r.status == 200 && json_array_size(msgs) == 3 &&
	            strcmp(jstr(json_array_get(msgs, 2), "text"), "message 3") == 0,
	        "the refused message was not stored: the case holds 3"))
		diag_resp(&r);
	resp_free(&r);
	/* The form: 429, the reason in the reader's language, the message kept to send tomorrow. */
	snprintf(body, sizeof body, "token=%s&lang=en&text=CANARY-DAY-CAP+kept", token);
	req_from(&r, NULL, "POST", "/f/message", FORM, body, NULL);
	if (!ok(r.status == 429 && r.body != NULL &&
	            strstr(r.body, "You have sent many messages about this report today") != NULL &&
	            strstr(r.body, "CANARY-DAY-CAP kept") != NULL && retry_after(&r) >= 1 &&
	            retry_after(&r) <= 25 * 3600,
	        "the follow-up page's message form past the cap -> 429, said in English, "
	        "the message still in its box, Retry-After until tomorrow"))
		diag_resp(&r);
	resp_free(&r);
	message_from(&r, other, "to another case");
	ok(r.status == 201, "another case still takes its reporter's message");
	resp_free(&r);
}

/* --- nothing written --------------------------------------------------------------------- */

static int hits;
static char first_hit[256];

static void
look(const char *name, const uint8_t *b, size_t len)
{
	uint8_t a[16];

	for (size_t i = 0; i < nused; i++) {
		int v6 = strchr(used[i], ':') != NULL;
		int found = memmem(b, len, used[i], strlen(used[i])) != NULL;

		if (!found && inet_pton(v6 ? AF_INET6 : AF_INET, used[i], a) == 1)
			found = memmem(b, len, a, v6 ? 16 : 4) != NULL;
		if (found && hits++ == 0)
			snprintf(first_hit, sizeof first_hit, "%s holds %s", name, used[i]);
	}
}

static int
scan_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	uint8_t *b;
	FILE *f;
	size_t n;

	(void)ftw;
	if (flag != FTW_F || (f = fopen(path, "rb")) == NULL)
		return 0;
	if ((b = malloc((size_t)st->st_size + 1)) != NULL) {
		n = fread(b, 1, (size_t)st->st_size, f);
		look(path, b, n);
		free(b);
	}
	fclose(f);
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
test_limits(void)
{
	struct inst saved = I;
	int rc;

	diag("rate limits and proofs of work: an instance with small [limits]");
	/* What a client may put before the proxy's entry in X-Forwarded-For. */
	named("203.0.113.250");
	if (!ok(limits_instance() == 0, "an instance with small [limits] starts"))
		goto out;
	per_client();
	signed_limit();
	global_limit();
	case_messages();
	flood();
	rc = server_stop(5);
	ok(rc == 0, "the server with [limits] exits 0 on SIGTERM");
	/* The instance directory holds the server's log too (its stdout and stderr). */
	nftw(I.dir, scan_file, 16, FTW_PHYS);
	if (!ok(hits == 0 && nused > 10,
	        "no file of the instance and no line of the server's "
	        "output holds any of the %zu client addresses, as text or as bytes",
	        nused))
		diag("%s", first_hit);
out:
	if (I.pid > 0)
		server_stop(2);
	if (getenv("MELDPUNT_TEST_KEEP") != NULL)
		diag("kept %s", I.dir);
	else
		nftw(I.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	I = saved;
}
