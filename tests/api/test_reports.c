/* Submitting reports: the 201 answer, the token, the follow-up URL, the log proof. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mp_b64.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX in the Crockford alphabet. */
static int
token_text_ok(const char *t)
{
	if (t == NULL || strlen(t) != MP_TOKEN_TEXT_LEN)
		return 0;
	for (size_t i = 0; i < MP_TOKEN_TEXT_LEN; i++) {
		if (i % 5 == 4) {
			if (t[i] != '-')
				return 0;
		} else if (strchr(crockford, t[i]) == NULL || t[i] == '\0') {
			return 0;
		}
	}
	return 1;
}

/* RFC 9162 section 2.1.3.2: the root from a leaf hash and its inclusion proof. */
static int
inclusion_root(uint8_t root[32], const uint8_t leaf[32], unsigned long long index,
    unsigned long long size, const json_t *proof)
{
	unsigned long long fn = index, sn = size - 1;
	uint8_t r[32], p[32], in[65];
	const json_t *v;
	size_t i;

	if (size == 0 || index >= size)
		return -1;
	memcpy(r, leaf, 32);
	json_array_foreach(proof, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || mp_b64u_decode_exact(p, 32, s, strlen(s)) != 0 || sn == 0)
			return -1;
		in[0] = 0x01;
		if ((fn & 1) || fn == sn) {
			memcpy(in + 1, p, 32);
			memcpy(in + 33, r, 32);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			memcpy(in + 1, r, 32);
			memcpy(in + 33, p, 32);
		}
		crypto_hash_sha256(r, in, sizeof in);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -1;
	memcpy(root, r, 32);
	return 0;
}

/*
 * The checkpoint: origin, size, b64 root, a blank line and a signature line
 * "— <origin> <b64(keyhash || sig)>" made by the verifier key init printed.
 */
static int
checkpoint_parse(
    const char *cp, unsigned long long *size, uint8_t root[32], char *why, size_t whylen)
{
	const char *nl1, *nl2, *nl3, *sigline, *b;
	uint8_t vk[33], blob[68], kh[32];
	char rootb64[64], prefix[300], *end;
	size_t ol = strlen(ORIGIN), bl;
	crypto_hash_sha256_state st;

	snprintf(why, whylen, "not origin/size/root lines");
	if (strncmp(cp, ORIGIN "\n", ol + 1) != 0)
		return -1;
	nl1 = cp + ol;
	if ((nl2 = strchr(nl1 + 1, '\n')) == NULL || (nl3 = strchr(nl2 + 1, '\n')) == NULL)
		return -1;
	*size = strtoull(nl1 + 1, &end, 10);
	if (end != nl2 || nl1 + 1 == nl2)
		return -1;
	if ((size_t)(nl3 - nl2 - 1) >= sizeof rootb64)
		return -1;
	memcpy(rootb64, nl2 + 1, (size_t)(nl3 - nl2 - 1));
	rootb64[nl3 - nl2 - 1] = '\0';
	if (mp_b64_decode_exact(root, 32, rootb64, strlen(rootb64)) != 0)
		return -1;
	snprintf(why, whylen, "no blank line after the note text");
	if (nl3[1] != '\n')
		return -1;
	snprintf(prefix, sizeof prefix, "\xe2\x80\x94 %s ", ORIGIN);
	snprintf(why, whylen, "no signature line by the origin");
	if ((sigline = strstr(nl3 + 2, prefix)) == NULL)
		return -1;
	b = sigline + strlen(prefix);
	bl = strcspn(b, "\n");
	if (mp_b64_decode_exact(blob, sizeof blob, b, bl) != 0)
		return -1;
	snprintf(why, whylen, "no verifier key from init");
	if (I.verifier[0] == '\0' ||
	    mp_b64_decode_exact(
	        vk, sizeof vk, I.verifier + ol + 10, strlen(I.verifier + ol + 10)) != 0)
		return -1;
	/* key hash = SHA-256(origin || "\n" || 0x01 || pk)[0:4] */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)ORIGIN "\n", ol + 1);
	crypto_hash_sha256_update(&st, vk, 33);
	crypto_hash_sha256_final(&st, kh);
	snprintf(why, whylen, "key hash does not match the verifier key");
	if (memcmp(kh, blob, 4) != 0)
		return -1;
	snprintf(why, whylen, "signature does not verify over the note text");
	if (crypto_sign_verify_detached(
	        blob + 4, (const uint8_t *)cp, (size_t)(nl3 + 1 - cp), vk + 1) != 0)
		return -1;
	return 0;
}

