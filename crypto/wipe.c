/* Wipe-on-free for heap blocks whose size the caller no longer knows. */
#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdlib.h>

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
