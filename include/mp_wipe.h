/*
 * mp_wipe - memory that held a person's words is wiped when it is freed.
 * jansson's allocations (parsed bodies, dumped plaintexts) go through
 * mp_wipe_free, which zeroes the whole block before freeing it.
 */
#ifndef MP_WIPE_H
#define MP_WIPE_H

#include <stddef.h>

/* free(p) after zeroing every usable byte of the block. */
void mp_wipe_free(void *p);

/* Route jansson's allocations through mp_wipe_free; call once at start. */
void mp_wipe_json(void);

#endif
