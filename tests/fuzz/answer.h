/*
 * For the harnesses of the store's channel (fuzz_remote, fuzz_channel,
 * fuzz_keys).  What every answer must be, whatever the call: at least its
 * code, nothing after a failed code, and changes nested no deeper than the
 * store allows (answer_check traps otherwise, then frees the answer).
 */
#ifndef FUZZ_ANSWER_H
#define FUZZ_ANSWER_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp_instance.h"
#include "mp_remote.h"
#include "mp_store.h"
#include "mp_wire.h"

static void
answer_check(struct mp_wbuf *w, int depth)
{
	if (w->len < 4 || w->err)
		__builtin_trap();
	if ((w->p[0] | w->p[1] | w->p[2] | w->p[3]) != 0 && w->len != 4)
		__builtin_trap();
	if (depth < 0 || depth > 8)
		__builtin_trap();
	mp_wire_free(w);
}

/*
 * The store takes a change over a channel only with today's day (or the
 * day before or after it), so the seeds' day, SEED_DAY, stands for today:
 * a copy of data[0..size) with each SEED_DAY made today's date (the same
 * length, so every length field still holds).  Free it with free.
 */
#define SEED_DAY "2026-11-23"

static inline uint8_t *
with_today(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size > 0 ? size : 1);
	char today[11];
	size_t i;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	mp_today(today);
	for (i = 0; i + 10 <= size; i++)
		if (memcmp(copy + i, SEED_DAY, 10) == 0)
			memcpy(copy + i, today, 10);
	return copy;
}

/* The key holder's calls, for harnesses without one: each answers -1. */
static inline int
no_user(void *arg, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out)
{
	(void)arg;
	(void)code;
	(void)in;
	(void)out;
	return -1;
}

/* A store on a new database in a new directory under /tmp named for the harness. */
static inline struct mp_store *
scratch_store(const char *harness)
{
	char dir[64], path[80];
	struct mp_store *st;
	uint8_t key[32];

	snprintf(dir, sizeof dir, "/tmp/mp-fuzz-%s.XXXXXX", harness);
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/db", dir);
	randombytes_buf(key, sizeof key);
	if (mp_store_create(path, key) != 0 || mp_store_open(&st, path, key) != 0)
		abort();
	return st;
}

#endif