/* 1 if text holds a YYYY-MM-DD date anywhere. */
static int
holds_day(const char *text)
{
	char ten[11];
	size_t n = strlen(text);

	for (size_t i = 0; i + 10 <= n; i++) {
		memcpy(ten, text + i, 10);
		ten[10] = '\0';
		if (is_day(ten))
			return 1;
	}
	return 0;
}

/* The optional "log": the created event's commitment, included in a signed checkpoint. */
static void
check_log(const json_t *log)
{
	const char *salt_t = jstr(log, "salt"), *ev_t = jstr(log, "event"),
	           *cp = jstr(log, "checkpoint");
	const json_t *idx = json_object_get(log, "index"), *proof = json_object_get(log, "proof");
	uint8_t salt[32], ev[4096], C[32], leaf[32], in[33], root[32], want[32];
	unsigned long long size = 0;
	char evtext[4097], why[128], month[11];
	json_t *e = NULL;
	size_t evlen = 0;
	int good;

	good = json_is_integer(idx) && json_integer_value(idx) >= 0 && salt_t && ev_t && cp &&
	    json_is_array(proof) && mp_b64u_decode_exact(salt, 32, salt_t, strlen(salt_t)) == 0 &&
	    mp_b64u_decode(ev, sizeof ev, &evlen, ev_t, strlen(ev_t)) == 0;
	if (!ok(good, "report answer log has index, salt (32 bytes), event, checkpoint, proof")) {
		char *lt = dump(log);

		diag("log: %.300s", lt ? lt : "");
		free(lt);
		return;
	}
	memcpy(evtext, ev, evlen);
	evtext[evlen] = '\0';
	e = json_loadb(evtext, evlen, JSON_REJECT_DUPLICATES, NULL);
	amsterdam_day(month, 0);
	month[7] = '\0';
	if (!ok(json_is_object(e) && json_integer_value(json_object_get(e, "v")) == 1 &&
	            jstr(e, "type") && strcmp(jstr(e, "type"), "created") == 0 &&
	            jstr(e, "month") && strcmp(jstr(e, "month"), month) == 0,
	        "log event is {\"v\":1,\"type\":\"created\",\"month\":<this month>,...}"))
		diag("event: %s", evtext);
	if (!ok(strstr(evtext, "CANARY") == NULL && !holds_day(evtext),
	        "log event holds no text the reporter wrote and no date finer than a month"))
		diag("event: %s", evtext);
	json_decref(e);

	crypto_generichash(C, 32, ev, evlen, salt, 32);
	in[0] = 0x00;
	memcpy(in + 1, C, 32);
	crypto_hash_sha256(leaf, in, sizeof in);
	good = checkpoint_parse(cp, &size, want, why, sizeof why) == 0;
	if (!ok(good, "log checkpoint is a signed note by the verifier key init printed"))
		diag("%s; checkpoint: %.300s", why, cp);
	good = good &&
	    inclusion_root(root, leaf, (unsigned long long)json_integer_value(idx), size, proof) ==
	        0 &&
	    memcmp(root, want, 32) == 0;
	ok(good, "log proof includes BLAKE2b(salt, event) at index in the checkpoint's tree");
}

