/*
 * seal [SECONDS]: the limit for sealing.  Seals a 2 KB report plaintext for
 * 3 recipients with mp_envelope_seal (PROTOCOL.md section 3: a fresh item
 * key, XChaCha20-Poly1305 over the padded plaintext, one crypto_box_seal
 * per recipient) in a loop on one core for SECONDS (default 3).
 * Prints one line of key=value pairs: seals per second, microseconds per
 * seal, the envelope's size in its text form, and libsodium's version.
 */
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mp_envelope.h"

#define PTLEN 2048
#define NRCPT 3

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct mp_box_pk rcpt[NRCPT];
	uint8_t sk[32], pt[PTLEN];
	const char *case_id = "Q2FzZUlkRm9yVGhlQmVuY2";
	double secs = argc > 1 ? atof(argv[1]) : 3.0, t0, t;
	size_t i, envlen;
	long n = 0;
	cpu_set_t one;
	json_t *env;
	char *text;

	if (sodium_init() < 0 || secs <= 0)
		return 1;
	/* One core: the figure is what one request's sealing costs, not the machine's total. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof one, &one);
	for (i = 0; i < NRCPT; i++)
		crypto_box_keypair(rcpt[i].pk, sk);
	sodium_memzero(sk, sizeof sk);
	/* A plausible report's JSON: printable text of the size a long description gives. */
	for (i = 0; i < PTLEN; i++)
		pt[i] = (uint8_t)(' ' + randombytes_uniform(95));
	if ((env = mp_envelope_seal("report", case_id, pt, PTLEN, rcpt, NRCPT)) == NULL ||
	    (text = json_dumps(env, JSON_COMPACT)) == NULL)
		return 1;
	envlen = strlen(text);
	free(text);
	json_decref(env);
	t0 = now();
	do {
		for (i = 0; i < 64; i++, n++) {
			if ((env = mp_envelope_seal("report", case_id, pt, PTLEN, rcpt, NRCPT)) ==
			    NULL)
				return 1;
			json_decref(env);
		}
		t = now() - t0;
	} while (t < secs);
	printf("seal per_s=%.0f us=%.1f envelope_bytes=%zu sodium=%s\n", (double)n / t,
	    t * 1e6 / (double)n, envlen, sodium_version_string());
	return 0;
}
