/* Signed requests (PROTOCOL.md section 4): everything the server must refuse. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "mp_b64.h"

/*
 * Sign like mp_sig_sign, but with a chosen nonce and a chosen digest line
 * (NULL: "content-digest" not covered).  0 or -1.
 */
static int
sign_custom(struct sighdr *h, const struct mp_identity *id, const char *method, const char *path,
    const char *query, const char *digest, long long created, const char *nonce)
{
	char params[MP_SIG_PARAMS_LEN], keyid[MP_B64U_LEN(32)], base[MP_SIG_BASE_MAX];
	char sigb64[MP_B64_LEN(64)];
	uint8_t sig[64];
	int n;

	memset(h, 0, sizeof *h);
	b64u(keyid, sizeof keyid, id->sign_pk, 32);
	n = snprintf(params, sizeof params,
	    "%s;created=%lld;nonce=\"%s\";keyid=\"%s\";"
	    "alg=\"ed25519\"",
	    digest ? "(\"@method\" \"@path\" \"@query\" \"content-digest\")"
	           : "(\"@method\" \"@path\" \"@query\")",
	    created, nonce, keyid);
	if (n < 0 || (size_t)n >= sizeof params)
		return -1;
	if ((n = mp_sig_base(base, sizeof base, method, path, query, digest, params)) < 0)
		return -1;
	crypto_sign_detached(sig, NULL, (const uint8_t *)base, (unsigned long long)n, id->sign_sk);
	if (mp_b64_encode(sigb64, sizeof sigb64, sig, sizeof sig) != 0)
		return -1;
	snprintf(h->input, sizeof h->input, "sig1=%s", params);
	snprintf(h->sig, sizeof h->sig, "sig1=:%s:", sigb64);
	return 0;
}

static const char *
status_of(const char *token)
{
	static char st[64];
	struct resp r;

	st[0] = '\0';
	if (followup(&r, token) == 0 && jstr(r.json, "status"))
		snprintf(st, sizeof st, "%s", jstr(r.json, "status"));
	resp_free(&r);
	return st;
}

