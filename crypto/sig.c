/* Signed requests: the project's RFC 9421 profile (PROTOCOL.md section 4). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_sig.h"

static const char comps_body[] = "(\"@method\" \"@path\" \"@query\" \"content-digest\")";
static const char comps_nobody[] = "(\"@method\" \"@path\" \"@query\")";

int
mp_sig_digest(char *out, size_t outlen, const uint8_t *body, size_t len)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char b64[MP_B64_LEN(sizeof h)];
	int n;

	crypto_hash_sha256(h, body, len);
	if (mp_b64_encode(b64, sizeof b64, h, sizeof h) != 0)
		return -1;
	n = snprintf(out, outlen, "sha-256=:%s:", b64);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* Match literal lit at *s and advance; 0 or -1. */
static int
eat(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return -1;
	*s += n;
	return 0;
}

/* A quoted parameter value `"..."` into out; no escapes are allowed. */
static int
eat_quoted(const char **s, char *out, size_t outlen)
{
	const char *p = *s, *q;

	if (*p != '"')
		return -1;
	if ((q = strchr(p + 1, '"')) == NULL || (size_t)(q - p - 1) >= outlen)
		return -1;
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	if (strchr(out, '\\') != NULL)
		return -1;
	*s = q + 1;
	return 0;
}

int
mp_sig_parse(struct mp_sig_params *p, const char *sig_input, const char *signature)
{
	const char *s = sig_input, *start;
	char alg[16], *end;
	size_t n;
	uint8_t nonce[MP_SIG_NONCE_BYTES];

	memset(p, 0, sizeof *p);
	if (sig_input == NULL || signature == NULL || eat(&s, "sig1=") != 0)
		return -1;
	start = s;
	if (eat(&s, comps_body) == 0)
		p->has_digest = 1;
	else if (eat(&s, comps_nobody) != 0)
		return -1;
	if (eat(&s, ";created=") != 0 || *s < '0' || *s > '9')
		return -1;
	p->created = strtoll(s, &end, 10);
	if (end - s > 12)
		return -1;
	s = end;
	if (eat(&s, ";nonce=") != 0 || eat_quoted(&s, p->nonce, sizeof p->nonce) != 0 ||
	    mp_b64u_decode_exact(nonce, sizeof nonce, p->nonce, strlen(p->nonce)) != 0)
		return -1;
	if (eat(&s, ";keyid=") != 0 || eat_quoted(&s, p->keyid, sizeof p->keyid) != 0 ||
	    mp_b64u_decode_exact(p->sign_pk, 32, p->keyid, strlen(p->keyid)) != 0)
		return -1;
	if (eat(&s, ";alg=") != 0 || eat_quoted(&s, alg, sizeof alg) != 0 ||
	    strcmp(alg, "ed25519") != 0 || *s != '\0')
		return -1;
	n = (size_t)(s - start);
	if (n >= sizeof p->params)
		return -1;
	memcpy(p->params, start, n);
	p->params[n] = '\0';

	s = signature;
	if (eat(&s, "sig1=:") != 0)
		return -1;
	n = strlen(s);
	if (n < 1 || s[n - 1] != ':' || mp_b64_decode_exact(p->sig, 64, s, n - 1) != 0)
		return -1;
	return 0;
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
mp_sig_base(char *out, size_t outlen, const char *method, const char *path, const char *query,
    const char *digest, const char *params)
{
	int n;

	if (has_ctl(method) || has_ctl(path) || has_ctl(query) || has_ctl(params) ||
	    (digest != NULL && has_ctl(digest)))
		return -1;
	if (digest != NULL)
		n = snprintf(out, outlen,
		    "\"@method\": %s\n\"@path\": %s\n\"@query\": %s\n\"content-digest\": %s\n"
		    "\"@signature-params\": %s",
		    method, path, query, digest, params);
	else
		n = snprintf(out, outlen,
		    "\"@method\": %s\n\"@path\": %s\n\"@query\": %s\n\"@signature-params\": %s",
		    method, path, query, params);
	return (n < 0 || (size_t)n >= outlen) ? -1 : n;
}

int
mp_sig_verify(const struct mp_sig_params *p, const char *base, size_t baselen)
{
	return crypto_sign_verify_detached(p->sig, (const uint8_t *)base, baselen, p->sign_pk) == 0
	    ? 0
	    : -1;
}

int
mp_sig_sign(char *sig_input, size_t silen, char *signature, size_t siglen, char *digest,
    size_t dlen, const char *method, const char *path, const char *query, const uint8_t *body,
    size_t bodylen, long long created, const uint8_t sign_pk[32], const uint8_t sign_sk[64])
{
	uint8_t nonce[MP_SIG_NONCE_BYTES], sig[64];
	char nonce_t[MP_B64U_LEN(MP_SIG_NONCE_BYTES)], keyid[MP_B64U_LEN(32)];
	char params[MP_SIG_PARAMS_LEN], sig_t[MP_B64_LEN(64)], *base = NULL;
	int n, rc = -1;

	randombytes_buf(nonce, sizeof nonce);
	if (mp_b64u_encode(nonce_t, sizeof nonce_t, nonce, sizeof nonce) != 0 ||
	    mp_b64u_encode(keyid, sizeof keyid, sign_pk, 32) != 0)
		return -1;
	if (body != NULL) {
		if (mp_sig_digest(digest, dlen, body, bodylen) != 0)
			return -1;
	} else if (dlen > 0) {
		digest[0] = '\0';
	}
	n = snprintf(params, sizeof params,
	    "%s;created=%lld;nonce=\"%s\";keyid=\"%s\";alg=\"ed25519\"",
	    body != NULL ? comps_body : comps_nobody, created, nonce_t, keyid);
	if (n < 0 || (size_t)n >= sizeof params)
		return -1;
	if ((base = malloc(MP_SIG_BASE_MAX)) == NULL)
		return -1;
	if ((n = mp_sig_base(
	         base, MP_SIG_BASE_MAX, method, path, query, body ? digest : NULL, params)) < 0)
		goto out;
	crypto_sign_detached(sig, NULL, (const uint8_t *)base, (unsigned long long)n, sign_sk);
	if (mp_b64_encode(sig_t, sizeof sig_t, sig, sizeof sig) != 0)
		goto out;
	n = snprintf(sig_input, silen, "sig1=%s", params);
	if (n < 0 || (size_t)n >= silen)
		goto out;
	n = snprintf(signature, siglen, "sig1=:%s:", sig_t);
	if (n < 0 || (size_t)n >= siglen)
		goto out;
	rc = 0;
out:
	free(base);
	return rc;
}
