/*
 * The store's side of the channel between meldpuntd's processes
 * (store/serve.c): whatever bytes a compromised HTTP worker sends as a call,
 * the store answers with a well-formed answer, never crashes or leaks,
 * never lets a change end that the channel did not begin, and stays usable.
 * Every input is one call on a real SQLCipher database; a change the input
 * leaves open is undone, as when a channel closes.
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

static int
user(void *arg, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out)
{
	(void)arg;
	(void)code;
	(void)in;
	(void)out;
	return -1;
}

static void
setup(void)
{
	char dir[] = "/tmp/mp-fuzz-remote.XXXXXX", path[64];
	uint8_t key[32];

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/db", dir);
	randombytes_buf(key, sizeof key);
	if (mp_store_create(path, key) != 0 || mp_store_open(&st, path, key) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_wbuf w;
	uint64_t n;
	int depth = 0;

	if (st == NULL)
		setup();
	mp_store_answer(st, data, size, &w, &depth, user, NULL);
	answer_check(&w, depth);
	while (depth-- > 0)
		mp_store_end(st, 0);
	if (mp_store_log_size(st, &n) != 0)
		__builtin_trap();
	return 0;
}
