/*
 * token [SECONDS]: what a report's receipt and a follow-up's opening cost,
 * on one core.  For a third of SECONDS (default 3 in all) each: the
 * follow-up token as the report route makes it (mp_token_new, its text
 * form, lookup, tag under the pepper, the reporter's box key pair); the QR
 * code SVG of its follow-up URL (the server's qr_svg); and a follow-up's
 * cryptography (the token parsed, its lookup, the reporter's key pair, and
 * two caseworker messages opened with it, each sealed to three caseworkers
 * and the reporter).  Prints one line of key=value pairs: microseconds for
 * each, and the SVG's size.
 */
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mp_envelope.h"
#include "mp_token.h"

/* server/qr.c, in libmeldpunt.a; its header is the server's private one. */
char *qr_svg(const char *text);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One report's token work, as server/public.c token_issue does it. */
static int
issue(const uint8_t pepper[32], char text[MP_TOKEN_TEXT_LEN + 1], uint8_t tag[32], uint8_t pk[32])
{
	uint8_t t[MP_TOKEN_BYTES], lookup[32], sk[32];
	int rc;

	mp_token_new(t);
	mp_token_format(text, t);
	mp_token_lookup(lookup, t);
	mp_token_tag(tag, pepper, lookup);
	rc = mp_token_reporter_keypair(pk, sk, t);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(t, sizeof t);
	sodium_memzero(lookup, sizeof lookup);
	return rc;
}

/*
 * A follow-up's cryptography for token text, as server/public.c does it,
 * for secs: seconds taken, and *n follow-ups; -1 on failure.
 */
static double
followups(const char *text, double secs, long *n)
{
	static const char msg[] =
	    "{\"text\":\"Dank voor uw melding. We nemen binnen een week contact "
	    "met u op.\",\"from\":\"caseworker\"}";
	struct mp_box_pk rcpt[4];
	uint8_t t[MP_TOKEN_BYTES], lookup[32], pk[32], sk[32], csk[32], *pt;
	json_t *env[2];
	size_t ptlen, i;
	double t0, took;

	if (mp_token_parse(t, text, strlen(text)) != 0 ||
	    mp_token_reporter_keypair(rcpt[3].pk, sk, t) != 0)
		return -1;
	for (i = 0; i < 3; i++)
		crypto_box_keypair(rcpt[i].pk, csk);
	for (i = 0; i < 2; i++)
		if ((env[i] = mp_envelope_seal("message", "AAAAAAAAAAAAAAAAAAAAAA",
		         (const uint8_t *)msg, strlen(msg), rcpt, 4)) == NULL)
			return -1;
	t0 = now();
	do {
		for (i = 0; i < 32; i++, (*n)++) {
			if (mp_token_parse(t, text, strlen(text)) != 0)
				return -1;
			mp_token_lookup(lookup, t);
			if (mp_token_reporter_keypair(pk, sk, t) != 0)
				return -1;
			for (size_t k = 0; k < 2; k++) {
				if (mp_envelope_open(
				        &pt, &ptlen, env[k], "AAAAAAAAAAAAAAAAAAAAAA", pk, sk) != 0)
					return -1;
				mp_envelope_free(pt, ptlen);
			}
		}
		took = now() - t0;
	} while (took < secs);
	json_decref(env[0]);
	json_decref(env[1]);
	sodium_memzero(sk, sizeof sk);
	return took;
}

int
main(int argc, char **argv)
{
	uint8_t pepper[32], tag[32], pk[32];
	char text[MP_TOKEN_TEXT_LEN + 1], url[128], *svg;
	double secs = (argc > 1 ? atof(argv[1]) : 3.0) / 3, t0, ttok, tqr, tfol;
	long ntok = 0, nqr = 0, nfol = 0;
	size_t svglen = 0;
	cpu_set_t one;
	int i;

	if (sodium_init() < 0 || secs <= 0)
		return 1;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof one, &one);
	randombytes_buf(pepper, sizeof pepper);
	t0 = now();
	do {
		for (i = 0; i < 64; i++, ntok++)
			if (issue(pepper, text, tag, pk) != 0)
				return 1;
		ttok = now() - t0;
	} while (ttok < secs);
	t0 = now();
	do {
		for (i = 0; i < 16; i++, nqr++) {
			if (issue(pepper, text, tag, pk) != 0)
				return 1;
			snprintf(url, sizeof url, "http://127.0.0.1:8080/f#%s", text);
			if ((svg = qr_svg(url)) == NULL)
				return 1;
			svglen = strlen(svg);
			free(svg);
		}
		tqr = now() - t0;
	} while (tqr < secs);
	tfol = followups(text, secs, &nfol);
	if (tfol < 0)
		return 1;
	/* The QR loop made a token each time too; its share is taken off. */
	printf("token token_us=%.2f qr_us=%.1f qr_svg_bytes=%zu followup_us=%.1f\n",
	    ttok * 1e6 / (double)ntok, tqr * 1e6 / (double)nqr - ttok * 1e6 / (double)ntok, svglen,
	    tfol * 1e6 / (double)nfol);
	return 0;
}
