/*
 * Envelope JSON: the form check, and opening with a fixed key pair (the
 * seed "opens" is sealed to it).  The text reader (mp_envelope_check_text,
 * mp_envelope_open_text) must give exactly what jansson's object of the
 * same text gives, to the byte of the plaintext.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CASE "AAAAAAAAAAAAAAAAAAAAAA"
/* A kid and a sealed key (80 bytes) of the right form for the share check. */
#define SEALED \
	"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[32];
	static int ready;
	const char *why = NULL, *twhy = NULL;
	uint8_t *pt = NULL, *tpt = NULL, seed[32];
	size_t ptlen = 0, tptlen = 0;
	static const char *const kid = "QkJCQkJCQkJCQkJCQkJCQg";
	json_t *env, *obj;
	int crc = -1, orc = -1, tcrc, torc;

	if (!ready) {
		if (sodium_init() < 0)
			return 0;
		memset(seed, 0x5e, sizeof seed);
		crypto_box_seed_keypair(pk, sk, seed);
		ready = 1;
	}
	if ((env = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) != NULL) {
		if (mp_envelope_check(env, &why) == 0 &&
		    mp_envelope_open(&pt, &ptlen, env, CASE, pk, sk) == 0)
			mp_envelope_free(pt, ptlen);
		(void)mp_envelope_has_kid(env, "AAAAAAAAAAAAAAAAAAAAAA");
		json_decref(env);
	}

	/* The text reader against the object jansson makes of the text (the last of a key kept). */
	pt = NULL;
	ptlen = 0;
	why = NULL;
	if ((obj = json_loadb((const char *)data, size, 0, NULL)) != NULL) {
		crc = mp_envelope_check(obj, &why);
		orc = mp_envelope_open(&pt, &ptlen, obj, CASE, pk, sk);
	}
	tcrc = mp_envelope_check_text((const char *)data, size, &twhy);
	torc = mp_envelope_open_text(&tpt, &tptlen, (const char *)data, size, CASE, pk, sk);
	if (tcrc != crc || torc != orc || (obj != NULL && (why == NULL) != (twhy == NULL)) ||
	    (why != NULL && twhy != NULL && strcmp(why, twhy) != 0) ||
	    (orc == 0 && (tptlen != ptlen || memcmp(tpt, pt, ptlen) != 0)))
		__builtin_trap();
	/*
	 * A share's check: the text with one recipient added grows from it
	 * when the text is an envelope with room and without that kid; the
	 * text never grows from itself.
	 */
	if (mp_envelope_grows((const char *)data, size, (const char *)data, size, &kid, 1) == 0)
		__builtin_trap();
	if (obj != NULL && json_is_object(obj) &&
	    json_is_array(json_object_get(obj, "recipients"))) {
		json_t *g = json_deep_copy(obj);
		char *grown;
		int expect;

		json_array_append_new(json_object_get(g, "recipients"),
		    json_pack("{s:s, s:s}", "kid", kid, "sealed", SEALED));
		expect = crc == 0 && mp_envelope_has_kid(obj, kid) == 0 &&
		    json_array_size(json_object_get(obj, "recipients")) <
		        MP_ENVELOPE_MAX_RECIPIENTS;
		if ((grown = json_dumps(g, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL &&
		    (mp_envelope_grows((const char *)data, size, grown, strlen(grown), &kid, 1) ==
		        0) != expect)
			__builtin_trap();
		free(grown);
		json_decref(g);
	}
	if (orc == 0)
		mp_envelope_free(pt, ptlen);
	if (torc == 0)
		mp_envelope_free(tpt, tptlen);
	json_decref(obj);
	return 0;
}
