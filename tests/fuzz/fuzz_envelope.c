/* Envelope JSON: the form check, and opening with a fixed key pair. */
#include <sodium.h>
#include <stdint.h>

#include "mp_envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[32];
	static int ready;
	const char *why;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	json_t *env;

	if (!ready) {
		if (sodium_init() < 0)
			return 0;
		crypto_box_keypair(pk, sk);
		ready = 1;
	}
	if ((env = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;
	if (mp_envelope_check(env, &why) == 0 &&
	    mp_envelope_open(&pt, &ptlen, env, "AAAAAAAAAAAAAAAAAAAAAA", pk, sk) == 0)
		mp_envelope_free(pt, ptlen);
	(void)mp_envelope_has_kid(env, "AAAAAAAAAAAAAAAAAAAAAA");
	json_decref(env);
	return 0;
}
