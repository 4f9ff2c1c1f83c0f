/* Wipe-on-free for heap blocks whose size the caller no longer knows; locked blocks for plaintexts. */
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mp_wipe.h"

void
mp_wipe_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void
mp_wipe_json(void)
{
	json_set_alloc_funcs(malloc, mp_wipe_free);
}

/*
 * A locked block starts with its size (a 64-byte header keeps what follows
 * aligned); the size is a multiple of 64 so that sodium_malloc's block ends
 * right at its guard page.
 */
#define HEADER 64
#define SPARE_MIN (16 * 1024)   /* a padded message or report fits */
#define SPARE_MAX (1024 * 1024) /* larger blocks are given back at once */

static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void
spare_release(void *p)
{
	sodium_free(p);
}

static void
spare_init(void)
{
	if (pthread_key_create(&spare_key, spare_release) != 0)
		abort();
}

void *
mp_locked_alloc(size_t n)
{
	unsigned char *p;
	size_t cap;

	pthread_once(&spare_once, spare_init);
	if (n > SIZE_MAX - HEADER - 64)
		return NULL;
	if ((p = pthread_getspecific(spare_key)) != NULL) {
		memcpy(&cap, p, sizeof cap);
		if (cap - HEADER >= n) {
			pthread_setspecific(spare_key, NULL);
			return p + HEADER;
		}
	}
	cap = (n + HEADER + 63) & ~(size_t)63;
	if (cap < SPARE_MIN)
		cap = SPARE_MIN;
	if ((p = sodium_malloc(cap)) == NULL)
		return NULL;
	memcpy(p, &cap, sizeof cap);
	return p + HEADER;
}

void
mp_locked_free(void *q)
{
	unsigned char *p, *old;
	size_t cap, oldcap;

	if (q == NULL)
		return;
	p = (unsigned char *)q - HEADER;
	memcpy(&cap, p, sizeof cap);
	sodium_memzero(q, cap - HEADER);
	if (cap <= SPARE_MAX) {
		/* Keep the larger of the two. */
		if ((old = pthread_getspecific(spare_key)) != NULL) {
			memcpy(&oldcap, old, sizeof oldcap);
			if (oldcap >= cap) {
				sodium_free(p);
				return;
			}
		}
		if (pthread_setspecific(spare_key, p) == 0) {
			if (old != NULL)
				sodium_free(old);
			return;
		}
	}
	sodium_free(p);
}
