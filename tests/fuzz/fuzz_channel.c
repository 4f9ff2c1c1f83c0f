/*
 * The store's side of one channel over a sequence of calls (store/serve.c),
 * as a compromised HTTP worker could send them: changes begun, made, ended
 * and refused in any order and number, which one call at a time (fuzz_remote)
 * cannot reach.  An input is up to 16 calls, each a 2-byte length
 * (little-endian) and that many bytes of message.  After every call the
 * answer is well formed and the channel's depth is in range; after the
 * sequence the changes it left open are undone, as when a channel closes,
 * and the store is usable: every 16th input, a change of its own is stored
 * and read back.  The seeds' day stands for today (answer.h).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp_instance.h"
#include "mp_remote.h"
#include "mp_store.h"
#include "mp_wire.h"

#include "answer.h"

#define CALLS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mp_store *st;

/* A change of the store's own, stored and read back: the sequence left the writer free. */
static void
usable(void)
{
	struct mp_collective made, got;
	char today[11];

	mp_today(today);
	if (mp_store_collective_create(st, "fuzz", today, &made) != 0 ||
	    mp_store_collective_get(st, made.id, &got) != 0 || strcmp(got.id, made.id) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned inputs;
	struct mp_wbuf w;
	uint8_t *seq, *p, *end;
	size_t n;
	uint64_t before, after;
	int depth = 0, calls;

	if (st == NULL)
		st = scratch_store("channel");
	if (mp_store_log_size(st, &before) != 0)
		__builtin_trap();
	seq = with_today(data, size);
	p = seq;
	end = seq + size;
	for (calls = 0; calls < CALLS && end - p >= 2; calls++) {
		n = (size_t)p[0] | (size_t)p[1] << 8;
		p += 2;
		if (n > (size_t)(end - p))
			n = (size_t)(end - p);
		mp_store_answer(st, p, n, &w, &depth, no_user, NULL);
		/* FX_TRACE=1: each call's answer code, to see how far the seeds reach. */
		if (getenv("FX_TRACE") != NULL && w.len >= 4)
			fprintf(stderr, "call %d: answer %d, depth %d\n", calls,
			    (int)(w.p[0] | w.p[1] << 8 | w.p[2] << 16 | (uint32_t)w.p[3] << 24),
			    depth);
		answer_check(&w, depth);
		p += n;
	}
	free(seq);
	while (depth-- > 0)
		mp_store_end(st, 0);
	/* The log only grows: what a sequence undid never took a leaf back. */
	if (mp_store_log_size(st, &after) != 0 || after < before)
		__builtin_trap();
	if (++inputs % 16 == 0)
		usable();
	return 0;
}