void
test_reports(void)
{
	char today[11], want_url[128], canon[MP_TOKEN_TEXT_LEN + 1], yesterday[11];
	const char *tok, *url, *svg, *key;
	uint8_t t[MP_TOKEN_BYTES];
	struct resp r;
	json_t *o, *v;
	size_t n;
	int idx, fields_ok;

	amsterdam_day(today, 0);
	amsterdam_day(yesterday, -1);

	/* /healthz: the plain liveness answer. */
	http_get(&r, "/healthz");
	if (!ok(r.status == 200 && (strcmp(r.body, "ok") == 0 || strcmp(r.body, "ok\n") == 0),
	        "GET /healthz -> 200 ok"))
		diag_resp(&r);
	resp_free(&r);

	canary_add(CANARY_TEXT, "CANARY-DESCRIPTION-7f3a");
	o = json_pack("{s:s}", "description", "CANARY-DESCRIPTION-7f3a minimal report, anonymous");
	idx = submit_report(&r, o);
	json_decref(o);
	if (!ok(r.status == 201 && idx == 0, "minimal report {\"description\"} -> 201")) {
		diag_resp(&r);
		resp_free(&r);
		return;
	}
	fields_ok = json_is_object(r.json);
	n = 0;
	json_object_foreach(r.json, key, v) {
		if (!strcmp(key, "token") || !strcmp(key, "followup_url") ||
		    !strcmp(key, "qr_svg") || !strcmp(key, "received"))
			n++;
		else if (strcmp(key, "log") != 0)
			fields_ok = 0;
	}
	if (!ok(fields_ok && n == 4,
	        "report answer has exactly token, followup_url, qr_svg, received "
	        "(and optionally log)"))
		diag_resp(&r);
	tok = jstr(r.json, "token");
	if (!ok(token_text_ok(tok),
	        "token has the text form XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX "
	        "(Crockford base32)"))
		diag("token: %s", tok ? tok : "(none)");
	{
		int parsed = tok != NULL && mp_token_parse(t, tok, strlen(tok)) == 0;

		if (parsed)
			mp_token_format(canon, t);
		if (!ok(parsed && strcmp(canon, tok) == 0,
		        "mp_token_parse accepts the token and it is in canonical form"))
			diag("token: %s", tok ? tok : "(none)");
	}
	url = jstr(r.json, "followup_url");
	snprintf(want_url, sizeof want_url, "http://127.0.0.1:%d/f#%s", I.port, tok ? tok : "");
	if (!ok(url && strcmp(url, want_url) == 0, "followup_url is <public URL>/f#<token>"))
		diag("got %s, want %s", url ? url : "(none)", want_url);
	svg = jstr(r.json, "qr_svg");
	{
		size_t sl = svg ? strlen(svg) : 0;

		while (sl > 0 && isspace((unsigned char)svg[sl - 1]))
			sl--;
		if (!ok(svg && strncmp(svg, "<svg", 4) == 0 && sl >= 6 &&
		            strncmp(svg + sl - 6, "</svg>", 6) == 0 &&
		            strstr(svg, "<script") == NULL,
		        "qr_svg is an <svg>...</svg> without script"))
			diag("qr_svg: %.120s", svg ? svg : "(none)");
	}
	if (!ok(jstr(r.json, "received") && strcmp(jstr(r.json, "received"), today) == 0,
	        "received is today in Europe/Amsterdam (server run with TZ=Pacific/Kiritimati)"))
		diag("want %s; got %.200s", today, r.body);
	if (json_object_get(r.json, "log") != NULL)
		check_log(json_object_get(r.json, "log"));
	else
		diag("report answer has no log (allowed until the transparency log exists)");
	resp_free(&r);

	/* Every field the contract names. */
	canary_add(CANARY_TEXT, "CANARY-LOCATION-91c2");
	canary_add(CANARY_TEXT, "CANARY-COUNTERPARTY-3b8d");
	canary_add(CANARY_TEXT, "CANARY-NAME-c4e1");
	canary_add(CANARY_TEXT, "canary-email-a9f0@example.org");
	canary_add(CANARY_TEXT, "+31 6 4242 7177");
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s], s:s, s:s, s:s, "
	              "s:{s:s, s:s, s:s, s:s}}",
	    "language", "en", "role", "victim", "wish", "assistance", "description",
	    "CANARY-DESCRIPTION-7f3a full report: the landlord refused us", "occurred_on",
	    yesterday, "location", "CANARY-LOCATION-91c2 Breestraat", "incident_municipality",
	    "leiden", "residence_municipality", "kaag_en_braassem", "grounds", "origin", "religion",
	    "domain", "housing", "manifestation", "refusal", "counterparty",
	    "CANARY-COUNTERPARTY-3b8d Woonbedrijf", "contact", "name", "CANARY-NAME-c4e1", "email",
	    "canary-email-a9f0@example.org", "phone", "+31 6 4242 7177", "preferred", "email");
	idx = submit_report(&r, o);
	json_decref(o);
	if (!ok(r.status == 201 && idx == 1, "report with every field (en, contact, codes) -> 201"))
		diag_resp(&r);
	resp_free(&r);
}
