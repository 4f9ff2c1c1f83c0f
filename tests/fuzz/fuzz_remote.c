/*
 * The store's side of the channel between meldpuntd's processes
 * (store/serve.c): whatever bytes a compromised HTTP worker sends as a call,
 * the store answers with a well-formed answer, never crashes or leaks,
 * never lets a change end that the channel did not begin, and stays usable.
 * Every input is one call on a real SQLCipher database; a change the input
 * leaves open is undone, as when a channel closes.  The seeds' day stands
 * for today (answer.h).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp_remote.h"
#include "mp_store.h"
#include "mp_wire.h"

#include "answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mp_store *st;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_wbuf w;
	uint64_t n;
	uint8_t *msg;
	int depth = 0;

	if (st == NULL)
		st = scratch_store("remote");
	msg = with_today(data, size);
	mp_store_answer(st, msg, size, &w, &depth, no_user, NULL);
	free(msg);
	answer_check(&w, depth);
	while (depth-- > 0)
		mp_store_end(st, 0);
	if (mp_store_log_size(st, &n) != 0)
		__builtin_trap();
	return 0;
}