void
test_signatures(void)
{
	const char *a = "{\"status\":\"in_progress\"}", *b = "{\"status\":\"referred\"}";
	char target[128], nonce[MP_B64U_LEN(16)], st0[64];
	long long now = (long long)time(NULL);
	struct sighdr h;
	struct resp r;
	uint8_t nb[16];
	struct sub *full = NSUBS > 1 ? &SUBS[1] : NULL;

	send_signed(&r, NULL, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "GET /api/v1/cases without a signature");
	resp_free(&r);
	signed_req(&r, mallory, "GET", "/api/v1/cases", NULL);
	expect_error(&r, 401, "unauthorized", NULL, "signature by a key that is not registered");
	resp_free(&r);

	sign_req(&h, anna, "GET", "/api/v1/cases?limit=1", NULL, 0, now);
	send_signed(&r, &h, "GET", "/api/v1/cases?limit=1", NULL, 0);
	if (!ok(r.status == 200, "a signed request -> 200 (first time)"))
		diag_resp(&r);
	resp_free(&r);
	send_signed(&r, &h, "GET", "/api/v1/cases?limit=1", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "the same signed request replayed");
	resp_free(&r);
	/* A different request that reuses a nonce is a replay too. */
	randombytes_buf(nb, sizeof nb);
	b64u(nonce, sizeof nonce, nb, sizeof nb);
	{
		struct sighdr first, again;

		sign_custom(&first, anna, "GET", "/api/v1/cases", "?limit=3", NULL, now, nonce);
		send_signed(&r, &first, "GET", "/api/v1/cases?limit=3", NULL, 0);
		if (!ok(r.status == 200, "a request with a fresh nonce -> 200"))
			diag_resp(&r);
		resp_free(&r);
		sign_custom(&again, anna, "GET", "/api/v1/cases", "?limit=4", NULL, now, nonce);
		send_signed(&r, &again, "GET", "/api/v1/cases?limit=4", NULL, 0);
		expect_error(
		    &r, 401, "unauthorized", NULL, "another request that reuses the nonce");
		resp_free(&r);
	}

	sign_req(&h, anna, "GET", "/api/v1/cases", NULL, 0, now - 301);
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "created 301 s in the past");
	resp_free(&r);
	sign_req(&h, anna, "GET", "/api/v1/cases", NULL, 0, now + 400);
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "created 400 s in the future");
	resp_free(&r);
	sign_req(&h, anna, "GET", "/api/v1/cases", NULL, 0, (long long)time(NULL) - 240);
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	if (!ok(r.status == 200, "created 240 s in the past (within 300 s) -> 200"))
		diag_resp(&r);
	resp_free(&r);
	sign_req(&h, anna, "GET", "/api/v1/cases", NULL, 0, (long long)time(NULL) + 240);
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	if (!ok(r.status == 200, "created 240 s in the future (within 300 s) -> 200"))
		diag_resp(&r);
	resp_free(&r);

	sign_req(&h, anna, "GET", "/api/v1/keys", NULL, 0, (long long)time(NULL));
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "signature over another @path");
	resp_free(&r);
	sign_req(&h, anna, "GET", "/api/v1/cases?limit=1", NULL, 0, (long long)time(NULL));
	send_signed(&r, &h, "GET", "/api/v1/cases?limit=2", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "signature over another @query");
	resp_free(&r);
	sign_req(&h, anna, "DELETE", "/api/v1/cases", NULL, 0, (long long)time(NULL));
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "signature over another @method");
	resp_free(&r);
	sign_req(&h, anna, "GET", "/api/v1/cases", NULL, 0, (long long)time(NULL));
	h.sig[8] = h.sig[8] == 'A' ? 'B' : 'A';
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "a signature with one symbol changed");
	resp_free(&r);
	sign_req(&h, anna, "GET", "/api/v1/cases", NULL, 0, (long long)time(NULL));
	{
		char keyid[MP_B64U_LEN(32)], *k, *e;

		/* Bram's keyid on Anna's signature. */
		b64u(keyid, sizeof keyid, bram->sign_pk, 32);
		if ((k = strstr(h.input, "keyid=\"")) != NULL && (e = strchr(k + 7, '"')) != NULL &&
		    (size_t)(e - k - 7) == strlen(keyid))
			memcpy(k + 7, keyid, strlen(keyid));
	}
	send_signed(&r, &h, "GET", "/api/v1/cases", NULL, 0);
	expect_error(&r, 401, "unauthorized", NULL, "Anna's signature under Bram's keyid");
	resp_free(&r);

	if (full == NULL || full->case_id[0] == '\0') {
		ok(0, "signature tests with bodies need the full report's case");
		return;
	}
	snprintf(st0, sizeof st0, "%s", status_of(full->token));
	snprintf(target, sizeof target, "/api/v1/cases/%s/status", full->case_id);
	/* Body changed after signing: the digest header still names the signed body. */
	sign_req(&h, anna, "POST", target, a, strlen(a), (long long)time(NULL));
	send_signed(&r, &h, "POST", target, b, strlen(b));
	expect_error(&r, 401, "unauthorized", NULL, "body changed after signing (digest mismatch)");
	resp_free(&r);
	/* Body changed and Content-Digest recomputed: the signature no longer matches. */
	sign_req(&h, anna, "POST", target, a, strlen(a), (long long)time(NULL));
	if (mp_sig_digest(h.digest, sizeof h.digest, (const uint8_t *)b, strlen(b)) == 0) {
		send_signed(&r, &h, "POST", target, b, strlen(b));
		expect_error(
		    &r, 401, "unauthorized", NULL, "body and Content-Digest changed after signing");
		resp_free(&r);
	}
	/* A POST whose signature does not cover content-digest. */
	randombytes_buf(nb, sizeof nb);
	b64u(nonce, sizeof nonce, nb, sizeof nb);
	sign_custom(&h, anna, "POST", target, "?", NULL, (long long)time(NULL), nonce);
	if (mp_sig_digest(h.digest, sizeof h.digest, (const uint8_t *)a, strlen(a)) == 0) {
		send_signed(&r, &h, "POST", target, a, strlen(a));
		expect_error(&r, 401, "unauthorized", NULL,
		    "POST with a body whose signature does not cover content-digest");
		resp_free(&r);
	}
	/* Signed with the digest, sent without the Content-Digest header. */
	sign_req(&h, anna, "POST", target, a, strlen(a), (long long)time(NULL));
	h.digest[0] = '\0';
	send_signed(&r, &h, "POST", target, a, strlen(a));
	expect_error(&r, 401, "unauthorized", NULL,
	    "POST signed over a digest but sent without "
	    "Content-Digest");
	resp_free(&r);
	ok(strcmp(status_of(full->token), st0) == 0 && st0[0] != '\0',
	    "the refused POSTs changed nothing (status still %s)", st0);

	/* Roles. */
	signed_req(&r, carla, "GET", "/api/v1/keys", NULL);
	if (!ok(r.status == 200,
	        "auditor's good signature on GET /api/v1/keys (any signed) -> 200"))
		diag_resp(&r);
	resp_free(&r);
	signed_req(&r, carla, "GET", "/api/v1/cases", NULL);
	expect_error(&r, 403, "forbidden", NULL, "auditor's good signature on GET /api/v1/cases");
	resp_free(&r);
	signed_req(&r, carla, "POST", target, a);
	expect_error(&r, 403, "forbidden", NULL, "auditor's good signature on POST .../status");
	resp_free(&r);
	ok(strcmp(status_of(full->token), st0) == 0, "the auditor's POST changed nothing");
}
