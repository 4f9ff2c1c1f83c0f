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

/*
 * Locked, guarded memory (sodium_malloc) for an opened or padded plaintext,
 * without a system call for every one: each thread keeps the block it last
 * freed, wiped, and hands it out again when it is big enough.  (A fresh
 * sodium_malloc maps pages and changes their protection, and sodium_free
 * unmaps them; in a process with many threads each such change stops every
 * core to flush its address cache.)  mp_locked_free wipes the whole block.
 */
void *mp_locked_alloc(size_t n);
void mp_locked_free(void *p);

#endif
